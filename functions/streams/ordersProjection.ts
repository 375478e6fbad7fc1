import { ordersProjection } from '../../projections/orders.js';
import { projectionHandler } from './projectionHandler.js';

export const handler = projectionHandler(ordersProjection);
