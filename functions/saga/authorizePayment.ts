import { authorizePayment } from '../../application/saga.js';
import { paymentGateway } from '../dependencies.js';
import { sagaHandler } from './sagaHandler.js';

export const handler = sagaHandler('AuthorizePayment', ({ orderId, placed }, context, logger) =>
  authorizePayment(orderId, context, paymentGateway(logger), placed),
);
