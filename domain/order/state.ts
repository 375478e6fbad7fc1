import * as z from 'zod';
import { assertNever } from '../shared/decider.js';
import type { OrderPlaced, OutOfStock, RejectionReason } from './events.js';

/** An order's status: the one list the decider, the orders view and the API's answers read. */
export const OrderStatus = z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED']);
export type OrderStatus = z.infer<typeof OrderStatus>;

/**
 * Whether an order in this status keeps its payment: only a confirmed one. Every other ends with its payment voided
 * or refunded (a PENDING one is not settled yet). The switch makes a new status decide it.
 */
export const keepsPayment = (status: OrderState['status']): boolean => {
  switch (status) {
    case 'CONFIRMED':
      return true;
    case 'NONE':
    case 'PENDING':
    case 'REJECTED':
    case 'CANCELLED':
      return false;
    default:
      return assertNever(status);
  }
};

/** States no command can leave. */
export const terminalStatuses: readonly OrderStatus[] = ['REJECTED', 'CANCELLED'];

/** What an order is as placed, and stays in every state: its `OrderPlaced` event's data. */
export type PlacedOrder = OrderPlaced['data'];

/** While PENDING: since when, and until when at most, the saga waits for the payment gateway. */
export type AwaitingPayment = { since: string; until: string };

/**
 * What the order holds of its SKUs' stock follows from its status: PENDING holds its units reserved once
 * `stockReserved` (StockReserved), CONFIRMED holds them sold, REJECTED and CANCELLED hold nothing.
 */
export type OrderState =
  | { status: 'NONE' }
  | (PlacedOrder & { status: 'PENDING'; stockReserved?: true; awaitingPayment?: AwaitingPayment })
  | (PlacedOrder & { status: 'CONFIRMED'; confirmedAt?: string })
  | (PlacedOrder & { status: 'REJECTED'; rejectionReason: RejectionReason; outOfStock?: OutOfStock })
  | (PlacedOrder & { status: 'CANCELLED'; cancelledFrom: 'PENDING' | 'CONFIRMED' });

export const initialState = (): OrderState => ({ status: 'NONE' });

/** An order that exists: placed, in whatever status. */
export type ExistingOrder = Exclude<OrderState, { status: 'NONE' }>;
