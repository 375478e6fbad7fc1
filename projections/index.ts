import { inventoryProjection } from './inventory.js';
import { ordersProjection } from './orders.js';

export * from './inventory.js';
export * from './orders.js';
export * from './projection.js';

/** Every read model, for the runner and the tables that hold them. */
export const projections = [ordersProjection, inventoryProjection] as const;
