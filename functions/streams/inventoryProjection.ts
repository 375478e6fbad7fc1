import { inventoryProjection } from '../../projections/inventory.js';
import { projectionHandler } from './projectionHandler.js';

export const handler = projectionHandler(inventoryProjection);
