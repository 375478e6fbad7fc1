import type { CommandContext } from './handleCommand.js';
import { isGatewayUnavailable, type PaymentGateway } from './paymentGateway.js';
import {
  compensateCancellation,
  type CompensationParking,
  nextPaymentWait,
  type PaymentUndone,
  type PaymentWaitPolicy,
  undoOrPark,
  voidSettledPayment,
} from './saga.js';

/** What a cancellation's compensation did as its event arrived: all of it, or parked it. */
export type CancellationCompensation =
  { outcome: 'COMPENSATED'; payment: PaymentUndone } | { outcome: 'PARKED'; alreadyParked: boolean; cause: Error };

/**
 * Runs a cancellation's compensation ({@link compensateCancellation}) as its `OrderCancelled` arrives. When the
 * payment gateway is unavailable (it refused, timed out, or its breaker is open), only the payment waits (the stock
 * came back with the cancellation itself): the compensation is parked, to be retried by
 * {@link retryParkedCompensation} until the gateway answers, instead of spending the stream's few retries and landing
 * in the failure queue. Any other error is a real failure and is thrown, for the stream to retry and, past its
 * retries, to send to the failure queue.
 */
export const compensateOrPark = async (
  orderId: string,
  context: CommandContext,
  gateway: PaymentGateway,
  parking: CompensationParking,
): Promise<CancellationCompensation> => {
  const undone = await undoOrPark(() => compensateCancellation(orderId, context, gateway), {
    orderId,
    context,
    parking,
    kind: 'CANCELLATION',
  });
  return undone.outcome === 'DONE' ? { outcome: 'COMPENSATED', payment: undone.done } : undone;
};

/** What a parked compensation's attempt did: done, wait and try again, or give up (past the bound). */
export type ParkedCompensation =
  | { outcome: 'COMPENSATED'; payment: PaymentUndone }
  | {
      outcome: 'WAIT';
      waitSeconds: number;
      until: string;
      /** What it waits for: the gateway, or the give-up that parked it to reject the order. */
      waitingFor: 'GATEWAY' | 'REJECTION';
    }
  | { outcome: 'GIVE_UP'; waitingFor: 'GATEWAY' | 'REJECTION' };

/**
 * One attempt of a parked compensation: a cancelled order's, or a given-up (REJECTED) order's, payment voided again
 * ({@link voidSettledPayment}; idempotent: a refund is made once). While the gateway is still unavailable, or the
 * order that a give-up parked is not rejected yet, it answers how long to wait, as the saga's parked payment step
 * does: as long as it has waited so far since `parkedAt`, at least the first wait, at most the max, never past the
 * bound; at the bound, GIVE_UP, for an operator to look at. Any other error is thrown.
 */
export const retryParkedCompensation = async (
  orderId: string,
  { parkedAt, now, policy }: { parkedAt: Date; now: Date; policy: PaymentWaitPolicy },
  context: CommandContext,
  gateway: PaymentGateway,
): Promise<ParkedCompensation> => {
  const wait = (waitingFor: 'GATEWAY' | 'REJECTION'): ParkedCompensation => {
    const next = nextPaymentWait({ startedAt: parkedAt, since: parkedAt, now, policy });
    if (next.outcome === 'GIVE_UP') return { ...next, waitingFor };
    return { ...next, until: new Date(parkedAt.getTime() + policy.boundSeconds * 1000).toISOString(), waitingFor };
  };
  try {
    const payment = await voidSettledPayment(orderId, context, gateway);
    return payment === 'STILL_PENDING' ? wait('REJECTION') : { outcome: 'COMPENSATED', payment };
  } catch (error) {
    if (!isGatewayUnavailable(error)) throw error;
    return wait('GATEWAY');
  }
};
