import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { observabilitySettings } from './settings.js';
import { baseLogger } from './log.js';
import { createLogger, type Logger, type LogSink, stdoutSink, tapLine } from './logger.js';

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
  /**
   * Streams parked on a poison event, per batch; `projection`: who parked it: a projection (orders, products) or one of
   * the saga's stream consumers (startSaga, compensateCancellation). ParkedStreamsAlarm.
   */
  StreamsParked: { unit: 'Count', dimension: 'projection' },
  /** Now minus the event's `recordedAt`, per applied record; `projection`: orders, products. */
  ProjectionLag: { unit: 'Milliseconds', dimension: 'projection' },
  /** From the order's placement to its confirmation or rejection; `outcome`: CONFIRMED, REJECTED. */
  SagaDuration: { unit: 'Milliseconds', dimension: 'outcome' },
  /** Orders the sweeper found PENDING past its threshold; `outcome`: ABANDONED (it rejected them), FAILED (it could not). */
  OrdersSwept: { unit: 'Count', dimension: 'outcome' },
  /** A circuit breaker changed state; `state`: the state it entered (OPEN, HALF_OPEN, CLOSED). */
  CircuitTransitions: { unit: 'Count', dimension: 'state' },
  /** Per call a circuit refused: how long it has been open; `circuit`: payment-gateway. PaymentCircuitOpenAlarm. */
  CircuitOpenFor: { unit: 'Milliseconds', dimension: 'circuit' },
  /** A compensation's payment part (a cancellation's, or a give-up's) met the payment gateway unavailable, and was parked. */
  CompensationsParked: { unit: 'Count' },
  /** Per retry of a parked compensation still waiting (for the gateway, or its order's rejection): how long so far. */
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
/** CloudWatch takes at most 100 values of one metric in one document; Powertools writes a document when one has them. */
export const MAX_VALUES_PER_METRIC = 100;

export type Metrics = {
  /** Records one value, to be written at the next {@link Metrics.flush}. */
  add<N extends MetricName>(name: N, value: number, ...dimensions: DimensionArgs<N>): void;
  /** Writes what was recorded as embedded-metric-format documents, one per dimension set, and forgets it. */
  flush(): void;
};

/**
 * Powertools Metrics, writing its documents to `sink` rather than its own Console on stdout (the one part of
 * `publishStoredMetrics` this replaces), and nothing when it has nothing: no "no metrics" warning per invocation.
 */
class SinkMetrics extends PowertoolsMetrics {
  constructor(
    private readonly sink: LogSink,
    options: ConstructorParameters<typeof PowertoolsMetrics>[0],
  ) {
    super(options);
  }

  override publishStoredMetrics(): this {
    if (!this.hasStoredMetrics()) return this;
    try {
      if (!this.isDisabled()) this.sink(JSON.stringify(this.serializeMetrics()));
    } finally {
      this.clearMetrics();
      this.clearDimensions();
      this.clearMetadata();
    }
    return this;
  }
}

/**
 * Metrics in CloudWatch's embedded metric format, on Powertools Metrics: log lines that CloudWatch turns into
 * metrics, so recording one costs no API call. Each dimension set (`stage`, or `stage` and the metric's extra one)
 * is one Powertools Metrics whose default dimensions are exactly that set (not Powertools' `service`: the alarms
 * and dashboards are written against `stage`), so a flush writes one document per dimension set, and Powertools
 * writes one early when a metric reaches 100 values.
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
  logger = createLogger({ fields: { stage } }),
}: {
  stage: string;
  namespace?: string;
  sink?: LogSink;
  /** Where Powertools says what it refused (an empty dimension value, say). */
  logger?: Logger;
}): Metrics => {
  const groups = new Map<string, SinkMetrics>();
  const groupOf = (dimensions: Record<string, string>): SinkMetrics => {
    const key = JSON.stringify(Object.entries(dimensions));
    let group = groups.get(key);
    if (!group) {
      group = new SinkMetrics(sink, { namespace, logger });
      group.clearDefaultDimensions();
      group.setDefaultDimensions({ stage, ...dimensions });
      groups.set(key, group);
    }
    return group;
  };
  return {
    add(name, value, ...[extra]) {
      // Powertools refuses by throwing (a name off the contract, a value not a number); a metric never fails the work
      // it measures.
      try {
        groupOf(extra ?? {}).addMetric(name, metricDefinitions[name].unit, value);
      } catch (error) {
        logger.warn('metric not recorded', { metric: name, value, error });
      }
    },
    flush() {
      for (const group of groups.values()) group.publishStoredMetrics();
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
export const metrics = (): Metrics =>
  (instance ??= createMetrics({ stage: observabilitySettings().STAGE, logger: baseLogger() }));
