import * as z from 'zod';
import { nonEmpty, StageEnvironment } from '../composition/settings.js';
import { levels } from './observability/logger.js';

// One schema per kind of value, shared by the variables that hold it: each chained check builds another schema at
// init, and a cold start pays for every one (npm run bench -- coldstart).
const seconds = z.coerce.number().int().positive().optional();

const Config = StageEnvironment.extend({
  STAGE: nonEmpty.default('dev'),
  LOG_LEVEL: z.enum(levels).default('info'),
  /** Only the saga starter and the sweeper have it. */
  ORDER_SAGA_ARN: nonEmpty.optional(),
  /** The sweeper's: the saga's workflow type (STANDARD executions can be described; EXPRESS ones cannot). */
  SAGA_TYPE: z.enum(['STANDARD', 'EXPRESS']).optional(),
  /**
   * cancelOrder's, and getOrder's and listOrders' to say until when: how long after its confirmation a customer may
   * cancel an order.
   */
  CANCELLATION_WINDOW_SECONDS: seconds,
  /** The sweeper's: how long an order may stay PENDING before it is settled. */
  SWEEP_PENDING_AFTER_SECONDS: seconds,
  /** AwaitPayment's: how the parked payment step waits, and for how long at most (ADR 0007). */
  PAYMENT_WAIT_FIRST_SECONDS: seconds,
  PAYMENT_WAIT_MAX_SECONDS: seconds,
  PAYMENT_WAIT_BOUND_SECONDS: seconds,
  /** compensateCancellation's: the state machine where a compensation waits out a gateway outage. */
  COMPENSATION_ARN: nonEmpty.optional(),
  /** resumeCompensation's: how a parked compensation waits, and for how long at most (ADR 0010). */
  COMPENSATION_WAIT_FIRST_SECONDS: seconds,
  COMPENSATION_WAIT_MAX_SECONDS: seconds,
  COMPENSATION_WAIT_BOUND_SECONDS: seconds,
});
export type Config = z.infer<typeof Config>;

let cached: Config | undefined;

/** The function's configuration, read and validated once per cold start; a missing variable fails loudly. */
export const config = (): Config => (cached ??= Config.parse(process.env));

/** How long after its confirmation a customer may cancel an order, where the function is told (ADR 0029). */
export const cancellationWindowMs = (): number | undefined => {
  const seconds = config().CANCELLATION_WINDOW_SECONDS;
  return seconds === undefined ? undefined : seconds * 1000;
};
