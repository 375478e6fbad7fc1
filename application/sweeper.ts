import type { CommandContext } from './handleCommand.js';
import type { PaymentGateway } from './paymentGateway.js';
import { type Abandonment, abandonOrder, type CompensationParking } from './saga.js';

/**
 * The orders PENDING since before `cutoff` (an ISO timestamp), oldest first, read a page at a time as they are taken:
 * a sweep that stops early reads no further.
 */
export type PendingOrders = { placedBefore(cutoff: string): AsyncIterable<string> };

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
 * One sweep's orders, in the order it took them; `cutShort` when it stopped (out of time, or at its limit) with more
 * to take; `readError` when reading the pending orders failed part way, after the orders it had taken were done.
 */
export type Sweep = { swept: SweptOrder[]; cutShort: boolean; readError?: unknown };

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
 *
 * It takes orders oldest first, `concurrency` at a time, for as long as `hasTime` says and up to `limit`, rather than a
 * fixed few: after an outage that left thousands of orders PENDING (no saga started for a while, say), each holding
 * its stock, the backlog drains in a few sweeps, and orders that keep failing or keep running cannot fill every sweep
 * and starve the ones behind them.
 */
export const sweepPendingOrders = async ({
  now,
  pendingAfterMs,
  limit,
  concurrency,
  hasTime = () => true,
  pending,
  executions,
  contextFor,
  gateway,
  parking,
}: {
  now: Date;
  pendingAfterMs: number;
  /** Orders one sweep takes at most: its report's bound. */
  limit: number;
  /** Orders given up at once, at most: each is a few DynamoDB requests and maybe a call to the gateway. */
  concurrency: number;
  /** Whether to take another order: false once the invocation's time is nearly spent. */
  hasTime?: () => boolean;
  pending: PendingOrders;
  executions: SagaExecutions;
  /** The command context for the commands given up on the order's behalf (its correlation id, say). */
  contextFor: (orderId: string) => Promise<CommandContext>;
  gateway: PaymentGateway;
  /** Where voiding a payment waits while the gateway is unavailable (the order is rejected meanwhile). */
  parking: CompensationParking;
}): Promise<Sweep> => {
  const cutoff = new Date(now.getTime() - pendingAfterMs).toISOString();
  const sweepOne = async (orderId: string): Promise<SweptOrder> => {
    try {
      if (await executions.running(orderId)) return { orderId, action: 'LEFT_RUNNING' };
      const abandonment = await abandonOrder(orderId, await contextFor(orderId), gateway, parking);
      return abandonment.outcome === 'REJECTED'
        ? { orderId, action: 'ABANDONED', abandonment }
        : { orderId, action: 'ALREADY_SETTLED', abandonment };
    } catch (error) {
      return { orderId, action: 'FAILED', error };
    }
  };
  const swept: Promise<SweptOrder>[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let cutShort = false;
  try {
    for await (const orderId of pending.placedBefore(cutoff)) {
      while (inFlight.size >= Math.max(1, concurrency)) await Promise.race(inFlight);
      if (swept.length >= limit || !hasTime()) {
        cutShort = true;
        break;
      }
      const one = sweepOne(orderId);
      const settled: Promise<unknown> = one.then(() => inFlight.delete(settled));
      inFlight.add(settled);
      swept.push(one);
    }
  } catch (readError) {
    // The orders already taken finish, and are reported, before the failure is: none is left half done unsaid.
    return { swept: await Promise.all(swept), cutShort: true, readError };
  }
  return { swept: await Promise.all(swept), cutShort };
};
