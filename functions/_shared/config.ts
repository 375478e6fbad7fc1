import { z } from 'zod';
import { levels } from './logger.js';

const Config = z.object({
  STAGE: z.string().min(1).default('dev'),
  LOG_LEVEL: z.enum(levels).default('info'),
  EVENTS_TABLE: z.string().min(1),
  SNAPSHOTS_TABLE: z.string().min(1),
  ORDERS_TABLE: z.string().min(1),
  INVENTORY_TABLE: z.string().min(1),
  /** Each read model's second table (its green slot, ADR 0009), and how long the pointer to the live one is kept. */
  ORDERS_GREEN_TABLE: z.string().min(1),
  INVENTORY_GREEN_TABLE: z.string().min(1),
  READ_MODEL_CACHE_MS: z.coerce.number().int().min(0).default(5000),
  PROJECTIONS_TABLE: z.string().min(1),
  PAYMENT_SIMULATOR_TABLE: z.string().min(1),
  /** The payment gateway's circuit breaker: its table and its stage params. */
  CIRCUITS_TABLE: z.string().min(1),
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().positive(),
  CIRCUIT_WINDOW_SECONDS: z.coerce.number().positive(),
  CIRCUIT_COOL_DOWN_SECONDS: z.coerce.number().positive(),
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
