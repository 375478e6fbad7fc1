import type { Decider } from '../shared/decider.js';
import type { ProductCommand } from './commands.js';
import { decide } from './decide.js';
import type { ProductEvent } from './events.js';
import { evolve } from './evolve.js';
import { initialState, type ProductState } from './state.js';

export type * from './commands.js';
export * from './events.js';
export * from './state.js';
export * from './stock.js';
export { decide, evolve };

/** One stream per SKU: `product-<SKU>`, the product's catalogue facts and restocks. */
export const productStreamId = (sku: string): string => `product-${sku}`;

export const product: Decider<ProductState, ProductCommand, ProductEvent> = { decide, evolve, initialState };
