import { stepFunctionsParking } from '../adapters/compensationParking.js';
import { type OrderState, orderStreamId } from '../domain/order/index.js';
import { compensationStateMachineArn, foldOrder } from './orderReport.js';
import type { StageClients } from './stage.js';

export type CompensateOutcome =
  | { outcome: 'STARTED' | 'RUNNING_ALREADY' }
  | { outcome: 'NOT_SETTLED'; status: OrderState['status'] }
  | { outcome: 'NO_SUCH_ORDER' };

/**
 * `npm run order -- <orderId> --compensate`: parks a compensation for a rejected or cancelled order, as its give-up or
 * cancellation would have, for one whose compensation was lost (it failed, or a stack was stopped under it). It voids
 * or refunds the payment once the gateway answers, and does nothing where nothing is left to undo, so starting one
 * too many costs nothing.
 */
export const compensateOrder = async (clients: StageClients, orderId: string): Promise<CompensateOutcome> => {
  const events = await clients.store.readStream(orderStreamId(orderId));
  const { status } = foldOrder(events).state;
  if (status === 'NONE') return { outcome: 'NO_SUCH_ORDER' };
  if (status !== 'REJECTED' && status !== 'CANCELLED') return { outcome: 'NOT_SETTLED', status };
  const parking = stepFunctionsParking({
    client: clients.sfn,
    stateMachineArn: await compensationStateMachineArn(clients),
  });
  const started = await parking.park({
    orderId,
    // The settling event's conversation: the cancellation's, or the give-up's.
    correlationId: events.at(-1)?.metadata.correlationId ?? orderId,
    kind: status === 'CANCELLED' ? 'CANCELLATION' : 'GIVE_UP',
  });
  return { outcome: started ? 'STARTED' : 'RUNNING_ALREADY' };
};
