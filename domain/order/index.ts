import type { Decider } from '../shared/decider.js';
import type { OrderCommand } from './commands.js';
import { assertOneLinePerSku, decide, orderTotal } from './decide.js';
import type { OrderEvent } from './events.js';
import { evolve } from './evolve.js';
import { initialState, type OrderState } from './state.js';

export type * from './commands.js';
export * from './events.js';
export * from './state.js';
export { assertOneLinePerSku, decide, evolve, orderTotal };

/** One stream per order: `order-<orderId>`. */
export const orderStreamId = (orderId: string): string => `order-${orderId}`;

export const order: Decider<OrderState, OrderCommand, OrderEvent> = { decide, evolve, initialState };
