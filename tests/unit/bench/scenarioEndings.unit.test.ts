import { describe, expect, it } from 'vitest';
import { describeEnding, expectedEndings } from '../../../bench/scenario.js';

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
