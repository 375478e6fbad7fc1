import { ordersProjection } from '../../projections/orders.js';
import { projectionHandler } from '../_shared/projectionHandler.js';

export const handler = projectionHandler(ordersProjection);
