import type { Money } from '../shared/values.js';

/** A product: its catalogue facts and the stock supplied to it. Bounded: no order is kept here. */
export type ProductState =
  | { status: 'UNREGISTERED' }
  | {
      status: 'REGISTERED';
      sku: string;
      name: string;
      unitPrice: Money;
      initialStock: number;
      restocked: number;
    };

export const initialState = (): ProductState => ({ status: 'UNREGISTERED' });

/**
 * Where one order's units of one SKU stand, in a stream of its own, so a redelivered command finds what it already
 * did without reading anything that grows with the SKU's sales.
 */
export type ReservationState =
  | { status: 'NONE' }
  | { status: 'RESERVED' | 'RELEASED' | 'SOLD' | 'RETURNED'; sku: string; orderId: string; quantity: number };

export const initialReservation = (): ReservationState => ({ status: 'NONE' });
