import type { Decider } from '../shared/decider.js';
import type { ProductCommand, ReservationCommand } from './commands.js';
import { decide, decideReservation } from './decide.js';
import type { ProductEvent, ReservationEvent } from './events.js';
import { evolve, evolveReservation } from './evolve.js';
import { initialReservation, initialState, type ProductState, type ReservationState } from './state.js';

export * from './commands.js';
export * from './events.js';
export * from './state.js';
export * from './stock.js';
export { decide, decideReservation, evolve, evolveReservation };

/** One stream per SKU: `product-<SKU>`, the product's catalogue facts and restocks. */
export const productStreamId = (sku: string): string => `product-${sku}`;

/** One stream per order and SKU: `reservation-<SKU>/<order id>`. A SKU never holds a `/`, so the id is unambiguous. */
export const reservationStreamId = (sku: string, orderId: string): string => `reservation-${sku}/${orderId}`;

export const product: Decider<ProductState, ProductCommand, ProductEvent> = { decide, evolve, initialState };

export const reservation: Decider<ReservationState, ReservationCommand, ReservationEvent> = {
  decide: decideReservation,
  evolve: evolveReservation,
  initialState: initialReservation,
};
