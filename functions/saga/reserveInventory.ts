import { reserveInventory } from '../../application/saga.js';
import { sagaHandler } from './sagaHandler.js';

export const handler = sagaHandler('ReserveInventory', ({ orderId, placed }, context) =>
  reserveInventory(orderId, context, placed),
);
