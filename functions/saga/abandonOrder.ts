import { abandonOrder } from '../../application/saga.js';
import { paymentGateway } from '../_shared/dependencies.js';
import { sagaHandler } from '../_shared/sagaHandler.js';

/** The saga's catch-all compensation: a forward step failed for good, so the order is given up (`UNAVAILABLE`). */
export const handler = sagaHandler('AbandonOrder', async ({ orderId }, context, logger) => {
  const abandonment = await abandonOrder(orderId, context, paymentGateway());
  // `payment…` keys are redacted in logs: say what happened to it under another name.
  const refunded = abandonment.payment === 'REFUNDED';
  if (abandonment.outcome === 'REJECTED') logger.warn('order given up after a failed step', { refunded });
  else if (abandonment.status === 'CONFIRMED' && refunded) {
    // The one window left open (docs/architecture.md, "Every order settles"): a racing execution confirmed it.
    logger.error('a CONFIRMED order was refunded by a compensation that raced its confirmation', { refunded });
  } else logger.info('order not PENDING: nothing to give up', { status: abandonment.status, refunded });
  return 'PROCEED';
});
