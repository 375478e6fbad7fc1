import * as z from 'zod';
import { CustomerId, Money, OrderId, ProductName, Quantity, Sku } from '../shared/values.js';

/**
 * A line as placed: the unit price and the name are the product's at placement, never the client's, and a later price
 * or name leaves them as they were (ADR 0030). Lines placed before names were recorded have none.
 */
export const OrderLine = z.strictObject({
  sku: Sku,
  name: ProductName.optional(),
  quantity: Quantity,
  unitPrice: Money,
});
export type OrderLine = z.infer<typeof OrderLine>;

/**
 * Why the saga rejected an order. `UNAVAILABLE`: a step failed for good (its retries ran out, it timed out, or the
 * saga vanished), so the order was given up and everything it held given back, by the saga's catch-all or the sweeper.
 * `PAYMENT_UNAVAILABLE`: the payment gateway stayed unavailable past the order's bound on waiting for it (ADR 0007).
 */
export const RejectionReason = z.enum(['OUT_OF_STOCK', 'PAYMENT_DECLINED', 'PAYMENT_UNAVAILABLE', 'UNAVAILABLE']);
export type RejectionReason = z.infer<typeof RejectionReason>;

export const OrderPlaced = z.strictObject({
  type: z.literal('OrderPlaced'),
  data: z.strictObject({
    orderId: OrderId,
    customerId: CustomerId,
    lines: z.array(OrderLine).min(1),
    total: Money,
    paymentToken: z.string().min(1),
  }),
});
export type OrderPlaced = z.infer<typeof OrderPlaced>;

/** A line's units as the stock knows them: which SKU, how many. */
export const StockLine = z.strictObject({ sku: Sku, quantity: Quantity });
export type StockLine = z.infer<typeof StockLine>;

/**
 * The saga reserved the order's units, all lines at once: each SKU's stock balance moved them from available to
 * reserved in the same write that appended this event. From here until the order settles, it holds them.
 */
export const StockReserved = z.strictObject({
  type: z.literal('StockReserved'),
  data: z.strictObject({ orderId: OrderId, lines: z.array(StockLine).min(1) }),
});
export type StockReserved = z.infer<typeof StockReserved>;

/**
 * The order is confirmed, and the units it held reserved are sold (the same write moves each SKU's balance).
 * `confirmedAt`: when, which a customer's cancellation is held to; confirmations recorded before it was have none.
 */
export const OrderConfirmed = z.strictObject({
  type: z.literal('OrderConfirmed'),
  data: z.strictObject({ orderId: OrderId, confirmedAt: z.iso.datetime().optional() }),
});
export type OrderConfirmed = z.infer<typeof OrderConfirmed>;

/**
 * The SKUs of an order's lines found short when it was rejected `OUT_OF_STOCK`, so a client can say which: its
 * placement checks each of them in the same write (ADR 0014). A line whose stock placement had not yet learned of may
 * be short too and go unnamed. Orders rejected before it was recorded have none.
 */
export const OutOfStock = z.array(Sku).min(1).max(50);
export type OutOfStock = z.infer<typeof OutOfStock>;

/** The order is rejected; any units it held reserved are back to available stock in the same write. */
export const OrderRejected = z.strictObject({
  type: z.literal('OrderRejected'),
  data: z.strictObject({ orderId: OrderId, reason: RejectionReason, outOfStock: OutOfStock.optional() }),
});
export type OrderRejected = z.infer<typeof OrderRejected>;

/**
 * The order is cancelled; whatever units it held, reserved (`previousStatus` PENDING) or sold (CONFIRMED), are back
 * to available stock in the same write.
 */
export const OrderCancelled = z.strictObject({
  type: z.literal('OrderCancelled'),
  data: z.strictObject({ orderId: OrderId, previousStatus: z.enum(['PENDING', 'CONFIRMED']) }),
});
export type OrderCancelled = z.infer<typeof OrderCancelled>;

/**
 * The saga parked the order's payment step: the gateway is unavailable, so the order waits for it, PENDING with its
 * stock reserved, from `since` until `until` at the latest. Recorded once, the first time the step is parked.
 */
export const PaymentAwaited = z.strictObject({
  type: z.literal('PaymentAwaited'),
  data: z.strictObject({ orderId: OrderId, since: z.iso.datetime(), until: z.iso.datetime() }),
});
export type PaymentAwaited = z.infer<typeof PaymentAwaited>;

export const OrderEvent = z.discriminatedUnion('type', [
  OrderPlaced,
  StockReserved,
  OrderConfirmed,
  OrderRejected,
  OrderCancelled,
  PaymentAwaited,
]);
export type OrderEvent = z.infer<typeof OrderEvent>;
