import type { Money } from '../domain/shared/values.js';
import { CircuitOpenError } from './circuitBreaker.js';

/** The gateway's answer to an authorization: approved with its reference, or declined with a reason. */
export type AuthorizationResult = { outcome: 'APPROVED'; reference: string } | { outcome: 'DECLINED'; reason: string };

/**
 * The payment gateway port. Every call carries an idempotency key (the order id): a repeated call returns the first
 * call's result and never charges twice, as real providers (Stripe, Adyen) do.
 */
export type PaymentGateway = {
  /** Authorizes `amount` on the payment `token`. Throws {@link PaymentGatewayUnavailableError} when it may pass. */
  authorize(request: { idempotencyKey: string; token: string; amount: Money }): Promise<AuthorizationResult>;
  /** Refunds an earlier authorization in full. Repeating it refunds nothing more. */
  refund(request: { idempotencyKey: string; reference: string; amount: Money }): Promise<{ reference: string }>;
  /**
   * Gives up the payment of `idempotencyKey` without knowing whether it was ever authorized, as when an
   * authorization's answer was lost (Adyen's "technical cancel" by merchant reference): an approval under the key
   * is refunded in full, and any later authorize under the key is declined (`voided`). Repeating it does nothing
   * more and answers the same.
   */
  voidAuthorization(request: { idempotencyKey: string }): Promise<VoidResult>;
};

/** What a void found: nothing approved under the key, or the approval it refunded. */
export type VoidResult =
  | { outcome: 'NOTHING_AUTHORIZED' }
  | { outcome: 'REFUNDED'; authorization: { reference: string; amount: Money }; refundReference: string };

/** The gateway did not answer, or answered that it cannot now: retry later, with the same idempotency key. */
export class PaymentGatewayUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PaymentGatewayUnavailableError';
  }
}

/**
 * `gateway` with its authorizations behind a circuit breaker (application/circuitBreaker.ts): while the gateway is
 * down, authorize fails fast with `CircuitOpenError` and the saga parks the order instead of calling a dead gateway.
 * The breaker counts only {@link PaymentGatewayUnavailableError} as a failure: a decline is the gateway's answer.
 *
 * Refunds and voids go straight to the gateway. They give money back, and their callers (a cancellation's
 * compensation, the catch-all, the sweeper) have no wait to park in: failing them fast only spent their bounded
 * retries while the breaker was open, and left cancelled orders' payments authorized in the failure queue, even when
 * the breaker had opened on a few flaky authorizations and the gateway answered refunds all along.
 */
export const guardedPaymentGateway = (
  gateway: PaymentGateway,
  breaker: { call<T>(call: () => Promise<T>): Promise<T> },
): PaymentGateway => ({
  authorize: (request) => breaker.call(() => gateway.authorize(request)),
  refund: (request) => gateway.refund(request),
  voidAuthorization: (request) => gateway.voidAuthorization(request),
});

/** The name of the payment gateway's circuit: its item in the circuits table, and its metrics' `circuit`. */
export const PAYMENT_CIRCUIT = 'payment-gateway';

/** What the payment gateway's breaker counts as a failure. */
export const isGatewayFailure = (error: unknown): boolean => error instanceof PaymentGatewayUnavailableError;

/**
 * Whether a gateway call failed because the gateway cannot answer now (it refused or timed out, or its breaker is
 * open), as opposed to a real failure that waiting will not mend (a refused request, a defect, a table error). What
 * meets the first may wait for the gateway; the second must surface.
 */
export const isGatewayUnavailable = (error: unknown): error is PaymentGatewayUnavailableError | CircuitOpenError =>
  error instanceof PaymentGatewayUnavailableError || error instanceof CircuitOpenError;
