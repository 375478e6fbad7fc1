import type { Money } from '../shared/values.js';

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
      orders: Record<string, OrderAllocation>;
    };

export const initialState = (): InventoryState => ({ status: 'UNREGISTERED' });
