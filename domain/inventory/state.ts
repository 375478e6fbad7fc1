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
