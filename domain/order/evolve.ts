import { assertNever } from '../shared/decider.js';
import type { OrderEvent } from './events.js';
import type { OrderState } from './state.js';

export const evolve = (state: OrderState, event: OrderEvent): OrderState => {
  if (event.type === 'OrderPlaced') {
    const { orderId, customerId, lines, total, paymentToken } = event.data;
    return { status: 'PENDING', orderId, customerId, lines, total, paymentToken };
  }
  if (state.status === 'NONE') return state;
  const { orderId, customerId, lines, total, paymentToken } = state;
  const order = { orderId, customerId, lines, total, paymentToken };
  switch (event.type) {
    case 'StockReserved':
      return state.status === 'PENDING' ? { ...state, stockReserved: true } : state;
    case 'OrderConfirmed':
      return { ...order, status: 'CONFIRMED' };
    case 'OrderRejected':
      return { ...order, status: 'REJECTED', rejectionReason: event.data.reason };
    case 'OrderCancelled':
      return { ...order, status: 'CANCELLED', cancelledFrom: event.data.previousStatus };
    case 'PaymentAwaited':
      return state.status === 'PENDING'
        ? { ...state, awaitingPayment: { since: event.data.since, until: event.data.until } }
        : state;
    default:
      return assertNever(event);
  }
};
