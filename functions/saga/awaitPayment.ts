import { awaitPayment, type PaymentWaitPolicy } from '../../application/saga.js';
import { config } from '../config.js';
import { sagaHandler } from './sagaHandler.js';

let policy: PaymentWaitPolicy | undefined;

/** The stage's wait params (serverless.yml), read once per cold start. */
const waitPolicy = (): PaymentWaitPolicy => {
  if (policy) return policy;
  const { PAYMENT_WAIT_FIRST_SECONDS, PAYMENT_WAIT_MAX_SECONDS, PAYMENT_WAIT_BOUND_SECONDS } = config();
  if (!PAYMENT_WAIT_FIRST_SECONDS || !PAYMENT_WAIT_MAX_SECONDS || !PAYMENT_WAIT_BOUND_SECONDS) {
    throw new Error(
      'awaitPayment needs PAYMENT_WAIT_FIRST_SECONDS, PAYMENT_WAIT_MAX_SECONDS and PAYMENT_WAIT_BOUND_SECONDS',
    );
  }
  return (policy = {
    firstWaitSeconds: PAYMENT_WAIT_FIRST_SECONDS,
    maxWaitSeconds: PAYMENT_WAIT_MAX_SECONDS,
    boundSeconds: PAYMENT_WAIT_BOUND_SECONDS,
  });
};

/** The parked payment step: records that the order awaits payment, and says how long to wait, or to give up. */
export const handler = sagaHandler('AwaitPayment', async ({ orderId, startedAt }, context, logger) => {
  if (!startedAt) throw new Error('AwaitPayment needs the execution start time (startedAt)');
  const wait = await awaitPayment(
    orderId,
    { startedAt: new Date(startedAt), now: new Date(), policy: waitPolicy() },
    context,
  );
  // A wait is said by the step's own `saga step finished` line (outcome WAIT, waitSeconds, until): no second line.
  if (wait.outcome === 'GIVE_UP') logger.warn('payment gateway unavailable past the bound: giving the order up');
  return wait;
});
