import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { decodeChangeRecords } from '../../adapters/changeRecords.js';
import { sagaInput } from '../../application/saga.js';
import { eventSchemas } from '../../composition/schemas.js';
import type { StoredEvent } from '../../eventstore/types.js';
import { config } from '../config.js';
import { eventStore, services } from '../dependencies.js';
import { baseLogger } from '../observability/log.js';
import { telemetry } from '../observability/telemetry.js';
import { tracer } from '../observability/tracing.js';
import { parkUnreadable } from './parkUnreadable.js';

let sfn: SFNClient | undefined;
const schemas = eventSchemas;

/** The events a record carries; throws for one that does not decode. */
const eventsOf = (record: KinesisStreamRecord): StoredEvent[] =>
  decodeChangeRecords(record, schemas).map(({ event }) => event);

/** A record's events, or nothing for one that does not decode: the record's own turn reports it. */
const decodedOrUndefined = (record: KinesisStreamRecord): StoredEvent[] | undefined => {
  try {
    return eventsOf(record);
  } catch {
    return undefined;
  }
};

/**
 * Starts one order saga per `StockReserved`: placement appends it after `OrderPlaced` for every order that holds its
 * stock, and an order rejected out of stock has none (ADR 0014). Both are one item, so one record (ADR 0016). The event
 * source mapping's filter lets only records that start with either through; an `OrderPlaced` in the same batch gives
 * the execution the order as placed without a read. The execution is named by the order id, so on a STANDARD workflow a
 * redelivered event cannot start a second one; on EXPRESS it can, and the saga's idempotent steps make two executions
 * end where one would. A record whose events cannot be read parks its stream (`npm run redrive` starts the saga once
 * the cause is fixed); any other failure is reported, for Lambda to deliver the record again.
 */
export const handler = middy<KinesisStreamEvent, KinesisStreamBatchResponse, Error, Context>()
  .use(telemetry())
  .handler(async (event, context) => {
    const stateMachineArn = config().ORDER_SAGA_ARN;
    if (!stateMachineArn) throw new Error('ORDER_SAGA_ARN is not set');
    sfn ??= tracer().captureClient(new SFNClient({}));
    const client = sfn;
    // Each record decoded once; each order's OrderPlaced in this batch, by stream: the order as placed, at hand for
    // its StockReserved.
    const decoded = new Map(event.Records.map((record) => [record, decodedOrUndefined(record)]));
    const placements = new Map<string, StoredEvent>();
    for (const placed of [...decoded.values()].flat()) {
      if (placed?.type === 'OrderPlaced') placements.set(placed.streamId, placed);
    }
    const start = async (record: KinesisStreamRecord): Promise<void> => {
      let logger = baseLogger().child({
        function: context.functionName,
        sequenceNumber: record.kinesis.sequenceNumber,
      });
      try {
        // One that did not decode is decoded again here, to report why.
        const events = decoded.get(record) ?? eventsOf(record);
        const reserved = events.find(({ type }) => type === 'StockReserved');
        if (!reserved) return;
        const input = await sagaInput(reserved, placements.get(reserved.streamId), eventStore());
        const { orderId, correlationId } = input;
        logger = logger.child({ orderId, correlationId, execution: orderId });
        await tracer().inSubsegment(`### ${orderId}`, { orderId, correlationId }, async () => {
          try {
            const { executionArn } = await client.send(
              new StartExecutionCommand({
                stateMachineArn,
                name: orderId,
                // The order as placed travels with the execution: its steps need not read what never changes.
                input: JSON.stringify(input),
              }),
            );
            logger.info('order saga started', { executionArn });
          } catch (error) {
            if (!(error instanceof ExecutionAlreadyExists)) throw error;
            logger.info('order saga already started; redelivery ignored');
          }
        });
      } catch (error) {
        if (await parkUnreadable('startSaga', error, services().parking, logger)) return;
        logger.error('could not start the order saga; Lambda will deliver the record again', { error });
        throw error;
      }
    };
    // A batch's sagas start at once: each is its own order's, so their order does not matter, and a failed one is
    // redelivered from its sequence number with those after it, whose starts are then ignored as already made.
    // Started one after another, a batch of 50 took 1.4–2.8 s in a flash sale (npm run bench -- flashsale). Every
    // failed one reported, even when all of them fail. A processor per invocation: the local stack may run two
    // shards' batches through one process at once.
    return processPartialResponse(event, start, new BatchProcessor(EventType.KinesisDataStreams), {
      processInParallel: true,
      throwOnFullBatchFailure: false,
    });
  });
