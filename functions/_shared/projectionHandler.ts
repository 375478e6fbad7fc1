import middy from '@middy/core';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { type ChangeRecord, decodeChangeRecord } from '../../adapters/changeRecords.js';
import { dynamoParkingLot } from '../../adapters/parking.js';
import { dynamoViewStore } from '../../adapters/viewStore.js';
import type { DomainEvent } from '../../eventstore/types.js';
import { eventSchemaRegistry } from '../../eventstore/upcasting.js';
import type { Projection } from '../../projections/projection.js';
import { runProjection } from '../../projections/runner.js';
import { type Config, config } from './config.js';
import { documentClientSingleton, eventStore } from './dependencies.js';
import { baseLogger } from './log.js';

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
  return middy<KinesisStreamEvent, KinesisStreamBatchResponse, Error, Context>().handler(async (event, context) => {
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
