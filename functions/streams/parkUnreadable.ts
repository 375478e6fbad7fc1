import { UnreadableEventsError } from '../../adapters/changeRecords.js';
import { CorruptEventError, UpcasterError } from '../../eventstore/errors.js';
import type { ParkingLot } from '../../projections/ports.js';
import { describeFailure } from '../../projections/projection.js';
import type { Logger } from '../../ports/logger.js';
import { metrics } from '../observability/metrics.js';
import type { SagaConsumer } from './sagaConsumers.js';

/**
 * Parks the stream of a change whose events cannot be read (an upcaster or a schema that throws on them, in the change
 * itself or in the stream it reads), under the
 * consumer's name, and answers true; anything else, false, for the caller to report as a failed record. Lambda's
 * retries cannot help such a change, and after them it went to the failure queue, where nothing looks for it again: an
 * order whose saga never started, or a cancelled order whose payment was never voided. Parked, `npm run redrive` does
 * what the consumer would have, once the cause is fixed (ops/redriveSagas.ts), and ParkedStreamsAlarm pages.
 */
export const parkUnreadable = async (
  consumer: SagaConsumer,
  error: unknown,
  parking: ParkingLot,
  logger: Logger,
  /**
   * The order's stream, when the consumer knows it: parked under it whatever stream threw (a cancellation's
   * compensation reads the order's payment stream too), since the redrive works by order. Its error names the other.
   */
  orderStream?: string,
): Promise<boolean> => {
  const unreadable =
    error instanceof UnreadableEventsError
      ? { ...error.change, why: describeFailure(error.cause) }
      : error instanceof CorruptEventError || error instanceof UpcasterError
        ? { streamId: error.streamId, version: error.version, why: describeFailure(error) }
        : undefined;
  if (!unreadable) return false;
  const elsewhere = orderStream !== undefined && orderStream !== unreadable.streamId;
  const streamId = orderStream ?? unreadable.streamId;
  // The version of the order's stream is unknown when another stream threw: 1, the redrive starts from the order.
  // The error names the stream that threw (an UpcasterError's or a CorruptEventError's message does), as a redrive
  // that meets it again words it.
  const version = elsewhere ? 1 : unreadable.version;
  const { why } = unreadable;
  await parking.park({ projection: consumer, streamId, version, error: why, parkedAt: new Date().toISOString() });
  metrics().add('StreamsParked', 1, { projection: consumer });
  logger.error('poison event: stream parked until redriven', { streamId, version, error: why });
  return true;
};
