import * as z from 'zod';
import { Money, OrderId } from '../shared/values.js';

/** The gateway's reference for the authorization, kept for refunds and reconciliation. */
const GatewayReference = z.string().min(1).max(256);

export const PaymentAuthorized = z.strictObject({
  type: z.literal('PaymentAuthorized'),
  data: z.strictObject({ orderId: OrderId, amount: Money, gatewayReference: GatewayReference }),
});
export type PaymentAuthorized = z.infer<typeof PaymentAuthorized>;

export const PaymentDeclined = z.strictObject({
  type: z.literal('PaymentDeclined'),
  data: z.strictObject({ orderId: OrderId, amount: Money, reason: z.string().min(1).max(500) }),
});
export type PaymentDeclined = z.infer<typeof PaymentDeclined>;

export const PaymentRefunded = z.strictObject({
  type: z.literal('PaymentRefunded'),
  data: z.strictObject({ orderId: OrderId, amount: Money, gatewayReference: GatewayReference }),
});
export type PaymentRefunded = z.infer<typeof PaymentRefunded>;

export const PaymentEvent = z.discriminatedUnion('type', [PaymentAuthorized, PaymentDeclined, PaymentRefunded]);
export type PaymentEvent = z.infer<typeof PaymentEvent>;
