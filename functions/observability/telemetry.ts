import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { CommandContext } from '../../application/handleCommand.js';
import type { EventStore, StreamAppend } from '../../eventstore/types.js';
import type { Logger } from './logger.js';
import { metrics } from './metrics.js';
import { initTracing, tracer } from './tracing.js';

/**
 * The first middleware of every handler's stack, so it wraps all the others: loads the tracer once, runs Powertools'
 * `captureLambdaHandler` (the invocation's `## <handler>` subsegment) when tracing is on, and at the end, success or
 * failure, closes it and flushes the metrics once. (Powertools' `logMetrics` takes its Metrics instances when the
 * stack is built; ours are made per dimension set as values arrive, so the flush stays here.)
 */
export const telemetry = <Event, Result, C extends Context = Context>(): MiddlewareObj<Event, Result, Error, C> => {
  const flush = (): void => {
    // Losing the metrics must never fail the invocation, nor hide the error it is failing with.
    try {
      metrics().flush();
    } catch {
      /* nothing to tell: the log is where it would go */
    }
  };
  return {
    before: async (request) => {
      await initTracing();
      await tracer().handler.before?.(request);
    },
    after: async (request) => {
      await tracer().handler.after?.(request);
      flush();
    },
    onError: async (request) => {
      await tracer().handler.onError?.(request);
      flush();
    },
  };
};

/** Counts the order outcomes an append committed. */
const countOutcomes = (appends: StreamAppend[]): void => {
  for (const { events } of appends) {
    for (const event of events) {
      switch (event.type) {
        case 'OrderPlaced':
          metrics().add('OrdersPlaced', 1);
          break;
        case 'OrderConfirmed':
          metrics().add('OrdersConfirmed', 1);
          break;
        case 'OrderRejected':
          metrics().add('OrdersRejected', 1, { reason: String(event.data.reason) });
          break;
        case 'OrderCancelled':
          metrics().add('OrdersCancelled', 1);
          break;
      }
    }
  }
};

/**
 * The event store as a function's commands see it, metered at the port: an order outcome is counted only once its
 * append has committed, so a retried or idempotent command, which appends nothing, never counts twice. (Lost races
 * are counted by {@link onConflict}: only the command knows a race from a state it assumed.) `onCommitted` hears of
 * each committed append too.
 */
export const observedStore = (store: EventStore, onCommitted?: (appends: StreamAppend[]) => void): EventStore => ({
  readStream: (...args) => store.readStream(...args),
  readSnapshot: (...args) => store.readSnapshot(...args),
  writeSnapshot: (...args) => store.writeSnapshot(...args),
  readBalance: (...args) => store.readBalance(...args),
  readBalances: (...args) => store.readBalances(...args),
  readClaim: (...args) => store.readClaim(...args),
  append: async (appends, metadata, options) => {
    const result = await store.append(appends, metadata, options);
    countOutcomes(appends);
    onCommitted?.(appends);
    return result;
  },
});

/**
 * Counts each lost race (`CommandConflicts`, retried or not) and logs and counts the retry after it. A stream that
 * another writer had already created is read to answer, not raced for: an info line, and nothing counted. A state the
 * command assumed, found out of date, is no race either: a debug line.
 */
export const onConflict =
  (logger: Logger, message = 'command lost a race; retrying'): CommandContext['onConflict'] =>
  (error, attempt, { retrying, assumed }) => {
    if (error.alreadyCreated) {
      if (!retrying) return;
      logger.info(
        'the stream this command creates exists already (a resend, or a duplicate sent at once); reading it',
        {
          streams: error.streamIds,
        },
      );
      return;
    }
    if (assumed) {
      logger.debug('the stream moved on from the state this command assumed; reading it', { streams: error.streamIds });
      return;
    }
    metrics().add('CommandConflicts', 1);
    if (!retrying) return;
    metrics().add('CommandRetries', 1);
    logger.warn(message, { streams: error.streamIds, attempt });
  };
