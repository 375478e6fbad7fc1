import { retryParkedCompensation } from '../../application/compensation.js';
import type { PaymentWaitPolicy } from '../../application/saga.js';
import { config } from '../config.js';
import { paymentGateway } from '../dependencies.js';
import { metrics } from '../observability/metrics.js';
import { sagaHandler } from './sagaHandler.js';

let policy: PaymentWaitPolicy | undefined;

/** The stage's wait params for parked compensations (serverless.yml), read once per cold start. */
const waitPolicy = (): PaymentWaitPolicy => {
  if (policy) return policy;
  const { COMPENSATION_WAIT_FIRST_SECONDS, COMPENSATION_WAIT_MAX_SECONDS, COMPENSATION_WAIT_BOUND_SECONDS } = config();
  if (!COMPENSATION_WAIT_FIRST_SECONDS || !COMPENSATION_WAIT_MAX_SECONDS || !COMPENSATION_WAIT_BOUND_SECONDS) {
    throw new Error(
      'resumeCompensation needs COMPENSATION_WAIT_FIRST_SECONDS, COMPENSATION_WAIT_MAX_SECONDS and COMPENSATION_WAIT_BOUND_SECONDS',
    );
  }
  return (policy = {
    firstWaitSeconds: COMPENSATION_WAIT_FIRST_SECONDS,
    maxWaitSeconds: COMPENSATION_WAIT_MAX_SECONDS,
    boundSeconds: COMPENSATION_WAIT_BOUND_SECONDS,
  });
};

/**
 * The compensation state machine's one Task (statemachines/compensation.asl.json): the payment part of a
 * compensation (a cancellation's, or a give-up's), parked because the payment gateway was unavailable, tried again. Answers PROCEED once it got through, a wait while
 * the gateway is still unavailable (counted: `CompensationParkedFor`, the time parked so far), or GIVE_UP past the
 * bound, which fails the execution for an operator (docs/operations.md, "Parked compensations").
 */
export const handler = sagaHandler('ResumeCompensation', async ({ orderId, startedAt }, context, logger) => {
  if (!startedAt) throw new Error('ResumeCompensation needs the execution start time (startedAt)');
  const parkedAt = new Date(startedAt);
  const now = new Date();
  const attempt = await retryParkedCompensation(
    orderId,
    { parkedAt, now, policy: waitPolicy() },
    context,
    paymentGateway(logger),
  );
  const parkedForMs = now.getTime() - parkedAt.getTime();
  if (attempt.outcome === 'COMPENSATED') {
    metrics().add('CompensationsResumed', 1);
    // `payment…` keys are redacted in logs: say what happened to it under another name.
    logger.info('parked compensation done: payment refunded or voided', {
      refunded: attempt.payment === 'REFUNDED',
      parkedForMs,
    });
    return 'PROCEED';
  }
  // Counted whatever it waits for, so ParkedCompensationAlarm sees an order left PENDING as it sees an outage.
  metrics().add('CompensationParkedFor', parkedForMs);
  if (attempt.outcome === 'WAIT') {
    if (attempt.waitingFor === 'GATEWAY') {
      logger.info('compensation parked: the payment gateway is still unavailable', { ...attempt, parkedForMs });
    } else {
      // Expected on a give-up's first attempt: it parks before it rejects (ADR 0017). Past its alarm, it is not.
      logger.info('compensation parked: the order it voids for is still PENDING, not yet rejected by its give-up', {
        ...attempt,
        parkedForMs,
      });
    }
    return attempt;
  }
  logger.error(
    attempt.waitingFor === 'GATEWAY'
      ? 'compensation parked past its bound: the payment gateway never answered; left to an operator'
      : 'compensation parked past its bound: the order it voids for stayed PENDING; left to an operator',
    { parkedForMs, waitingFor: attempt.waitingFor },
  );
  return attempt;
});
