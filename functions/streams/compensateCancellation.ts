import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { decodeChangeRecords } from '../../adapters/changeRecords.js';
import { compensateOrPark } from '../../application/compensation.js';
import { eventSchemas } from '../../composition/schemas.js';
import { compensationParking } from '../compensationParking.js';
import { eventStore, paymentGateway, services } from '../dependencies.js';
import { baseLogger } from '../observability/log.js';
import { metrics } from '../observability/metrics.js';
import { observedStore, onConflict, telemetry } from '../observability/telemetry.js';
import { tracer } from '../observability/tracing.js';
import { parkUnreadable } from './parkUnreadable.js';

const schemas = eventSchemas;
/**
 * What a cancellation sets off, from its `OrderCancelled` event (the mapping's filter lets no other event in): its
 * payment refunded or voided (its stock came back with the cancellation itself, ADR 0013). When the payment
 * gateway is unavailable, the payment part is parked (application/compensation.ts): the
 * compensation state machine retries it until the gateway answers. A record whose events cannot be read parks its
 * stream (`npm run redrive` compensates the order once the cause is fixed). Any other failure is reported so Lambda
 * delivers the event again (5 times, then to the failure queue, so one cannot stall the rest). Idempotent.
 */
export const handler = middy<KinesisStreamEvent, KinesisStreamBatchResponse, Error, Context>()
  .use(telemetry())
  .handler(async (event, context) => {
    const compensate = async (record: KinesisStreamRecord): Promise<void> => {
      let orderStream: string | undefined;
      let logger = baseLogger().child({
        function: context.functionName,
        sequenceNumber: record.kinesis.sequenceNumber,
      });
      try {
        const cancelled = decodeChangeRecords(record, schemas).find(
          ({ event }) => event.type === 'OrderCancelled',
        )?.event;
        if (!cancelled) return;
        const orderId = String(cancelled.data.orderId);
        orderStream = cancelled.streamId;
        const { correlationId } = cancelled.metadata;
        logger = logger.child({ orderId, correlationId });
        const log = logger;
        const done = await tracer().inSubsegment(`### ${orderId}`, { orderId, correlationId }, () =>
          compensateOrPark(
            orderId,
            {
              store: observedStore(eventStore()),
              metadata: { correlationId, causationId: cancelled.eventId, commandId: randomUUID(), actor: 'saga' },
              onConflict: onConflict(log),
            },
            paymentGateway(log),
            compensationParking(),
          ),
        );
        if (done.outcome === 'COMPENSATED') {
          // `payment…` keys are redacted in logs: say what happened to it under another name.
          logger.info('cancellation compensated: payment refunded or voided', {
            refunded: done.payment === 'REFUNDED',
          });
        } else if (done.alreadyParked) {
          logger.info('cancellation delivered again while its compensation is parked; nothing more to do');
        } else {
          metrics().add('CompensationsParked', 1);
          logger.warn('payment gateway unavailable: the payment compensation is parked until it answers', {
            error: { name: done.cause.name, message: done.cause.message },
          });
        }
      } catch (error) {
        if (await parkUnreadable('compensateCancellation', error, services().parking, logger, orderStream)) return;
        logger.error('compensation failed; Lambda will deliver the cancellation again', { error });
        throw error;
      }
    };
    // A shard's records one after another, in order; every failed one reported, even when all of them fail. A
    // processor per invocation: the local stack may run two shards' batches through one process at once.
    return processPartialResponse(event, compensate, new BatchProcessor(EventType.KinesisDataStreams), {
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
  });
