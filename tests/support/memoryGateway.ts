import type { AuthorizationResult, PaymentGateway, VoidResult } from '../../application/paymentGateway.js';
import type { Money } from '../../domain/shared/values.js';

/** A gateway in memory with the port's promises: idempotent by key, one refund, a void that bars the key. */
export const memoryGateway = () => {
  const keys = new Map<string, { result?: AuthorizationResult; amount?: Money; refunded: boolean; voided: boolean }>();
  const calls: string[] = [];
  const entry = (key: string) => {
    let found = keys.get(key);
    if (!found) keys.set(key, (found = { refunded: false, voided: false }));
    return found;
  };
  const gateway: PaymentGateway = {
    async authorize({ idempotencyKey, amount }) {
      calls.push(`authorize ${idempotencyKey}`);
      const key = entry(idempotencyKey);
      key.result ??= key.voided
        ? { outcome: 'DECLINED', reason: 'voided' }
        : { outcome: 'APPROVED', reference: `auth-${idempotencyKey}` };
      key.amount ??= amount;
      return key.result;
    },
    async refund({ idempotencyKey }) {
      calls.push(`refund ${idempotencyKey}`);
      entry(idempotencyKey).refunded = true;
      return { reference: `refund-${idempotencyKey}` };
    },
    async voidAuthorization({ idempotencyKey }): Promise<VoidResult> {
      calls.push(`void ${idempotencyKey}`);
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
  return { gateway, calls, keys };
};
