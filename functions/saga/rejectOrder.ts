import { rejectOrder } from '../../application/saga.js';
import { sagaHandler } from './sagaHandler.js';

export const handler = sagaHandler('RejectOrder', ({ orderId, reason, placed }, context) => {
  if (!reason) throw new Error('RejectOrder needs a reason');
  return rejectOrder(orderId, reason, context, placed);
});
