import { describe, expect, it } from 'vitest';
import {
  chooseMemory,
  costTolerance,
  durationAt,
  invocationCost,
  oneVcpuMb,
  tracesPerOrder,
} from '../../../bench/power.js';
import { prices } from '../../../bench/prices.js';

describe('a function’s duration at a memory size', () => {
  it('keeps the waiting as measured and stretches the CPU work by the share of a vCPU the size buys', () => {
    const timing = { wallMs: 20, cpuMs: 5 };
    expect(durationAt(timing, oneVcpuMb)).toBe(20);
    expect(durationAt(timing, oneVcpuMb / 2)).toBeCloseTo(15 + 10);
    expect(durationAt(timing, oneVcpuMb / 4)).toBeCloseTo(15 + 20);
  });

  it('is no faster than measured above one vCPU: one Node thread cannot use a second', () => {
    expect(durationAt({ wallMs: 20, cpuMs: 5 }, 4096)).toBe(20);
  });

  it('counts no more CPU than the invocation lasted, nor less than none', () => {
    expect(durationAt({ wallMs: 10, cpuMs: 14 }, oneVcpuMb / 2)).toBeCloseTo(20);
    expect(durationAt({ wallMs: 10, cpuMs: -1 }, 256)).toBe(10);
  });
});

describe('the price of an invocation', () => {
  it('is the request and the duration billed by the millisecond, at the size', () => {
    const timing = { wallMs: 9.2, cpuMs: 0 };
    expect(invocationCost(timing, 1024)).toBeCloseTo(prices.lambda.request + 0.01 * prices.lambda.gbSecond, 15);
    expect(invocationCost(timing, 512)).toBeCloseTo(prices.lambda.request + 0.005 * prices.lambda.gbSecond, 15);
  });
});

describe('the memory size a function gets', () => {
  it('is the smallest for a function that only waits: more memory would cost more and save nothing', () => {
    expect(chooseMemory({ wallMs: 30, cpuMs: 0 })).toBe(256);
  });

  it('is one vCPU for a function that only computes: its GB-seconds stay the same while its duration falls', () => {
    expect(chooseMemory({ wallMs: 30, cpuMs: 30 })).toBe(oneVcpuMb);
  });

  it('is the fastest size within 10% of the cheapest, for a function that both waits and computes', () => {
    // Waits 10 ms, computes 6: 256 MB costs least (52 ms); 512 MB costs 9% more (31 ms), 1,024 MB 29% more.
    const timing = { wallMs: 16, cpuMs: 6 };
    const sizes = [256, 512, 1024, oneVcpuMb];
    expect(invocationCost(timing, 512) / invocationCost(timing, 256)).toBeLessThan(1 + costTolerance);
    expect(invocationCost(timing, 1024) / invocationCost(timing, 256)).toBeGreaterThan(1 + costTolerance);
    expect(chooseMemory(timing, sizes)).toBe(512);
  });

  it('takes the smaller of two sizes as fast and as cheap', () => {
    expect(chooseMemory({ wallMs: 30, cpuMs: 0 }, [1024, 512, 512])).toBe(512);
  });
});

describe('X-Ray traces per order', () => {
  const sampling = { reservoirPerSecond: 1, fixedRate: 0.05 };
  it('traces every request below one a second, then the first each second and 5% of the rest', () => {
    // 0.5 orders/s: each entry point sees fewer than one request a second, so every one is traced.
    expect(tracesPerOrder([{ perOrder: 1 }, { perOrder: 0.5 }], 0.5, sampling)).toBeCloseTo(1.5);
    // 20 orders/s on one entry point: 1 + 5% of 19 traces a second, for 20 orders.
    expect(tracesPerOrder([{ perOrder: 1 }], 20, sampling)).toBeCloseTo((1 + 0.05 * 19) / 20);
    // Entry points count apart, each with its own first request a second.
    expect(tracesPerOrder([{ perOrder: 1 }, { perOrder: 1 }], 20, sampling)).toBeCloseTo((2 * (1 + 0.05 * 19)) / 20);
    expect(tracesPerOrder([], 20, sampling)).toBe(0);
  });
});
