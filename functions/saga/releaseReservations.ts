import { releaseReservations } from '../../application/saga.js';
import { sagaHandler } from '../_shared/sagaHandler.js';

export const handler = sagaHandler('ReleaseReservations', ({ orderId }, context) =>
  releaseReservations(orderId, context),
);
