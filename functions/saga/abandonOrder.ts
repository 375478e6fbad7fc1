import { abandonOrder, confirmedAfterRefund, voidParked } from '../../application/saga.js';
import { compensationParking } from '../compensationParking.js';
import { paymentGateway } from '../dependencies.js';
import { metrics } from '../observability/metrics.js';
import { sagaHandler } from './sagaHandler.js';

/**
 * The saga's catch-all compensation: a forward step failed for good, so the order is given up (`UNAVAILABLE`). The
 * GiveUpPayment state runs it too, with `reason` PAYMENT_UNAVAILABLE: the gateway stayed unavailable past the bound.
 * Whenever the gateway is unavailable, voiding the payment is parked on the compensation state machine (counted in
 * `CompensationsParked`) and the order rejected at once, its stock back.
 */
export const handler = sagaHandler('AbandonOrder', async ({ orderId, reason }, context, logger) => {
  if (reason !== undefined && reason !== 'UNAVAILABLE' && reason !== 'PAYMENT_UNAVAILABLE') {
    throw new Error(`AbandonOrder cannot give an order up for ${reason}`);
  }
  const abandonment = await abandonOrder(orderId, context, paymentGateway(logger), compensationParking(), reason);
  // `payment…` keys are redacted in logs: say what happened to it under another name.
  const refunded = abandonment.payment === 'REFUNDED';
  const parked = voidParked(abandonment);
  if (abandonment.payment === 'PARKED') metrics().add('CompensationsParked', 1);
  if (abandonment.outcome === 'REJECTED') {
    logger.warn(
      reason === 'PAYMENT_UNAVAILABLE'
        ? 'order given up: the payment gateway stayed unavailable past the bound'
        : 'order given up after a failed step',
      { refunded, parked },
    );
  } else if (confirmedAfterRefund(abandonment)) {
    // The one window left open (docs/architecture.md, "Every order settles"): a racing execution confirmed it. A
    // parked void may have reached the gateway before its call failed (a timeout), so it is reported too.
    metrics().add('ConfirmedOrdersRefunded', 1);
    logger.error('a CONFIRMED order was refunded, or may have been, by a compensation that raced its confirmation', {
      refunded,
      parked,
    });
  } else logger.info('order not PENDING: nothing to give up', { status: abandonment.status, refunded, parked });
  return 'PROCEED';
});
