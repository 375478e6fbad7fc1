import type { Money } from '../shared/values.js';

/**
 * How many of a product's latest keyed restocks (and write-offs) it remembers: a retry of one of them is answered from
 * the state. An older key's retry is refused in the write, by the key's claim (ADR 0024, application/aggregates.ts).
 */
export const RESTOCKS_REMEMBERED = 20;

/** A keyed restock, as remembered: its key, and what it added. */
export type RememberedRestock = { restockId: string; quantity: number };

/** A keyed write-off, as remembered: its key, and what it took. */
export type RememberedWriteOff = { writeOffId: string; quantity: number };

/**
 * A keyed registration, as remembered for good: its key, and the price it gave (the product's may have changed since),
 * so that a retry however late is told from another registration of the same SKU.
 */
export type RememberedRegistration = { registrationId: string; unitPrice: Money };

/**
 * A product: its catalogue facts (its price the latest it was given) and the stock supplied to it. Bounded: no order is kept here, and only the latest
 * {@link RESTOCKS_REMEMBERED} keyed restocks (a retry comes soon after the restock it repeats; restocks are rare).
 */
export type ProductState =
  | { status: 'UNREGISTERED' }
  | {
      status: 'REGISTERED';
      sku: string;
      name: string;
      unitPrice: Money;
      initialStock: number;
      /** There when the registration was keyed. */
      registration?: RememberedRegistration;
      restocked: number;
      recentRestocks: RememberedRestock[];
      /** Units written off, ever: what was supplied and no order will get. */
      writtenOff: number;
      recentWriteOffs: RememberedWriteOff[];
      /** There once it is discontinued (ADR 0028): it is ordered and restocked no more. */
      discontinued?: true;
    };

export const initialState = (): ProductState => ({ status: 'UNREGISTERED' });
