import { inventoryProjection } from '../../projections/inventory.js';
import { services } from '../dependencies.js';
import { projectionHandler } from './projectionHandler.js';

export const handler = projectionHandler(inventoryProjection, (slot) => services().viewStore('inventory', slot));
