import { ordersProjection } from '../../projections/orders.js';
import { services } from '../dependencies.js';
import { projectionHandler } from './projectionHandler.js';

export const handler = projectionHandler(ordersProjection, (slot) => services().viewStore('orders', slot));
