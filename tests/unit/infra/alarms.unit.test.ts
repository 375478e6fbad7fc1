import { describe, expect, it } from 'vitest';
import { alarms } from '../../../infra/alarms.mjs';

/** The framework's names, as osls makes them for these plain function names. */
const naming = {
  getNormalizedFunctionName: (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}`,
  getLambdaLogicalId: (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`,
};

type Config = Parameters<typeof alarms>[0];
const config = (changes: Partial<Config> = {}): Config => ({
  topic: 'AlarmTopic',
  lambdaErrors: { threshold: 0, except: [] },
  lambdaThrottles: { threshold: 0 },
  iteratorAge: { threshold: 60_000 },
  queueDepth: {},
  executionFailures: {},
  apiErrorRate: {},
  changeCapture: {},
  metrics: {},
  ...changes,
});
const functions = [
  { name: 'placeOrder', consumesStream: false },
  { name: 'ordersProjection', consumesStream: true },
];

// What each alarm holds is pinned, literally, by the packaged templates' tests (tests/int/operations.int.test.ts).
describe('the alarms plugin', () => {
  it('gives every function its errors and throttles alarms, and each stream consumer its iterator age alarm', () => {
    expect(Object.keys(alarms(config(), functions, naming)).sort()).toEqual(
      [
        'PlaceOrderErrorsAlarm',
        'PlaceOrderThrottlesAlarm',
        'OrdersProjectionErrorsAlarm',
        'OrdersProjectionThrottlesAlarm',
        'OrdersProjectionIteratorAgeAlarm',
      ].sort(),
    );
  });

  it('refuses an errors exception that names no function, so a renamed function cannot silently gain the alarm', () => {
    expect(() =>
      alarms(config({ lambdaErrors: { threshold: 0, except: ['reserveStock'] } }), functions, naming),
    ).toThrow('custom.alarms.lambdaErrors.except names no function: reserveStock');
  });

  it('refuses two alarms of one logical id', () => {
    expect(() =>
      alarms(
        config({ queueDepth: { PlaceOrderErrorsAlarm: { queue: 'ChangeFailuresQueue', description: 'x' } } }),
        functions,
        naming,
      ),
    ).toThrow('two alarms are named PlaceOrderErrorsAlarm');
  });

  it('sums a metric only over a dimension given several values', () => {
    const metric = {
      namespace: 'orderflow',
      metric: 'OrdersSwept',
      statistic: 'Sum' as const,
      period: 300,
      threshold: 0,
      description: 'x',
    };
    expect(() =>
      alarms(
        config({ metrics: { SweptAlarm: { ...metric, dimensions: { stage: 'test' }, sum: { id: 's', label: 'x' } } } }),
        functions,
        naming,
      ),
    ).toThrow('SweptAlarm: a sum needs a dimension with several values');
    expect(() =>
      alarms(
        config({ metrics: { SweptAlarm: { ...metric, dimensions: { outcome: ['A', 'B'] } } } }),
        functions,
        naming,
      ),
    ).toThrow('SweptAlarm: sum over one dimension');
  });

  it('alarms when writes were counted and the stream took nothing, or refused some, every period in a row', () => {
    const made = alarms(
      config({
        changeCapture: {
          CaptureAlarm: {
            stream: 'ChangesStream',
            writes: { namespace: 'orderflow', metric: 'OrdersPlaced', dimensions: { stage: 'test' } },
            period: 300,
            periods: 2,
            description: 'x',
          },
        },
      }),
      [],
      naming,
    );
    const properties = made.CaptureAlarm?.Properties as {
      Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string } } }[];
    };
    expect(properties).toMatchObject({ EvaluationPeriods: 2, DatapointsToAlarm: 2, Threshold: 0 });
    expect(properties.Metrics.map((m) => m.MetricStat?.Metric.MetricName ?? m.Id)).toEqual([
      'OrdersPlaced',
      'IncomingRecords',
      'WriteProvisionedThroughputExceeded',
      'stalled',
    ]);
    // The expression, evaluated as CloudWatch would for each case (missing data filled with 0).
    const expression = properties.Metrics.find((m) => m.Id === 'stalled')?.Expression ?? '';
    const evaluate = (writes?: number, incoming?: number, refused?: number) =>
      new Function(
        'writes',
        'incoming',
        'refused',
        `const FILL = (v, d) => v === undefined ? d : v; const IF = (c, a, b) => c ? a : b;
         return ${expression.replaceAll(' AND ', ' && ').replaceAll(' OR ', ' || ')};`,
      )(writes, incoming, refused) as number;
    expect(evaluate(5, undefined, undefined)).toBe(1);
    expect(evaluate(5, 0, 0)).toBe(1);
    expect(evaluate(5, 7, 0)).toBe(0);
    expect(evaluate(undefined, undefined, undefined)).toBe(0);
    expect(evaluate(0, 0, 0)).toBe(0);
    expect(evaluate(5, 7, 3)).toBe(1);
  });
});
