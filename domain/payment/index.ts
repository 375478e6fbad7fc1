import type { Decider } from '../shared/decider.js';
import type { PaymentCommand } from './commands.js';
import { decide } from './decide.js';
import type { PaymentEvent } from './events.js';
import { evolve } from './evolve.js';
import { initialState, type PaymentState } from './state.js';

export type * from './commands.js';
export * from './events.js';
export * from './state.js';
export { decide, evolve };

/** One stream per order's payment: `payment-<orderId>`. */
export const paymentStreamId = (orderId: string): string => `payment-${orderId}`;

export const payment: Decider<PaymentState, PaymentCommand, PaymentEvent> = { decide, evolve, initialState };
