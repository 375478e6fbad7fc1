import { authorizePayment } from '../../application/saga.js';
import { paymentGateway } from '../_shared/dependencies.js';
import { sagaHandler } from '../_shared/sagaHandler.js';

export const handler = sagaHandler('AuthorizePayment', ({ orderId, placed }, context) =>
  authorizePayment(orderId, context, paymentGateway(), placed),
);
