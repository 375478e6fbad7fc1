import { abandonOrder, voidParked } from '../../application/saga.js';
import { compensationParking } from '../compensationParking.js';
import { paymentGateway } from '../dependencies.js';
import { metrics } from '../observability/metrics.js';
import { sagaHandler } from './sagaHandler.js';

// Its lines name the state that ran it, so a query by step tells a give-up from the catch-all.
export const stateOf = ({ reason }: { reason?: string | undefined }) =>
  reason === 'PAYMENT_UNAVAILABLE' ? 'GiveUpPayment' : 'AbandonOrder';

/**
 * The saga's catch-all compensation: a forward step failed for good, so the order is given up (`UNAVAILABLE`). The
 * GiveUpPayment state runs it too, with `reason` PAYMENT_UNAVAILABLE: the gateway stayed unavailable past the bound.
 * Whenever the gateway is unavailable, voiding the payment is parked on the compensation state machine (counted in
 * `CompensationsParked`) and the order rejected at once, its stock back.
 */
export const handler = sagaHandler(stateOf, async ({ orderId, reason }, context, logger) => {
  if (reason !== undefined && reason !== 'UNAVAILABLE' && reason !== 'PAYMENT_UNAVAILABLE') {
    throw new Error(`AbandonOrder cannot give an order up for ${reason}`);
  }
  const abandonment = await abandonOrder(orderId, context, paymentGateway(logger), compensationParking(), reason);
  if (abandonment.outcome === 'REJECTED') {
    if (abandonment.payment === 'PARKED') metrics().add('CompensationsParked', 1);
    logger.warn(
      reason === 'PAYMENT_UNAVAILABLE'
        ? 'order given up: the payment gateway stayed unavailable past the bound'
        : 'order given up after a failed step',
      // `payment…` keys are redacted in logs: say what happened to it under another name.
      { refunded: abandonment.payment === 'REFUNDED', parked: voidParked(abandonment) },
    );
  } else logger.info('order not PENDING: nothing to give up', { status: abandonment.status });
  return 'PROCEED';
});
