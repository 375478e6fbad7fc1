import * as z from 'zod';

/**
 * A variable that must not be empty: one schema for every variable that holds such a value, here and in
 * functions/config.ts, since each chained check builds another schema at every cold start.
 */
export const nonEmpty = z.string().min(1);
const table = nonEmpty;

/**
 * What the wiring needs of a stage: its tables and the settings of its shared parts, as serverless.yml names them
 * in every function's environment. Lambda reads it from `process.env`; ops commands from the stage's serverless.yml.
 */
export const StageEnvironment = z.object({
  EVENTS_TABLE: table,
  SNAPSHOTS_TABLE: table,
  ORDERS_TABLE: table,
  PRODUCTS_TABLE: table,
  /** Each read model's second table (its green slot, ADR 0009), and how long the pointer to the live one is kept. */
  ORDERS_GREEN_TABLE: table,
  PRODUCTS_GREEN_TABLE: table,
  READ_MODEL_CACHE_MS: z.coerce.number().int().min(0).default(5000),
  PROJECTIONS_TABLE: table,
  PAYMENT_SIMULATOR_TABLE: table,
  /** The payment gateway's circuit breaker: its table and its stage params. */
  CIRCUITS_TABLE: table,
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().positive(),
  CIRCUIT_WINDOW_SECONDS: z.coerce.number().positive(),
  CIRCUIT_COOL_DOWN_SECONDS: z.coerce.number().positive(),
});
export type StageEnvironment = z.infer<typeof StageEnvironment>;
