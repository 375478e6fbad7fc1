import { assertNever } from '../shared/decider.js';
import type { OrderEvent } from './events.js';
import type { ExistingOrder, OrderState, PlacedOrder } from './state.js';

/** Every key of every member of a union (`keyof` of a union keeps only the keys all members share). */
type KeysOfAny<T> = T extends unknown ? keyof T : never;

/**
 * What events after the placement add to an order's state. `satisfies` holds the list to the state's type: a field a
 * state gains must be named here (or be the placement's), or this does not compile.
 */
const addedAfterPlacement = {
  stockReserved: true,
  awaitingPayment: true,
  rejectionReason: true,
  outOfStock: true,
  cancelledFrom: true,
  confirmedAt: true,
} as const satisfies Record<Exclude<KeysOfAny<ExistingOrder>, keyof PlacedOrder | 'status'>, true>;

/**
 * The order as placed, whatever its state: every field of its `OrderPlaced`, without what later events added. Taken
 * apart by what is dropped rather than by what is kept, so a field `OrderPlaced` gains is carried without a change here.
 */
const asPlaced = (state: ExistingOrder): PlacedOrder =>
  Object.fromEntries(
    Object.entries(state).filter(([key]) => key !== 'status' && !Object.hasOwn(addedAfterPlacement, key)),
  ) as PlacedOrder;

export const evolve = (state: OrderState, event: OrderEvent): OrderState => {
  if (event.type === 'OrderPlaced') return { ...event.data, status: 'PENDING' };
  if (state.status === 'NONE') return state;
  switch (event.type) {
    case 'StockReserved':
      return state.status === 'PENDING' ? { ...state, stockReserved: true } : state;
    case 'OrderConfirmed': {
      const { confirmedAt } = event.data;
      return { ...asPlaced(state), status: 'CONFIRMED', ...(confirmedAt === undefined ? {} : { confirmedAt }) };
    }
    case 'OrderRejected':
      return {
        ...asPlaced(state),
        status: 'REJECTED',
        rejectionReason: event.data.reason,
        ...(event.data.outOfStock ? { outOfStock: event.data.outOfStock } : {}),
      };
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
