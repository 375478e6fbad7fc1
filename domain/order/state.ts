import type { Money } from '../shared/values.js';
import type { OrderLine, RejectionReason } from './events.js';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';

/** States no command can leave. */
export const terminalStatuses: readonly OrderStatus[] = ['REJECTED', 'CANCELLED'];

type Placed = {
  orderId: string;
  customerId: string;
  lines: OrderLine[];
  total: Money;
  paymentToken: string;
};

/** While PENDING: since when, and until when at most, the saga waits for the payment gateway. */
export type AwaitingPayment = { since: string; until: string };

export type OrderState =
  | { status: 'NONE' }
  | (Placed & { status: 'PENDING'; awaitingPayment?: AwaitingPayment })
  | (Placed & { status: 'CONFIRMED' })
  | (Placed & { status: 'REJECTED'; rejectionReason: RejectionReason })
  | (Placed & { status: 'CANCELLED'; cancelledFrom: 'PENDING' | 'CONFIRMED' });

export const initialState = (): OrderState => ({ status: 'NONE' });
