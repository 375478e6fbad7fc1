import type { Money, OrderId } from '../shared/values.js';

// Types, not schemas, as the order's commands are (domain/order/commands.ts says why).

/** Records the gateway's approval. The gateway call itself happens outside the domain, keyed by the order id. */
export type AuthorizePayment = {
  type: 'AuthorizePayment';
  data: { orderId: OrderId; amount: Money; gatewayReference: string };
};

export type DeclinePayment = { type: 'DeclinePayment'; data: { orderId: OrderId; amount: Money; reason: string } };

export type RefundPayment = { type: 'RefundPayment'; data: { orderId: OrderId } };

export type PaymentCommand = AuthorizePayment | DeclinePayment | RefundPayment;
