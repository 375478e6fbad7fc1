import type { Decider } from '../shared/decider.js';
import type { InventoryCommand } from './commands.js';
import { decide } from './decide.js';
import type { InventoryEvent } from './events.js';
import { evolve } from './evolve.js';
import { initialState, type InventoryState } from './state.js';

export * from './commands.js';
export * from './events.js';
export * from './ledger.js';
export * from './state.js';
export { decide, evolve };

/** One stream per SKU: `inventory-<SKU>`. */
export const inventoryStreamId = (sku: string): string => `inventory-${sku}`;

export const inventory: Decider<InventoryState, InventoryCommand, InventoryEvent> = { decide, evolve, initialState };
