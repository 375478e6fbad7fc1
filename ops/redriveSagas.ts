import type { CompensationParking } from '../application/saga.js';
import { orderStreamId } from '../domain/order/index.js';
import type { EventStore } from '../eventstore/types.js';
import type { SagaConsumer } from '../functions/streams/parkUnreadable.js';
import type { ParkedStream, ParkingLot } from '../projections/ports.js';
import { describeFailure } from '../projections/projection.js';
import { type SagaStart, type StartExecution, startOrderSaga } from './startSaga.js';

/** What redriving one stream a saga consumer parked did; `detail` says it in words. */
export type SagaRedriveResult = {
  consumer: SagaConsumer;
  streamId: string;
  outcome: 'completed' | 'parked-again';
  detail: string;
};

const startDetail: { [K in SagaStart['outcome']]: (start: Extract<SagaStart, { outcome: K }>) => string } = {
  STARTED: ({ executionArn }) => `saga started: ${executionArn}`,
  ALREADY_STARTED: () => 'its saga was started already',
  NOT_PENDING: ({ status }) => `the order is ${status}: no saga to start`,
  NO_STOCK_HELD: () => 'the order holds no stock: no saga to start',
  NO_SUCH_ORDER: () => 'no such order',
};

/** Whatever the start says, in words (a mapped type the compiler cannot narrow by itself). */
const describeStart = (start: SagaStart): string => (startDetail[start.outcome] as (s: SagaStart) => string)(start);

/**
 * Does what a saga consumer could not do for a change whose events it could not read (functions/streams/
 * parkUnreadable.ts), now that they can be read again: `startSaga`'s parked streams get their order's saga started
 * (as `npm run order -- <id> --start-saga` does; an order no longer PENDING has none to start), and
 * `compensateCancellation`'s get their cancelled order's compensation started in the compensation state machine,
 * which voids or refunds the payment (idempotent; it waits there while the gateway is down). A stream still
 * unreadable is parked again. Before the read models are redriven: an order's saga is running by the time its view
 * shows it PENDING, so the sweeper leaves it to the saga rather than reject it.
 */
export const redriveSagas = async (
  {
    parking,
    store,
    startSaga,
    parkCompensation,
  }: {
    parking: ParkingLot;
    store: EventStore;
    startSaga: StartExecution;
    parkCompensation: CompensationParking['park'];
  },
  only?: string,
): Promise<SagaRedriveResult[]> => {
  const work: Record<SagaConsumer, (orderId: string) => Promise<string>> = {
    startSaga: async (orderId) => describeStart(await startOrderSaga(store, orderId, startSaga)),
    compensateCancellation: async (orderId) => {
      const cancelled = (await store.readStream(orderStreamId(orderId))).findLast((e) => e.type === 'OrderCancelled');
      if (!cancelled) return 'the order was not cancelled: nothing to compensate';
      const parked = await parkCompensation({
        orderId,
        correlationId: cancelled.metadata.correlationId,
        kind: 'CANCELLATION',
      });
      return parked ? 'compensation started' : 'its compensation waits already';
    },
  };
  const results: SagaRedriveResult[] = [];
  for (const consumer of Object.keys(work) as SagaConsumer[]) {
    const parked: ParkedStream[] = (await parking.list(consumer)).filter(
      ({ streamId }) => only === undefined || streamId === only,
    );
    for (const entry of parked) {
      const { streamId } = entry;
      await parking.unpark(consumer, streamId);
      try {
        const detail = await work[consumer](streamId.slice(orderStreamId('').length));
        results.push({ consumer, streamId, outcome: 'completed', detail });
      } catch (error) {
        // Still unreadable, or the start failed: parked again, so a later redrive finds it.
        await parking.park({ ...entry, error: describeFailure(error) });
        results.push({ consumer, streamId, outcome: 'parked-again', detail: describeFailure(error) });
      }
    }
  }
  return results;
};
