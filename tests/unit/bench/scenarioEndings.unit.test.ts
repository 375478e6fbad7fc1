import { describe, expect, it } from 'vitest';
import { describeEnding, expectedEndings, givenUpPastItsBound } from '../../../bench/scenario.js';

describe('how a chaos order with a step failing for good may end', () => {
  it('given up by the catch-all, or, for the payment step, past the wait for a gateway the breaker holds shut', () => {
    expect(expectedEndings('confirmed', { step: 'authorizePayment', when: 'before' })).toEqual([
      { status: 'REJECTED', reason: 'UNAVAILABLE' },
      { status: 'REJECTED', reason: 'PAYMENT_UNAVAILABLE' },
    ]);
    // The confirmation step never meets the breaker: only the catch-all gives its order up.
    expect(expectedEndings('confirmed', { step: 'confirmOrder', when: 'before' })).toEqual([
      { status: 'REJECTED', reason: 'UNAVAILABLE' },
    ]);
    expect(expectedEndings('confirmed', { step: 'confirmOrder', when: 'after' })).toEqual([{ status: 'CONFIRMED' }]);
    expect(expectedEndings('cancelledEarly', { step: 'authorizePayment', when: 'after' })).toEqual([
      { status: 'CANCELLED' },
      { status: 'REJECTED', reason: 'UNAVAILABLE' },
      { status: 'REJECTED', reason: 'PAYMENT_UNAVAILABLE' },
    ]);
  });

  it('says an ending with its reason, as a mismatch names what was expected', () => {
    expect(describeEnding({ status: 'REJECTED', reason: 'UNAVAILABLE' })).toBe('REJECTED (UNAVAILABLE)');
    expect(describeEnding({ status: 'CONFIRMED' })).toBe('CONFIRMED');
    expect(describeEnding(undefined)).toBe('unseen');
  });
});

describe('an order given up PAYMENT_UNAVAILABLE, read from its history', () => {
  const placed = { type: 'OrderPlaced', data: {}, recordedAt: '2026-12-01T10:00:00.000Z' };
  const awaited = {
    type: 'PaymentAwaited',
    data: { since: '2026-12-01T10:00:01.000Z', until: '2026-12-01T10:00:15.000Z' },
    recordedAt: '2026-12-01T10:00:01.000Z',
  };
  const rejectedAt = (recordedAt: string) => ({ type: 'OrderRejected', data: {}, recordedAt });

  it('was given up as designed when it waited for the gateway and was rejected at or past the bound it recorded', () => {
    expect(givenUpPastItsBound([placed, awaited, rejectedAt('2026-12-01T10:00:15.000Z')])).toBe(true);
    expect(givenUpPastItsBound([placed, awaited, rejectedAt('2026-12-01T10:00:16.200Z')])).toBe(true);
  });

  it('was not, when it was rejected before its bound, or never waited for the gateway', () => {
    expect(givenUpPastItsBound([placed, awaited, rejectedAt('2026-12-01T10:00:14.999Z')])).toBe(false);
    expect(givenUpPastItsBound([placed, rejectedAt('2026-12-01T10:00:20.000Z')])).toBe(false);
    expect(givenUpPastItsBound([placed, awaited])).toBe(false);
  });
});
