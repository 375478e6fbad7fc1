import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import type { CommandContext } from '../../application/handleCommand.js';
import type { StepOutcome } from '../../application/saga.js';
import { RejectionReason } from '../../domain/order/index.js';
import { eventStore } from './dependencies.js';
import { baseLogger } from './log.js';
import type { Logger } from './logger.js';

/** What every saga Task receives (the state machine's Parameters). */
export const SagaInput = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  executionName: z.string().min(1),
  reason: RejectionReason.optional(),
});
export type SagaInput = z.infer<typeof SagaInput>;

/**
 * The one stack of every saga step: validates the input, binds the order id, correlation id and execution name to
 * the logger, gives the step a command context whose events carry the request's correlation id, and answers the
 * step's outcome. A business failure is thrown as is: its name is what the state machine's Catch matches.
 */
export const sagaHandler = (
  step: string,
  run: (input: SagaInput, context: CommandContext, logger: Logger) => Promise<StepOutcome | undefined>,
) =>
  middy<unknown, { outcome: StepOutcome }, Error, Context>().handler(async (event, lambdaContext) => {
    const input = SagaInput.parse(event);
    const logger = baseLogger().child({
      function: lambdaContext.functionName,
      step,
      orderId: input.orderId,
      correlationId: input.correlationId,
      execution: input.executionName,
    });
    const context: CommandContext = {
      store: eventStore(),
      metadata: {
        correlationId: input.correlationId,
        causationId: input.executionName,
        commandId: randomUUID(),
        actor: 'saga',
      },
      onConflict: (error, attempt) =>
        logger.warn('saga step lost a race; retrying', { streams: error.streamIds, attempt }),
    };
    logger.info('saga step started');
    try {
      const outcome = (await run(input, context, logger)) ?? 'PROCEED';
      logger.info('saga step finished', { outcome });
      return { outcome };
    } catch (error) {
      logger.warn('saga step failed', { error: { name: (error as Error).name, message: (error as Error).message } });
      throw error;
    }
  });
