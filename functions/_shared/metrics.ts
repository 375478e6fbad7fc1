import { config } from './config.js';
import { type LogSink, stdoutSink, tapLine } from './logger.js';

export type MetricUnit = 'Count' | 'Milliseconds';

/**
 * The metrics contract: each name with its unit and the dimension it adds to `stage`. Alarms and docs/operations.md
 * are written against these names, so change them only together.
 */
export const metricDefinitions = {
  OrdersPlaced: { unit: 'Count' },
  OrdersConfirmed: { unit: 'Count' },
  /** `reason`: OUT_OF_STOCK, PAYMENT_DECLINED, PAYMENT_UNAVAILABLE, UNAVAILABLE */
  OrdersRejected: { unit: 'Count', dimension: 'reason' },
  OrdersCancelled: { unit: 'Count' },
  /** A command lost an optimistic-concurrency race. */
  CommandConflicts: { unit: 'Count' },
  /** A command tried again after losing one. */
  CommandRetries: { unit: 'Count' },
  /** Now minus the event's `recordedAt`, per applied record; `projection`: orders, inventory. */
  ProjectionLag: { unit: 'Milliseconds', dimension: 'projection' },
  /** From the order's placement to its confirmation or rejection; `outcome`: CONFIRMED, REJECTED. */
  SagaDuration: { unit: 'Milliseconds', dimension: 'outcome' },
  /** Orders the sweeper found PENDING past its threshold; `outcome`: ABANDONED (it rejected them), FAILED (it could not). */
  OrdersSwept: { unit: 'Count', dimension: 'outcome' },
  /** A circuit breaker changed state; `state`: the state it entered (OPEN, HALF_OPEN, CLOSED). */
  CircuitTransitions: { unit: 'Count', dimension: 'state' },
  /** Per call a circuit refused: how long it has been open; `circuit`: payment-gateway. PaymentCircuitOpenAlarm. */
  CircuitOpenFor: { unit: 'Milliseconds', dimension: 'circuit' },
  /** A cancellation's compensation met the payment gateway unavailable and was parked to wait for it. */
  CompensationsParked: { unit: 'Count' },
  /** Per retry of a parked compensation that still finds the gateway unavailable: how long it has been parked. */
  CompensationParkedFor: { unit: 'Milliseconds' },
  /** A parked compensation got through: its payment refunded or voided. */
  CompensationsResumed: { unit: 'Count' },
} as const satisfies Record<string, { unit: MetricUnit; dimension?: string }>;

export type MetricName = keyof typeof metricDefinitions;

/** The extra dimension a metric needs, as a required argument; none for the metrics that have none. */
type DimensionArgs<N extends MetricName> = (typeof metricDefinitions)[N] extends { dimension: infer D extends string }
  ? [dimensions: Record<D, string>]
  : [];

export const METRICS_NAMESPACE = 'orderflow';
/** CloudWatch takes at most 100 values of one metric in one document. */
export const MAX_VALUES_PER_METRIC = 100;

export type Metrics = {
  /** Records one value, to be written at the next {@link Metrics.flush}. */
  add<N extends MetricName>(name: N, value: number, ...dimensions: DimensionArgs<N>): void;
  /** Writes what was recorded as embedded-metric-format documents, one per dimension set, and forgets it. */
  flush(): void;
};

type Group = { dimensions: Record<string, string>; values: Map<MetricName, number[]> };

/**
 * Metrics in CloudWatch's embedded metric format: log lines that CloudWatch turns into metrics, so recording one
 * costs no API call. The shape is Powertools Metrics': `_aws.Timestamp`, `_aws.CloudWatchMetrics` with the
 * namespace, the dimension names and each metric's name and unit, then the dimension values and the metric values
 * as top-level keys.
 *
 * @example
 * const metrics = createMetrics({ stage: 'prod' });
 * metrics.add('OrdersRejected', 1, { reason: 'OUT_OF_STOCK' });
 * metrics.flush(); // {"_aws":{…,"Dimensions":[["stage","reason"]],…},"stage":"prod","reason":"OUT_OF_STOCK","OrdersRejected":1}
 */
export const createMetrics = ({
  stage,
  namespace = METRICS_NAMESPACE,
  sink = metricsSink,
  now = Date.now,
}: {
  stage: string;
  namespace?: string;
  sink?: LogSink;
  now?: () => number;
}): Metrics => {
  const groups = new Map<string, Group>();
  return {
    add(name, value, ...[extra]) {
      const dimensions: Record<string, string> = { stage, ...(extra as Record<string, string> | undefined) };
      const key = JSON.stringify(Object.entries(dimensions));
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { dimensions, values: new Map() }));
      group.values.set(name, [...(group.values.get(name) ?? []), value]);
    },
    flush() {
      const timestamp = now();
      for (const { dimensions, values } of groups.values()) {
        const longest = Math.max(...[...values.values()].map((list) => list.length));
        for (let offset = 0; offset < longest; offset += MAX_VALUES_PER_METRIC) {
          const chunk = [...values]
            .map(([name, list]) => [name, list.slice(offset, offset + MAX_VALUES_PER_METRIC)] as const)
            .filter(([, list]) => list.length > 0);
          sink(
            JSON.stringify({
              _aws: {
                Timestamp: timestamp,
                CloudWatchMetrics: [
                  {
                    Namespace: namespace,
                    Dimensions: [Object.keys(dimensions)],
                    Metrics: chunk.map(([name]) => ({ Name: name, Unit: metricDefinitions[name].unit })),
                  },
                ],
              },
              ...dimensions,
              ...Object.fromEntries(chunk.map(([name, list]) => [name, list.length === 1 ? list[0] : list])),
            }),
          );
        }
      }
      groups.clear();
    },
  };
};

/**
 * Where the documents go: stdout on Lambda, which is what CloudWatch Logs reads; elsewhere nobody parses them, so
 * only the taps (the local stack's log file) see them and test and `npm start` output stays readable.
 */
const metricsSink: LogSink = (line) => {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) stdoutSink(line);
  tapLine(line);
};

let instance: Metrics | undefined;

/** The function's metrics, created once per cold start; the `telemetry` middleware flushes them per invocation. */
export const metrics = (): Metrics => (instance ??= createMetrics({ stage: config().STAGE }));
