import { inventoryProjection } from '../../projections/inventory.js';
import { projectionHandler } from '../_shared/projectionHandler.js';

export const handler = projectionHandler(inventoryProjection);
