import type { CommandContext } from './handleCommand.js';
import type { PaymentGateway } from './paymentGateway.js';
import { type Abandonment, abandonOrder, type CompensationParking } from './saga.js';

/** The orders PENDING since before `cutoff` (an ISO timestamp), oldest first, at most `limit` of them. */
export type PendingOrders = { placedBefore(cutoff: string, limit: number): Promise<string[]> };

/**
 * Whether the saga execution of an order is still running: `undefined` when the workflow type cannot tell (an
 * EXPRESS execution cannot be described), in which case the sweeper's threshold, longer than the state machine's
 * TimeoutSeconds, is what says it has ended.
 */
export type SagaExecutions = { running(orderId: string): Promise<boolean | undefined> };

/** What the sweeper did with one order it found. */
export type SweptOrder =
  | { orderId: string; action: 'LEFT_RUNNING' }
  | { orderId: string; action: 'ABANDONED'; abandonment: Extract<Abandonment, { outcome: 'REJECTED' }> }
  | { orderId: string; action: 'ALREADY_SETTLED'; abandonment: Extract<Abandonment, { outcome: 'NOT_PENDING' }> }
  | { orderId: string; action: 'FAILED'; error: unknown };

/**
 * One sweep: every order PENDING for longer than `pendingAfterMs` whose saga is not running any more (it failed, timed
 * out, was aborted, or never started) is given up with the saga's own catch-all compensation ({@link abandonOrder}):
 * its payment refunded or voided (or, while the gateway is unavailable, parked until it answers), its stock given
 * back, the order rejected `UNAVAILABLE`. The sweeper never confirms
 * an order, even one whose stock is sold and payment authorized: an order is this late only when a step kept
 * failing, and giving it up is the one outcome that needs none of the steps that may be failing.
 *
 * Idempotent: an order that settled since the index was read is left as it is (`ALREADY_SETTLED`), and a second sweep
 * finds nothing, as a settled order leaves the index. One order failing does not stop the others.
 */
export const sweepPendingOrders = async ({
  now,
  pendingAfterMs,
  limit,
  pending,
  executions,
  contextFor,
  gateway,
  parking,
}: {
  now: Date;
  pendingAfterMs: number;
  limit: number;
  pending: PendingOrders;
  executions: SagaExecutions;
  /** The command context for the commands given up on the order's behalf (its correlation id, say). */
  contextFor: (orderId: string) => Promise<CommandContext>;
  gateway: PaymentGateway;
  /** Where voiding a payment waits while the gateway is unavailable (the order is rejected meanwhile). */
  parking: CompensationParking;
}): Promise<SweptOrder[]> => {
  const cutoff = new Date(now.getTime() - pendingAfterMs).toISOString();
  const swept: SweptOrder[] = [];
  for (const orderId of await pending.placedBefore(cutoff, limit)) {
    try {
      if (await executions.running(orderId)) {
        swept.push({ orderId, action: 'LEFT_RUNNING' });
        continue;
      }
      const abandonment = await abandonOrder(orderId, await contextFor(orderId), gateway, parking);
      swept.push(
        abandonment.outcome === 'REJECTED'
          ? { orderId, action: 'ABANDONED', abandonment }
          : { orderId, action: 'ALREADY_SETTLED', abandonment },
      );
    } catch (error) {
      swept.push({ orderId, action: 'FAILED', error });
    }
  }
  return swept;
};
