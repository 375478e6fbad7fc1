import { assertNever } from '../shared/decider.js';
import type { OrderEvent } from './events.js';
import type { OrderState, PlacedOrder } from './state.js';

/**
 * The order as placed, whatever its state: every field of its `OrderPlaced`, without what later events added. Taken
 * apart by what is dropped rather than by what is kept, so a field `OrderPlaced` gains is carried without a change here.
 */
const asPlaced = (state: Exclude<OrderState, { status: 'NONE' }>): PlacedOrder => {
  const { status: _status, ...rest } = state;
  const {
    stockReserved: _stockReserved,
    awaitingPayment: _awaitingPayment,
    rejectionReason: _rejectionReason,
    cancelledFrom: _cancelledFrom,
    ...placed
  }: PlacedOrder &
    Partial<Record<'stockReserved' | 'awaitingPayment' | 'rejectionReason' | 'cancelledFrom', unknown>> = rest;
  return placed;
};

export const evolve = (state: OrderState, event: OrderEvent): OrderState => {
  if (event.type === 'OrderPlaced') return { ...event.data, status: 'PENDING' };
  if (state.status === 'NONE') return state;
  switch (event.type) {
    case 'StockReserved':
      return state.status === 'PENDING' ? { ...state, stockReserved: true } : state;
    case 'OrderConfirmed':
      return { ...asPlaced(state), status: 'CONFIRMED' };
    case 'OrderRejected':
      return { ...asPlaced(state), status: 'REJECTED', rejectionReason: event.data.reason };
    case 'OrderCancelled':
      return { ...asPlaced(state), status: 'CANCELLED', cancelledFrom: event.data.previousStatus };
    case 'PaymentAwaited':
      return state.status === 'PENDING'
        ? { ...state, awaitingPayment: { since: event.data.since, until: event.data.until } }
        : state;
    default:
      return assertNever(event);
  }
};
