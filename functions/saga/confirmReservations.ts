import { confirmReservations } from '../../application/saga.js';
import { sagaHandler } from './sagaHandler.js';

export const handler = sagaHandler('ConfirmReservations', ({ orderId, placed }, context) =>
  confirmReservations(orderId, context, placed),
);
