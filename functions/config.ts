import * as z from 'zod';
import { StageEnvironment } from '../composition/settings.js';
import { levels } from './observability/logger.js';

const Config = StageEnvironment.extend({
  STAGE: z.string().min(1).default('dev'),
  LOG_LEVEL: z.enum(levels).default('info'),
  /** Only the saga starter and the sweeper have it. */
  ORDER_SAGA_ARN: z.string().min(1).optional(),
  /** The sweeper's: the saga's workflow type (STANDARD executions can be described; EXPRESS ones cannot). */
  SAGA_TYPE: z.enum(['STANDARD', 'EXPRESS']).optional(),
  /** The sweeper's: how long an order may stay PENDING before it is settled. */
  SWEEP_PENDING_AFTER_SECONDS: z.coerce.number().int().positive().optional(),
  /** AwaitPayment's: how the parked payment step waits, and for how long at most (ADR 0007). */
  PAYMENT_WAIT_FIRST_SECONDS: z.coerce.number().int().positive().optional(),
  PAYMENT_WAIT_MAX_SECONDS: z.coerce.number().int().positive().optional(),
  PAYMENT_WAIT_BOUND_SECONDS: z.coerce.number().int().positive().optional(),
  /** compensateCancellation's: the state machine where a compensation waits out a gateway outage. */
  COMPENSATION_ARN: z.string().min(1).optional(),
  /** resumeCompensation's: how a parked compensation waits, and for how long at most (ADR 0010). */
  COMPENSATION_WAIT_FIRST_SECONDS: z.coerce.number().int().positive().optional(),
  COMPENSATION_WAIT_MAX_SECONDS: z.coerce.number().int().positive().optional(),
  COMPENSATION_WAIT_BOUND_SECONDS: z.coerce.number().int().positive().optional(),
});
export type Config = z.infer<typeof Config>;

let cached: Config | undefined;

/** The function's configuration, read and validated once per cold start; a missing variable fails loudly. */
export const config = (): Config => (cached ??= Config.parse(process.env));
