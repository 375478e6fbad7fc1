import { load } from '../application/handleCommand.js';
import { orderAggregate, paymentAggregate } from '../application/aggregates.js';
import type { CompensationParking } from '../application/saga.js';
import { orderStreamId } from '../domain/order/index.js';
import { paymentStreamId } from '../domain/payment/index.js';
import type { EventStore } from '../eventstore/types.js';
import { type SagaConsumer, sagaConsumers } from '../functions/streams/sagaConsumers.js';
import type { ParkingLot } from '../projections/ports.js';
import { describeFailure } from '../projections/projection.js';
import { type SagaStarter, startOrderSaga } from './startSaga.js';

/** What redriving one stream a saga consumer parked did; `detail` says it in words. */
export type SagaRedriveResult = {
  consumer: SagaConsumer;
  streamId: string;
  outcome: 'completed' | 'parked-again';
  detail: string;
};

/** A redrive that cannot complete yet, for a reason that is not an error: the entry stays, with this as its error. */
class NotYet extends Error {}

/** Executions of a name that still settle the order, or did: anything else left it to the operator or the sweeper. */
const settling = new Set(['RUNNING', 'SUCCEEDED']);

/**
 * Does what a saga consumer could not do for a change whose events it could not read (functions/streams/
 * parkUnreadable.ts), now that they can be read again: `startSaga`'s parked orders get their saga started (as
 * `npm run order -- <id> --start-saga` does; an order no longer PENDING has none to start), and
 * `compensateCancellation`'s get a compensation started in the compensation state machine, which voids or refunds
 * the payment (idempotent; it waits there while the gateway is down), once the order's and its payment's events read.
 * An entry is unparked only once that is done: one still unreadable, or whose start failed, stays parked with the new
 * error. Before the read models are redriven: an order's saga is running by the time its view shows it PENDING, so
 * the sweeper leaves it to the saga rather than reject it.
 */
export const redriveSagas = async (
  {
    parking,
    store,
    starter,
    parkCompensation,
  }: {
    parking: ParkingLot;
    store: EventStore;
    starter: SagaStarter;
    parkCompensation: CompensationParking['park'];
  },
  only?: string,
): Promise<SagaRedriveResult[]> => {
  const work: Record<SagaConsumer, (orderId: string) => Promise<string>> = {
    startSaga: async (orderId) => {
      const start = await startOrderSaga(store, orderId, starter.start);
      switch (start.outcome) {
        case 'STARTED':
          return `saga started: ${start.executionArn}`;
        case 'ALREADY_STARTED': {
          const status = starter.existing(orderId);
          if (status === undefined || settling.has(status)) return 'its saga was started already';
          throw new NotYet(
            `its saga's execution ended ${status} and the order is still PENDING: redrive that execution ` +
              `(npm run order -- ${orderId} shows it), or the sweeper gives the order up`,
          );
        }
        case 'NOT_PENDING':
          return `the order is ${start.status}: no saga to start`;
        case 'NO_STOCK_HELD':
          return 'the order holds no stock: no saga to start';
        case 'NO_SUCH_ORDER':
          return 'no such order';
      }
    },
    compensateCancellation: async (orderId) => {
      const streamId = orderStreamId(orderId);
      // What the compensation reads, read first as it will (parsed): one still unreadable stays parked here, where
      // the operator looks, rather than fail in the compensation state machine.
      const { state } = await load(store, orderAggregate, streamId);
      await load(store, paymentAggregate, paymentStreamId(orderId));
      if (state.status !== 'CANCELLED') return `the order is ${state.status}: nothing to compensate`;
      const cancelled = (await store.readStream(streamId)).findLast((event) => event.type === 'OrderCancelled');
      if (!cancelled) return 'the order was not cancelled: nothing to compensate';
      const parked = await parkCompensation({
        orderId,
        correlationId: cancelled.metadata.correlationId,
        kind: 'CANCELLATION',
      });
      return parked ? 'compensation started' : 'its compensation waits already';
    },
  };
  const prefix = orderStreamId('');
  const results: SagaRedriveResult[] = [];
  for (const consumer of sagaConsumers) {
    for (const entry of await parking.list(consumer)) {
      const { streamId } = entry;
      if (only !== undefined && streamId !== only) continue;
      try {
        if (!streamId.startsWith(prefix)) throw new NotYet(`${streamId} is not an order's stream: look at it`);
        const detail = await work[consumer](streamId.slice(prefix.length));
        await parking.unpark(consumer, streamId);
        results.push({ consumer, streamId, outcome: 'completed', detail });
      } catch (error) {
        const detail = error instanceof NotYet ? error.message : describeFailure(error);
        // Parked still, with what stopped it now; if even that write fails, the entry stays as it was.
        await parking.park({ ...entry, error: detail }).catch(() => undefined);
        results.push({ consumer, streamId, outcome: 'parked-again', detail });
      }
    }
  }
  return results;
};
