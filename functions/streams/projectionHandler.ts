import middy from '@middy/core';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import {
  type ChangeRecord,
  decodeChangeRecords,
  type UnreadableChange,
  UnreadableEventsError,
} from '../../adapters/changeRecords.js';
import { eventSchemas } from '../../composition/schemas.js';
import type { DomainEvent, StoredEvent } from '../../eventstore/types.js';
import type { ViewStore } from '../../projections/ports.js';
import { type Projection, readRangeOf } from '../../projections/projection.js';
import { parkedIn, type Slot, writePlan } from '../../projections/readModelVersions.js';
import { runProjection, type RunResult } from '../../projections/runner.js';
import { readModelPointer, services } from '../dependencies.js';
import { baseLogger } from '../observability/log.js';
import type { Logger } from '../observability/logger.js';
import { metrics } from '../observability/metrics.js';
import { telemetry } from '../observability/telemetry.js';
import { tracer } from '../observability/tracing.js';

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
      // One line an event, so debug: at info, prod would pay for them as much as for every other line of an order.
      logger.debug('event projected', {
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
 * on-failure queue); poison events, and changes of the events table whose events cannot be read (an upcaster that
 * throws), are parked by the runner and do not hold the shard.
 *
 * It writes every table the read model's pointer asks for (projections/readModelVersions.ts, `writePlan`): the live
 * one, the version kept for rollback and, once its bulk writes are done, a version being built; while they run, it
 * notes the streams it saw for the rebuild's catch-up instead. Only the live table's writes are logged and measured.
 */
export const projectionHandler = <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  /** The read model's views in one of its tables, from the composition root. */
  viewsIn: (slot: Slot) => ViewStore<View>,
) => {
  const schemas = eventSchemas;
  return middy<KinesisStreamEvent, KinesisStreamBatchResponse, Error, Context>()
    .use(telemetry())
    .handler(async (event, context) => {
      const logger = baseLogger().child({ function: context.functionName, projection: projection.name });
      const records: ChangeRecord[] = [];
      const unreadable: UnreadableChange[] = [];
      const failures: string[] = [];
      for (const record of event.Records) {
        try {
          records.push(...decodeChangeRecords(record, schemas));
        } catch (error) {
          if (error instanceof UnreadableEventsError) {
            unreadable.push(error.change);
            continue;
          }
          logger.error('undecodable record; Lambda will retry it, then send it to the failure queue', {
            error,
            sequenceNumber: record.kinesis.sequenceNumber,
          });
          failures.push(record.kinesis.sequenceNumber);
        }
      }
      const stage = services();
      const { store } = stage;
      const pointer = await readModelPointer(projection.name);
      const plan = writePlan(pointer);
      if (plan.noteFor) {
        const seen = [
          ...records.filter((r) => r.eventName === 'INSERT').map((r) => r.event.streamId),
          ...unreadable.map((change) => change.streamId),
        ].filter((streamId) => streamId.startsWith(projection.streamPrefix));
        await stage.notes.note(projection.name, plan.noteFor, seen);
      }
      let result: RunResult | undefined;
      for (const slot of plan.slots) {
        const live = slot === pointer.live.slot;
        const outcome = await runProjection(
          projection,
          records,
          {
            views: viewsIn(slot),
            parking: stage.parking,
            // Each version parks its own poison streams (`orders`, `orders@green`): they hold back its writes only.
            parkedUnder: parkedIn(projection.name, slot),
            readRange: readRangeOf(store),
            // Lines name the projection as the metrics do, and the slot that wrote: one filter finds either slot's.
            logger: logger.child({ slot }),
            ...(live ? { onApplied: observeApplied(projection.name, logger) } : {}),
          },
          unreadable,
        );
        if (live) result = outcome;
        // A parked stream's view stops where it is until someone redrives it: nothing else would say so.
        if (outcome.parked.length > 0)
          metrics().add('StreamsParked', outcome.parked.length, { projection: projection.name });
        for (const { sequenceNumber } of outcome.retry)
          if (!failures.includes(sequenceNumber)) failures.push(sequenceNumber);
      }
      if (!result) throw new Error(`${projection.name}: the write plan has no live table`);
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
