import { productsProjection } from './products.js';
import { ordersProjection } from './orders.js';

export * from './products.js';
export * from './orders.js';
export * from './projection.js';

/** Every read model, for the runner and the tables that hold them. */
export const projections = [ordersProjection, productsProjection] as const;
