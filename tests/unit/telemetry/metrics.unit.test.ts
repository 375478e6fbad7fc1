import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../functions/observability/logger.js';
import {
  createMetrics,
  MAX_VALUES_PER_METRIC,
  metricDefinitions,
  type Metrics,
} from '../../../functions/observability/metrics.js';

type Document = {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
};

const capture = (stage = 'test'): { metrics: Metrics; documents: () => Document[] } => {
  const lines: string[] = [];
  const metrics = createMetrics({ stage, sink: (line) => lines.push(line), logger: createLogger({ level: 'silent' }) });
  return { metrics, documents: () => lines.map((line) => JSON.parse(line) as Document) };
};

describe('metrics in embedded metric format', () => {
  it('keeps the contract alarms and docs are written against', () => {
    expect(metricDefinitions).toEqual({
      OrdersPlaced: { unit: 'Count' },
      OrdersConfirmed: { unit: 'Count' },
      OrdersRejected: { unit: 'Count', dimension: 'reason' },
      OrdersCancelled: { unit: 'Count' },
      CommandConflicts: { unit: 'Count' },
      CommandRetries: { unit: 'Count' },
      StreamsParked: { unit: 'Count', dimension: 'projection' },
      ProjectionLag: { unit: 'Milliseconds', dimension: 'projection' },
      SagaDuration: { unit: 'Milliseconds', dimension: 'outcome' },
      OrdersSwept: { unit: 'Count', dimension: 'outcome' },
      CircuitTransitions: { unit: 'Count', dimension: 'state' },
      CircuitOpenFor: { unit: 'Milliseconds', dimension: 'circuit' },
      CompensationsParked: { unit: 'Count' },
      CompensationParkedFor: { unit: 'Milliseconds' },
      CompensationsResumed: { unit: 'Count' },
    });
  });

  it('writes one document per dimension set in the EMF shape, values as top-level keys', () => {
    const { metrics, documents } = capture('prod');
    const before = Date.now();
    metrics.add('OrdersPlaced', 1);
    metrics.add('OrdersPlaced', 1);
    metrics.add('CommandConflicts', 1);
    metrics.flush();

    expect(documents()).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [
            {
              Namespace: 'orderflow',
              Dimensions: [['stage']],
              Metrics: [
                { Name: 'OrdersPlaced', Unit: 'Count' },
                { Name: 'CommandConflicts', Unit: 'Count' },
              ],
            },
          ],
        },
        stage: 'prod',
        OrdersPlaced: [1, 1],
        CommandConflicts: 1,
      },
    ]);
    expect(documents()[0]?._aws.Timestamp).toBeGreaterThanOrEqual(before);
  });

  it('adds each metric its extra dimension, one document per value of it', () => {
    const { metrics, documents } = capture();
    metrics.add('OrdersRejected', 1, { reason: 'OUT_OF_STOCK' });
    metrics.add('OrdersRejected', 1, { reason: 'PAYMENT_DECLINED' });
    metrics.add('OrdersRejected', 1, { reason: 'OUT_OF_STOCK' });
    metrics.add('ProjectionLag', 120, { projection: 'orders' });
    metrics.add('SagaDuration', 850, { outcome: 'CONFIRMED' });
    metrics.flush();

    const docs = documents();
    expect(docs).toHaveLength(4);
    const find = (key: string, value: string) => docs.find((doc) => doc[key] === value);
    expect(find('reason', 'OUT_OF_STOCK')).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          { Dimensions: [['stage', 'reason']], Metrics: [{ Name: 'OrdersRejected', Unit: 'Count' }] },
        ],
      },
      stage: 'test',
      OrdersRejected: [1, 1],
    });
    expect(find('reason', 'PAYMENT_DECLINED')).toMatchObject({ OrdersRejected: 1 });
    expect(find('projection', 'orders')).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          { Dimensions: [['stage', 'projection']], Metrics: [{ Name: 'ProjectionLag', Unit: 'Milliseconds' }] },
        ],
      },
      ProjectionLag: 120,
    });
    expect(find('outcome', 'CONFIRMED')).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          { Dimensions: [['stage', 'outcome']], Metrics: [{ Name: 'SagaDuration', Unit: 'Milliseconds' }] },
        ],
      },
      SagaDuration: 850,
    });
    // Every dimension a document names is one of its top-level keys, as CloudWatch requires.
    for (const doc of docs) {
      for (const name of doc._aws.CloudWatchMetrics[0]?.Dimensions[0] ?? [])
        expect(doc[name]).toEqual(expect.any(String));
    }
  });

  it('empties on flush, and writes nothing when nothing was recorded', () => {
    const { metrics, documents } = capture();
    metrics.flush();
    expect(documents()).toEqual([]);
    metrics.add('OrdersCancelled', 1);
    metrics.flush();
    metrics.flush();
    expect(documents()).toHaveLength(1);
  });

  it('splits a metric with more than 100 values across documents', () => {
    const { metrics, documents } = capture();
    for (let value = 0; value < 250; value++) metrics.add('ProjectionLag', value, { projection: 'products' });
    metrics.add('ProjectionLag', 1, { projection: 'orders' });
    metrics.flush();

    const products = documents().filter((doc) => doc.projection === 'products');
    expect(products.map((doc) => (doc.ProjectionLag as number[]).length)).toEqual([
      MAX_VALUES_PER_METRIC,
      MAX_VALUES_PER_METRIC,
      50,
    ]);
    expect(products.flatMap((doc) => doc.ProjectionLag as number[])).toEqual(Array.from({ length: 250 }, (_, i) => i));
    for (const doc of products)
      expect(doc._aws.CloudWatchMetrics[0]?.Metrics).toEqual([{ Name: 'ProjectionLag', Unit: 'Milliseconds' }]);
  });

  it('leaves a metric out of the documents that have none of its values', () => {
    const { metrics, documents } = capture();
    // The 100th value of OrdersPlaced writes a document at once; the 101st and OrdersConfirmed go in the next.
    for (let i = 0; i < 100; i++) metrics.add('OrdersPlaced', 1);
    metrics.add('OrdersConfirmed', 1);
    metrics.add('CommandRetries', 1);
    metrics.add('OrdersPlaced', 1);
    metrics.flush();

    const [first, second] = documents();
    expect(first?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual(['OrdersPlaced']);
    expect(first).not.toHaveProperty('OrdersConfirmed');
    expect(second?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name).sort()).toEqual([
      'CommandRetries',
      'OrdersConfirmed',
      'OrdersPlaced',
    ]);
    expect(second?.OrdersPlaced).toBe(1);
  });

  // The type checker (npm run typecheck) holds each call to the contract: none of the lines below would compile
  // without the directive above it. What gets past it at run time (untyped callers) is recorded as it comes, or
  // refused with a warning, and never throws into the work it measures.
  it('demands the extra dimension a metric has, and refuses one it has not', () => {
    const lines: string[] = [];
    const warnings: string[] = [];
    const metrics: Metrics = createMetrics({
      stage: 'test',
      sink: (line) => lines.push(line),
      logger: createLogger({ level: 'warn', sink: (line) => warnings.push(line) }),
    });
    // @ts-expect-error OrdersRejected needs its reason.
    metrics.add('OrdersRejected', 1);
    // @ts-expect-error OrdersPlaced has no extra dimension.
    metrics.add('OrdersPlaced', 1, { reason: 'x' });
    // @ts-expect-error Not a metric of the contract.
    metrics.add('OrdersTeleported', 1);
    metrics.flush();
    const documents = lines.map((line) => JSON.parse(line) as Document);
    const named = documents.flatMap((d) => d._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)));
    expect(named.toSorted()).toEqual(['OrdersPlaced', 'OrdersRejected']);
    expect(warnings.map((line) => JSON.parse(line) as { message: string; metric: string })).toEqual([
      expect.objectContaining({ message: 'metric not recorded', metric: 'OrdersTeleported' }),
    ]);
  });
});
