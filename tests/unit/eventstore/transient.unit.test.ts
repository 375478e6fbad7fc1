import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { isTransient } from '../../../eventstore/errors.js';

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('a failure worth trying again', () => {
  it('is a transaction cancelled because an item was throttled, which the SDK does not retry', () => {
    expect(isTransient(cancelled('None', 'ThrottlingError'))).toBe(true);
    expect(isTransient(cancelled('ProvisionedThroughputExceeded', 'None'))).toBe(true);
    expect(isTransient(cancelled('None', 'TransactionInProgress'))).toBe(true);
  });

  it('is a throttle, a 5xx, a timeout or a dropped connection', () => {
    expect(isTransient(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('busy'), { name: 'TransactionInProgressException' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('oops'), { $metadata: { httpStatusCode: 500 } }))).toBe(true);
    expect(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    // Whatever the SDK itself marks retryable.
    expect(isTransient(Object.assign(new Error('busy'), { name: 'SomeNewError', $retryable: {} }))).toBe(true);
  });

  it('is not a refusal: a failed condition, an invalid request, or our own bug', () => {
    expect(isTransient(cancelled('ConditionalCheckFailed', 'None'))).toBe(false);
    expect(isTransient(cancelled('ValidationError'))).toBe(false);
    expect(
      isTransient(Object.assign(new Error('bad'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } })),
    ).toBe(false);
    expect(isTransient(new TypeError('x is undefined'))).toBe(false);
  });
});
