import * as z from 'zod';
import {
  OrderCancelled,
  OrderConfirmed,
  type OrderEvent,
  OrderPlaced,
  OrderRejected,
  PaymentAwaited,
  StockReserved,
} from './events.js';

// Apart from the events (and from domain/order/index.ts): only the order's history reads it, so no other function
// builds these schemas at its cold start.

/**
 * What each event shows a reader of the order's history (`GET /orders/{orderId}/events`): the fields named here, and
 * no other. The payment token is for the gateway alone; naming what is shown, rather than what is hidden, keeps a field
 * a later event adds (another secret, say) out of the history until someone decides to show it. Each is a stripping
 * object, so what it does not name is dropped, not refused.
 */
export const shownOrderData = {
  OrderPlaced: z.object(
    OrderPlaced.shape.data.pick({ orderId: true, customerId: true, lines: true, total: true }).shape,
  ),
  StockReserved: z.object(StockReserved.shape.data.pick({ orderId: true, lines: true }).shape),
  OrderConfirmed: z.object(OrderConfirmed.shape.data.pick({ orderId: true }).shape),
  OrderRejected: z.object(OrderRejected.shape.data.pick({ orderId: true, reason: true, outOfStock: true }).shape),
  OrderCancelled: z.object(OrderCancelled.shape.data.pick({ orderId: true, previousStatus: true }).shape),
  PaymentAwaited: z.object(PaymentAwaited.shape.data.pick({ orderId: true, since: true, until: true }).shape),
} satisfies { [Type in OrderEvent['type']]: z.ZodObject };

const shown = <Type extends OrderEvent['type']>(type: Type) =>
  z.strictObject({ type: z.literal(type), data: shownOrderData[type] });

export const ShownOrderEvent = z.discriminatedUnion('type', [
  shown('OrderPlaced'),
  shown('StockReserved'),
  shown('OrderConfirmed'),
  shown('OrderRejected'),
  shown('OrderCancelled'),
  shown('PaymentAwaited'),
]);
export type ShownOrderEvent = z.infer<typeof ShownOrderEvent>;

/**
 * An order event as its history shows it: only the fields {@link ShownOrderEvent} names. One this code cannot read
 * (a later version's, after a rollback) shows its type and none of its data, since nothing says what in it may be shown.
 */
export const shownOrderEvent = ({ type, data }: { type: string; data: unknown }): ShownOrderEvent | UnreadEvent => {
  const shown = ShownOrderEvent.safeParse({ type, data });
  return shown.success ? shown.data : { type, data: {} };
};

/** An event shown without its data: see {@link shownOrderEvent}. */
export type UnreadEvent = { type: string; data: Record<string, never> };
