import * as z from 'zod';

/**
 * What the wiring needs of a stage: its tables and the settings of its shared parts, as serverless.yml names them
 * in every function's environment. Lambda reads it from `process.env`; ops commands from the stage's serverless.yml.
 */
export const StageEnvironment = z.object({
  EVENTS_TABLE: z.string().min(1),
  SNAPSHOTS_TABLE: z.string().min(1),
  ORDERS_TABLE: z.string().min(1),
  PRODUCTS_TABLE: z.string().min(1),
  /** Each read model's second table (its green slot, ADR 0009), and how long the pointer to the live one is kept. */
  ORDERS_GREEN_TABLE: z.string().min(1),
  PRODUCTS_GREEN_TABLE: z.string().min(1),
  READ_MODEL_CACHE_MS: z.coerce.number().int().min(0).default(5000),
  PROJECTIONS_TABLE: z.string().min(1),
  PAYMENT_SIMULATOR_TABLE: z.string().min(1),
  /** The payment gateway's circuit breaker: its table and its stage params. */
  CIRCUITS_TABLE: z.string().min(1),
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().positive(),
  CIRCUIT_WINDOW_SECONDS: z.coerce.number().positive(),
  CIRCUIT_COOL_DOWN_SECONDS: z.coerce.number().positive(),
});
export type StageEnvironment = z.infer<typeof StageEnvironment>;
