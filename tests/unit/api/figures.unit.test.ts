import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { figure } from '../../../api/figures.js';

describe('figure: a number in the API’s words, without ICU', () => {
  it('writes what toLocaleString("en-US") writes, for whole numbers and for up to three decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e15, max: 1e15 }), fc.integer({ min: 0, max: 999 }), (whole, thousandths) => {
        const value = whole + Math.sign(whole || 1) * (thousandths / 1000);
        expect(figure(value)).toBe(value.toLocaleString('en-US', { maximumFractionDigits: 20 }));
      }),
    );
  });

  it('writes bigints, and the figures the schemas bound', () => {
    expect(figure(1_000_000_000n)).toBe('1,000,000,000');
    expect([0, 1, 50, 100, 1_000, 1_000_000, -2_500.5].map(figure)).toEqual([
      '0',
      '1',
      '50',
      '100',
      '1,000',
      '1,000,000',
      '-2,500.5',
    ]);
  });
});
