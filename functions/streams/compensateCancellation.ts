import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { decodeChangeRecord } from '../../adapters/changeRecords.js';
import { compensateCancellation } from '../../application/saga.js';
import { eventSchemaRegistry } from '../../eventstore/upcasting.js';
import { eventStore, paymentGateway } from '../_shared/dependencies.js';
import { baseLogger } from '../_shared/log.js';
import { observedStore, onConflict, telemetry } from '../_shared/telemetry.js';
import { tracer } from '../_shared/tracing.js';

const schemas = eventSchemaRegistry();

/**
 * What a cancellation sets off, from its `OrderCancelled` event (the mapping's filter lets no other event in): the
 * order's units back to available stock, reserved or sold, and its payment refunded. Idempotent; a failure is
 * reported so Lambda delivers the event again (5 times, then to the failure queue, so one cannot stall the rest).
 */
export const handler = middy<KinesisStreamEvent, KinesisStreamBatchResponse, Error, Context>()
  .use(telemetry())
  .handler(async (event, context) => {
    const failures: string[] = [];
    for (const record of event.Records) {
      const { sequenceNumber } = record.kinesis;
      let logger = baseLogger().child({ function: context.functionName, sequenceNumber });
      try {
        const { event: cancelled } = decodeChangeRecord(record, schemas);
        if (cancelled.type !== 'OrderCancelled') continue;
        const orderId = String(cancelled.data.orderId);
        const { correlationId } = cancelled.metadata;
        logger = logger.child({ orderId, correlationId });
        const log = logger;
        await tracer().inSubsegment(`### ${orderId}`, { orderId, correlationId }, () =>
          compensateCancellation(
            orderId,
            {
              store: observedStore(eventStore()),
              metadata: { correlationId, causationId: cancelled.eventId, commandId: randomUUID(), actor: 'saga' },
              onConflict: onConflict(log),
            },
            paymentGateway(),
          ),
        );
        logger.info('cancellation compensated: stock returned, payment refunded if it was authorized');
      } catch (error) {
        logger.error('compensation failed; Lambda will deliver the cancellation again', { error });
        failures.push(sequenceNumber);
      }
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  });
