import { confirmOrder } from '../../application/saga.js';
import { sagaHandler } from './sagaHandler.js';

export const handler = sagaHandler('ConfirmOrder', ({ orderId, placed }, context) =>
  confirmOrder(orderId, context, placed),
);
