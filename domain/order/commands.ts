import type { CustomerId, OrderId } from '../shared/values.js';
import type { OrderLine, OutOfStock, RejectionReason } from './events.js';

// Commands are types, not schemas: what a caller sends is checked at the edge (api/schemas.ts), and every event a
// command decides is checked against its schema before it is appended. A schema here would be built at every cold
// start and read by nothing.

export type PlaceOrder = {
  type: 'PlaceOrder';
  data: { orderId: OrderId; customerId: CustomerId; lines: OrderLine[]; paymentToken: string };
};

/** The saga reserves every line's units of a PENDING order, once. */
export type ReserveStock = { type: 'ReserveStock'; data: { orderId: OrderId } };

/** `confirmedAt`: the saga's clock when it confirms, for a customer's cancellation window. */
export type ConfirmOrder = { type: 'ConfirmOrder'; data: { orderId: OrderId; confirmedAt?: string | undefined } };

export type RejectOrder = {
  type: 'RejectOrder';
  data: { orderId: OrderId; reason: RejectionReason; outOfStock?: OutOfStock | undefined };
};

export type CancelOrder = { type: 'CancelOrder'; data: { orderId: OrderId } };

/** The saga parks the payment step of a PENDING order until `until` at the latest: see `PaymentAwaited`. */
export type AwaitPayment = { type: 'AwaitPayment'; data: { orderId: OrderId; since: string; until: string } };

export type OrderCommand = PlaceOrder | ReserveStock | ConfirmOrder | RejectOrder | CancelOrder | AwaitPayment;
