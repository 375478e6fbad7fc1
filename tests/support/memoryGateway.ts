import {
  type AuthorizationResult,
  type PaymentGateway,
  PaymentGatewayUnavailableError,
  type VoidResult,
} from '../../application/paymentGateway.js';
import type { Money } from '../../domain/shared/values.js';

/**
 * A payment gateway in memory, for unit tests only, with the port's promises: idempotent by key, one refund, a void
 * that bars the key. `down` makes every call fail with PaymentGatewayUnavailableError, as an outage does; `calls`
 * records the calls it answered.
 */
export const memoryGateway = () => {
  const keys = new Map<string, { result?: AuthorizationResult; amount?: Money; refunded: boolean; voided: boolean }>();
  const calls: string[] = [];
  const outage = { down: false };
  const entry = (key: string) => {
    let found = keys.get(key);
    if (!found) keys.set(key, (found = { refunded: false, voided: false }));
    return found;
  };
  const answer = (call: string) => {
    if (outage.down) throw new PaymentGatewayUnavailableError(`the gateway is down (${call} refused)`);
    calls.push(call);
  };
  const gateway: PaymentGateway = {
    async authorize({ idempotencyKey, amount }) {
      answer(`authorize ${idempotencyKey}`);
      const key = entry(idempotencyKey);
      key.result ??= key.voided
        ? { outcome: 'DECLINED', reason: 'voided' }
        : { outcome: 'APPROVED', reference: `auth-${idempotencyKey}` };
      key.amount ??= amount;
      return key.result;
    },
    async refund({ idempotencyKey }) {
      answer(`refund ${idempotencyKey}`);
      entry(idempotencyKey).refunded = true;
      return { reference: `refund-${idempotencyKey}` };
    },
    async voidAuthorization({ idempotencyKey }): Promise<VoidResult> {
      answer(`void ${idempotencyKey}`);
      const key = entry(idempotencyKey);
      key.voided = true;
      if (key.result?.outcome !== 'APPROVED' || !key.amount) return { outcome: 'NOTHING_AUTHORIZED' };
      const { reference } = await gateway.refund({
        idempotencyKey,
        reference: key.result.reference,
        amount: key.amount,
      });
      return {
        outcome: 'REFUNDED',
        authorization: { reference: key.result.reference, amount: key.amount },
        refundReference: reference,
      };
    },
  };
  return {
    gateway,
    calls,
    keys,
    down: () => void (outage.down = true),
    up: () => void (outage.down = false),
  };
};
