import { describe, expect, it, vi } from 'vitest';
import { invoke } from '../../../local/lambda.js';
import { firstFiringInMs, rateMs, schedulesOf, startSchedules } from '../../../local/schedules.js';
import type { ServerlessConfig } from '../../../local/serverlessConfig.js';

// The invocations are counted, not run: what is under test is when a schedule fires.
vi.mock('../../../local/lambda.js', () => ({
  functionHandlers: () => async () => async () => undefined,
  invoke: vi.fn(async () => undefined),
}));

const config = (events: Record<string, unknown>[]): ServerlessConfig => ({
  service: 'orderflow',
  provider: { stage: 'test', region: 'eu-west-1' },
  functions: {
    sweepPendingOrders: { handler: 'functions/jobs/sweepPendingOrders.handler', events },
    placeOrder: { handler: 'functions/http/placeOrder.handler', events: [{ httpApi: { path: '/orders' } }] },
  },
});

describe('local schedules', () => {
  it('reads rate expressions as EventBridge does, and nothing else', () => {
    expect(rateMs('rate(5 minutes)')).toBe(300_000);
    expect(rateMs('rate(1 minute)')).toBe(60_000);
    expect(rateMs('rate(2 hours)')).toBe(7_200_000);
    expect(rateMs('rate(1 day)')).toBe(86_400_000);
    expect(rateMs('rate(30 seconds)')).toBe(30_000);
    expect(rateMs('cron(0 12 * * ? *)')).toBeUndefined();
    expect(rateMs('rate(0 minutes)')).toBeUndefined();
    expect(rateMs('every 5 minutes')).toBeUndefined();
  });

  it('finds every schedule event of every function, as sls print resolves them', () => {
    expect(
      schedulesOf(
        config([
          { schedule: { rate: ['rate(5 minutes)'], enabled: false } },
          { schedule: 'rate(1 hour)' },
          { schedule: { rate: 'cron(0 12 * * ? *)', input: { pendingAfterSeconds: 60 } } },
        ]),
      ),
    ).toEqual([
      { functionName: 'sweepPendingOrders', expression: 'rate(5 minutes)', everyMs: 300_000, enabled: false },
      { functionName: 'sweepPendingOrders', expression: 'rate(1 hour)', everyMs: 3_600_000, enabled: true },
      {
        functionName: 'sweepPendingOrders',
        expression: 'cron(0 12 * * ? *)',
        everyMs: undefined,
        enabled: true,
        input: { pendingAfterSeconds: 60 },
      },
    ]);
  });

  it('says at start the rate each schedule runs at, and where it comes from', async () => {
    const started = (every: string | undefined) => {
      const lines: string[] = [];
      const schedules = startSchedules({
        config: config([{ schedule: 'rate(5 minutes)' }]),
        every,
        log: (line) => lines.push(line),
      });
      return schedules.stop().then(() => lines);
    };
    expect(await started(undefined)).toEqual(['schedules: sweepPendingOrders every 300 s (rate(5 minutes))']);
    expect(await started('rate(30 seconds)')).toEqual([
      'schedules: sweepPendingOrders every 30 s (ORDERFLOW_SCHEDULE_RATE; serverless.yml: rate(5 minutes))',
    ]);
  });

  it('fires on the clock’s multiples of the rate, so a restart never puts a firing off by more than one period', () => {
    const fiveMinutes = 300_000;
    const at = (time: string) => Date.parse(`2026-12-01T${time}Z`);
    expect(firstFiringInMs(fiveMinutes, at('08:03:00'))).toBe(120_000);
    expect(firstFiringInMs(fiveMinutes, at('08:04:59.999'))).toBe(1);
    // Started on a multiple, it fires a whole period later, not at once.
    expect(firstFiringInMs(fiveMinutes, at('08:05:00'))).toBe(fiveMinutes);
  });

  it('fires at the next multiple of its rate, then once a period, and never after it stops', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-01T08:03:00Z') });
    try {
      vi.mocked(invoke).mockClear();
      const schedules = startSchedules({ config: config([{ schedule: 'rate(5 minutes)' }]), every: undefined });
      await vi.advanceTimersByTimeAsync(119_999);
      expect(invoke).toHaveBeenCalledTimes(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(invoke).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(300_000);
      expect(invoke).toHaveBeenCalledTimes(2);
      await schedules.stop();
      await vi.advanceTimersByTimeAsync(900_000);
      expect(invoke).toHaveBeenCalledTimes(2);

      // Stopped before its first firing, it never fires.
      vi.mocked(invoke).mockClear();
      const early = startSchedules({ config: config([{ schedule: 'rate(5 minutes)' }]), every: undefined });
      await early.stop();
      await vi.advanceTimersByTimeAsync(900_000);
      expect(invoke).toHaveBeenCalledTimes(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
