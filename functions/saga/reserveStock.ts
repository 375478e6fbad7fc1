import { reserveStock } from '../../application/saga.js';
import { sagaHandler } from './sagaHandler.js';

export const handler = sagaHandler('ReserveStock', ({ orderId, placed }, context) =>
  reserveStock(orderId, context, placed),
);
