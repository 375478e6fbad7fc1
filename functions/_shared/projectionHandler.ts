import middy from '@middy/core';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { type ChangeRecord, decodeChangeRecord } from '../../adapters/changeRecords.js';
import { dynamoParkingLot } from '../../adapters/parking.js';
import { dynamoViewStore } from '../../adapters/viewStore.js';
import type { DomainEvent, StoredEvent } from '../../eventstore/types.js';
import { eventSchemaRegistry } from '../../eventstore/upcasting.js';
import type { Projection } from '../../projections/projection.js';
import { runProjection } from '../../projections/runner.js';
import { type Config, config } from './config.js';
import { documentClientSingleton, eventStore } from './dependencies.js';
import { baseLogger } from './log.js';
import type { Logger } from './logger.js';
import { metrics } from './metrics.js';
import { telemetry } from './telemetry.js';
import { tracer } from './tracing.js';

const textField = (data: Record<string, unknown>, key: string): string | undefined =>
  typeof data[key] === 'string' ? data[key] : undefined;

/**
 * Per applied event: a log line and a trace mark carrying its order (and SKU) and correlation id, so the order can
 * be followed into the projection, and ProjectionLag, now minus the event's `recordedAt`. Never throws: the events
 * are applied already.
 */
const observeApplied = (projection: string, logger: Logger) => (events: StoredEvent[]) => {
  for (const event of events) {
    try {
      const lagMs = Math.max(0, Date.now() - Date.parse(event.recordedAt));
      const orderId = textField(event.data, 'orderId');
      const sku = textField(event.data, 'sku');
      const { correlationId } = event.metadata;
      metrics().add('ProjectionLag', lagMs, { projection });
      tracer().mark(`### ${event.streamId}`, { orderId, sku, correlationId });
      logger.info('event projected', {
        streamId: event.streamId,
        version: event.version,
        type: event.type,
        ...(orderId ? { orderId } : {}),
        ...(sku ? { sku } : {}),
        correlationId,
        lagMs,
      });
    } catch (error) {
      logger.warn('could not record an applied event', { error, streamId: event.streamId });
    }
  }
};

/**
 * The Kinesis consumer of one projection. It answers with a partial batch response: undecodable records and
 * transient failures are reported, so Lambda delivers them again (and, past its retries, sends the batch to the
 * on-failure queue); poison events are parked by the runner and do not hold the shard.
 */
export const projectionHandler = <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  tableVariable: keyof Pick<Config, 'ORDERS_TABLE' | 'INVENTORY_TABLE'>,
) => {
  const schemas = eventSchemaRegistry();
  return middy<KinesisStreamEvent, KinesisStreamBatchResponse, Error, Context>()
    .use(telemetry())
    .handler(async (event, context) => {
      const logger = baseLogger().child({ function: context.functionName, projection: projection.name });
      const client = documentClientSingleton();
      const records: ChangeRecord[] = [];
      const failures: string[] = [];
      for (const record of event.Records) {
        try {
          records.push(decodeChangeRecord(record, schemas));
        } catch (error) {
          logger.error('undecodable record; Lambda will retry it, then send it to the failure queue', {
            error,
            sequenceNumber: record.kinesis.sequenceNumber,
          });
          failures.push(record.kinesis.sequenceNumber);
        }
      }
      const store = eventStore();
      const result = await runProjection(projection, records, {
        views: dynamoViewStore<View>({ client, table: config()[tableVariable] }),
        parking: dynamoParkingLot({ client, table: config().PROJECTIONS_TABLE }),
        readRange: (streamId, after, to) => store.readStream(streamId, { afterVersion: after, toVersion: to }),
        logger,
        onApplied: observeApplied(projection.name, logger),
      });
      failures.push(...result.retry.map((r) => r.sequenceNumber));
      logger.info('batch projected', {
        records: event.Records.length,
        applied: result.applied,
        duplicates: result.duplicates,
        heldBack: result.heldBack,
        parked: result.parked.length,
        failed: failures.length,
      });
      return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
    });
};
