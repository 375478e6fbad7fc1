import * as z from 'zod';
import { Money, OrderId } from '../shared/values.js';

/** Records the gateway's approval. The gateway call itself happens outside the domain, keyed by the order id. */
export const AuthorizePayment = z.strictObject({
  type: z.literal('AuthorizePayment'),
  data: z.strictObject({ orderId: OrderId, amount: Money, gatewayReference: z.string().min(1).max(256) }),
});
export type AuthorizePayment = z.infer<typeof AuthorizePayment>;

export const DeclinePayment = z.strictObject({
  type: z.literal('DeclinePayment'),
  data: z.strictObject({ orderId: OrderId, amount: Money, reason: z.string().min(1).max(500) }),
});
export type DeclinePayment = z.infer<typeof DeclinePayment>;

export const RefundPayment = z.strictObject({
  type: z.literal('RefundPayment'),
  data: z.strictObject({ orderId: OrderId }),
});
export type RefundPayment = z.infer<typeof RefundPayment>;

export const PaymentCommand = z.discriminatedUnion('type', [AuthorizePayment, DeclinePayment, RefundPayment]);
export type PaymentCommand = z.infer<typeof PaymentCommand>;
