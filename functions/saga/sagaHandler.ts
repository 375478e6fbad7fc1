import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { CommandContext } from '../../application/handleCommand.js';
import type { PaymentWait, StepOutcome } from '../../application/saga.js';
import { OrderPlaced, orderStreamId, RejectionReason } from '../../domain/order/index.js';
import type { EventStore, StreamAppend } from '../../eventstore/types.js';
import { eventStore } from '../dependencies.js';
import { baseLogger } from '../observability/log.js';
import type { Logger } from '../observability/logger.js';
import { metrics } from '../observability/metrics.js';
import { observedStore, onConflict, telemetry } from '../observability/telemetry.js';
import { tracer } from '../observability/tracing.js';

/** The order as placed, as an execution carries it: today's `OrderPlaced` data but its payment token. */
const CarriedPlaced = z.object(OrderPlaced.shape.data.omit({ paymentToken: true }).shape);

/** What every saga Task receives (the state machine's Parameters). */
export const SagaInput = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  executionName: z.string().min(1),
  reason: RejectionReason.optional(),
  /** The execution's start (`$$.Execution.StartTime`): what AwaitPayment's bound counts from. */
  startedAt: z.iso.datetime({ offset: true }).optional(),
  /**
   * The order as placed, carried from the `OrderPlaced` that started the execution, so steps need not read it; not
   * its payment token (application/saga.ts, `CarriedOrder`). An input that still holds one, from an execution started
   * before, has it dropped here.
   */
  placed: CarriedPlaced.optional(),
  /** When the order was placed (its `OrderPlaced`'s `recordedAt`): what SagaDuration counts from. */
  placedAt: z.iso.datetime({ offset: true }).optional(),
});
export type SagaInput = z.infer<typeof SagaInput>;

const settlements = { OrderConfirmed: 'CONFIRMED', OrderRejected: 'REJECTED' } as const;

/** The order's outcome, if this step's commands committed it. */
const settledBy = (appends: StreamAppend[]): 'CONFIRMED' | 'REJECTED' | undefined => {
  for (const { events } of appends) {
    for (const { type } of events) if (type in settlements) return settlements[type as keyof typeof settlements];
  }
  return undefined;
};

/**
 * SagaDuration: from the order's placement (its first event) to the settlement this step just committed. `placedAt`
 * is known when the step loaded the order's stream, as the settling steps do; else the first event is read.
 */
const recordSagaDuration = async (
  orderId: string,
  outcome: 'CONFIRMED' | 'REJECTED',
  placedAt: string | undefined,
  logger: Logger,
) => {
  try {
    const placed = placedAt ?? (await eventStore().readStream(orderStreamId(orderId), { toVersion: 1 }))[0]?.recordedAt;
    if (placed) metrics().add('SagaDuration', Date.now() - Date.parse(placed), { outcome });
  } catch (error) {
    logger.warn('could not measure the saga duration', { error });
  }
};

/** The step's store, noting when the order was placed as the step reads the order's stream (orders keep no snapshot). */
const noticingPlacement = (store: EventStore, orderId: string, noted: (recordedAt: string) => void): EventStore => ({
  ...store,
  readStream: async (streamId, options) => {
    const events = await store.readStream(streamId, options);
    const placed = streamId === orderStreamId(orderId) ? events.find((e) => e.version === 1) : undefined;
    if (placed) noted(placed.recordedAt);
    return events;
  },
});

/**
 * What a step throws for the state machines to act on: their Catch and Retry rules name these (the unit test reads
 * them from the ASL). A step failing so is expected (a lost race, the gateway down), and says so at warn; a decline
 * is the customer's bank's answer, not a fault, and says so at info; anything else is a defect or an outage, logged
 * whole at error.
 */
const answers = new Set(['PaymentDeclinedError']);
const expectedFailures = new Set([
  ...answers,
  'CircuitOpenError',
  'CircuitProbingError',
  'PaymentGatewayUnavailableError',
  'ConcurrencyError',
  // middy's early timeout: the state machines retry it.
  'TimeoutError',
]);

/**
 * The one stack of every saga step: telemetry, then the step. It validates the input, binds the order id,
 * correlation id and execution name to the logger and the trace, gives the step a command context whose events
 * carry the request's correlation id, and answers the step's outcome. A business failure is thrown as is: its name
 * is what the state machine's Catch matches.
 */
export const sagaHandler = (
  /** The state's name its lines carry; a function of the input where one function runs for two states. */
  step: string | ((input: SagaInput) => string),
  run: (input: SagaInput, context: CommandContext, logger: Logger) => Promise<StepOutcome | PaymentWait | undefined>,
) =>
  middy<unknown, { outcome: StepOutcome } | PaymentWait, Error, Context>()
    .use(telemetry())
    .handler(async (event, lambdaContext) => {
      // The request id joins our lines to Lambda's own (a timeout's, a crash's), which carry nothing else of ours.
      const invocation = baseLogger().child({
        function: lambdaContext.functionName,
        ...(typeof step === 'string' ? { step } : {}),
        awsRequestId: lambdaContext.awsRequestId,
      });
      // An execution started before `OrderPlaced` changed shape carries its order in the old one, which no upcaster
      // reaches: the step reads the order from its stream instead, upcast, as it does with nothing carried. The
      // carried order is parsed once, apart from the rest.
      const isObject = typeof event === 'object' && event !== null;
      const { placed: carried, ...uncarried }: Record<string, unknown> = isObject ? { ...event } : {};
      const placed = carried === undefined ? undefined : CarriedPlaced.safeParse(carried);
      if (placed?.success === false) {
        invocation.info('carried order not in today’s shape; read from its stream', { carried });
      }
      const parsed = SagaInput.safeParse(isObject ? uncarried : event);
      if (!parsed.success) {
        invocation.error('saga step input refused', { error: parsed.error });
        throw parsed.error;
      }
      const input: SagaInput = placed?.success ? { ...parsed.data, placed: placed.data } : parsed.data;
      const logger = invocation.child({
        ...(typeof step === 'string' ? {} : { step: step(input) }),
        orderId: input.orderId,
        correlationId: input.correlationId,
        execution: input.executionName,
      });
      tracer().annotate({ orderId: input.orderId, correlationId: input.correlationId });
      let settled: 'CONFIRMED' | 'REJECTED' | undefined;
      let placedAt = input.placedAt;
      const context: CommandContext = {
        store: noticingPlacement(
          observedStore(eventStore(), (appends) => (settled ??= settledBy(appends))),
          input.orderId,
          (recordedAt) => (placedAt ??= recordedAt),
        ),
        metadata: {
          correlationId: input.correlationId,
          causationId: input.executionName,
          commandId: randomUUID(),
          actor: 'saga',
        },
        onConflict: onConflict(logger, 'saga step lost a race; retrying'),
      };
      // Debug: the step's "finished" line (info) says how it ended; a step that never ends shows in the execution.
      logger.debug('saga step started');
      // On the finished and failed lines, so a step's time reads off one line at info (prod's level).
      const started = Date.now();
      try {
        const result = (await run(input, context, logger)) ?? 'PROCEED';
        const answer = typeof result === 'string' ? { outcome: result } : result;
        if (settled) await recordSagaDuration(input.orderId, settled, placedAt, logger);
        logger.info('saga step finished', {
          ...answer,
          ...(settled ? { settled } : {}),
          durationMs: Date.now() - started,
        });
        return answer;
      } catch (error) {
        const { name, message } = error as Error;
        const durationMs = Date.now() - started;
        const said = { error: { name, message }, durationMs };
        if (answers.has(name)) logger.info('saga step failed', said);
        else if (expectedFailures.has(name)) logger.warn('saga step failed', said);
        else logger.error('saga step failed', { error, durationMs });
        throw error;
      }
    });
