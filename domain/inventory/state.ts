import type { Money } from '../shared/values.js';
import type { Ledger } from './ledger.js';

/** Where one order's units of this SKU stand. Kept for every order, so a redelivered command appends nothing. */
export type OrderAllocation = {
  quantity: number;
  status: 'RESERVED' | 'RELEASED' | 'SOLD' | 'RETURNED';
};

export type InventoryState =
  | { status: 'UNREGISTERED' }
  | {
      status: 'REGISTERED';
      sku: string;
      name: string;
      unitPrice: Money;
      initialStock: number;
      restocked: number;
      available: number;
      reserved: number;
      sold: number;
      /** Every order's allocation: read it with `allocationOf`, change it with `withAllocation`. */
      orders: Ledger;
    };

export const initialState = (): InventoryState => ({ status: 'UNREGISTERED' });
