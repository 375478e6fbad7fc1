import * as z from 'zod';
import { CustomerId, OrderId } from '../shared/values.js';
import { OrderLine, OutOfStock, RejectionReason } from './events.js';

export const PlaceOrder = z.strictObject({
  type: z.literal('PlaceOrder'),
  data: z.strictObject({
    orderId: OrderId,
    customerId: CustomerId,
    lines: z.array(OrderLine).min(1).max(50),
    paymentToken: z.string().min(1).max(256),
  }),
});
export type PlaceOrder = z.infer<typeof PlaceOrder>;

/** The saga reserves every line's units of a PENDING order, once. */
export const ReserveStock = z.strictObject({
  type: z.literal('ReserveStock'),
  data: z.strictObject({ orderId: OrderId }),
});
export type ReserveStock = z.infer<typeof ReserveStock>;

export const ConfirmOrder = z.strictObject({
  type: z.literal('ConfirmOrder'),
  data: z.strictObject({ orderId: OrderId }),
});
export type ConfirmOrder = z.infer<typeof ConfirmOrder>;

export const RejectOrder = z.strictObject({
  type: z.literal('RejectOrder'),
  data: z.strictObject({ orderId: OrderId, reason: RejectionReason, outOfStock: OutOfStock.optional() }),
});
export type RejectOrder = z.infer<typeof RejectOrder>;

export const CancelOrder = z.strictObject({
  type: z.literal('CancelOrder'),
  data: z.strictObject({ orderId: OrderId }),
});
export type CancelOrder = z.infer<typeof CancelOrder>;

/** The saga parks the payment step of a PENDING order until `until` at the latest: see `PaymentAwaited`. */
export const AwaitPayment = z.strictObject({
  type: z.literal('AwaitPayment'),
  data: z.strictObject({ orderId: OrderId, since: z.iso.datetime(), until: z.iso.datetime() }),
});
export type AwaitPayment = z.infer<typeof AwaitPayment>;

export const OrderCommand = z.discriminatedUnion('type', [
  PlaceOrder,
  ReserveStock,
  ConfirmOrder,
  RejectOrder,
  CancelOrder,
  AwaitPayment,
]);
export type OrderCommand = z.infer<typeof OrderCommand>;
