import { afterEach, describe, expect, it, vi } from 'vitest';
import { CorruptEventError, UpcasterError } from '../../../eventstore/errors.js';
import { metrics } from '../../../functions/observability/metrics.js';
import { parkUnreadable } from '../../../functions/streams/parkUnreadable.js';
import type { Logger } from '../../../ports/logger.js';
import { memoryParkingLot } from '../../support/memoryParkingLot.js';

const recordingLogger = () => {
  const lines: [string, unknown][] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message, fields) => void lines.push([message, fields]),
    child: () => logger,
  };
  return { logger, lines };
};

afterEach(() => vi.restoreAllMocks());

describe('parkUnreadable', () => {
  it('parks a stream whose events an upcaster throws on, at the version that threw, counts it and says so', async () => {
    const lot = memoryParkingLot();
    const { logger, lines } = recordingLogger();
    const added = vi.spyOn(metrics(), 'add');
    const error = new UpcasterError('order-y', 3, 'OrderPlaced', 1, new TypeError('broken'));

    expect(await parkUnreadable('startSaga', error, lot, logger)).toBe(true);

    const why =
      'UpcasterError: The upcaster of OrderPlaced from schema version 1 throws on order-y@3: TypeError: broken';
    expect(await lot.list('startSaga')).toEqual([
      { projection: 'startSaga', streamId: 'order-y', version: 3, error: why, parkedAt: expect.any(String) },
    ]);
    // ParkedStreamsAlarm's metric, by the consumer's name; the runbook's line, naming the stream.
    expect(added).toHaveBeenCalledWith('StreamsParked', 1, { projection: 'startSaga' });
    expect(lines).toEqual([
      ['poison event: stream parked until redriven', { streamId: 'order-y', version: 3, error: why }],
    ]);
  });

  it('parks an event of a newer writer (a schema version this code does not know) as well', async () => {
    const lot = memoryParkingLot();
    const error = new CorruptEventError('order-z', 2, { cause: new Error('zod says no'), schemaVersion: 9 });
    expect(await parkUnreadable('compensateCancellation', error, lot, recordingLogger().logger)).toBe(true);
    expect(await lot.list('compensateCancellation')).toMatchObject([
      {
        streamId: 'order-z',
        version: 2,
        error: 'CorruptEventError: Event order-z@2 (schema version 9) does not match its schema. (zod says no)',
      },
    ]);
  });

  it('parks by the order’s stream, from its start, when another of its streams threw; at the version, when its own did', async () => {
    const lot = memoryParkingLot();
    const { logger } = recordingLogger();
    const payment = new UpcasterError('payment-x', 3, 'PaymentAuthorized', 1, new TypeError('broken'));
    await parkUnreadable('compensateCancellation', payment, lot, logger, 'order-x');
    const own = new UpcasterError('order-w', 4, 'OrderCancelled', 1, new TypeError('broken'));
    await parkUnreadable('compensateCancellation', own, lot, logger, 'order-w');
    expect(await lot.list('compensateCancellation')).toMatchObject([
      { streamId: 'order-x', version: 1, error: expect.stringContaining('throws on payment-x@3') },
      { streamId: 'order-w', version: 4 },
    ]);
  });

  it('leaves any other failure to the caller, and fails if the parking itself fails', async () => {
    const lot = memoryParkingLot();
    const { logger } = recordingLogger();
    expect(await parkUnreadable('startSaga', new Error('throttled'), lot, logger)).toBe(false);
    expect(lot.names()).toEqual([]);
    const refusing = { ...lot, park: () => Promise.reject(new Error('AccessDenied')) };
    const error = new UpcasterError('order-v', 1, 'OrderPlaced', 1, new TypeError('broken'));
    await expect(parkUnreadable('startSaga', error, refusing, logger)).rejects.toThrow('AccessDenied');
  });
});
