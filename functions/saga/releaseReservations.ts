import { releaseReservations } from '../../application/saga.js';
import { sagaHandler } from './sagaHandler.js';

export const handler = sagaHandler('ReleaseReservations', ({ orderId, placed }, context) =>
  releaseReservations(orderId, context, placed),
);
