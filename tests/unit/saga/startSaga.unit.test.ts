import { SFNClient, type StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { changeRecord, unitEnvironment } from '../../support/lambdaEvents.js';
import type * as StartSaga from '../../../functions/streams/startSaga.js';
import { eventSchemas } from '../../../composition/schemas.js';

const environment = {
  ...unitEnvironment,
  LOG_LEVEL: 'silent',
  AWS_REGION: 'eu-west-1',
};

// Imported once the environment is set: the handler reads its configuration once.
let handler: typeof StartSaga.handler;
beforeAll(async () => {
  Object.assign(process.env, environment);
  ({ handler } = await import('../../../functions/streams/startSaga.js'));
});
afterEach(() => vi.restoreAllMocks());

const lines = [{ sku: 'SKU-1', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }];
const eventData: Record<string, (orderId: string) => Record<string, unknown>> = {
  OrderPlaced: (orderId) => ({
    orderId,
    customerId: 'customer-1',
    lines,
    total: { amount: 100, currency: 'EUR' },
    paymentToken: 'tok_visa',
  }),
  StockReserved: (orderId) => ({ orderId, lines: [{ sku: 'SKU-1', quantity: 1 }] }),
  OrderRejected: (orderId) => ({ orderId, reason: 'OUT_OF_STOCK' }),
  OrderConfirmed: (orderId) => ({ orderId }),
};

const dataOf = (type: string, orderId: string): Record<string, unknown> => {
  const data = eventData[type]?.(orderId);
  if (!data) throw new Error(`no data for ${type}`);
  return data;
};

/**
 * The change record of an order's item, as Kinesis Data Streams for DynamoDB carries it: its event at `version`, and
 * the events of the same append after it (ADR 0016).
 */
const change = (
  sequenceNumber: string,
  orderId: string,
  type: string,
  version: number,
  following: string[] = [],
): KinesisStreamRecord => {
  const data = dataOf(type, orderId);
  const event = {
    streamId: `order-${orderId}`,
    version,
    eventId: `event-${orderId}-${version}`,
    type,
    data,
    schemaVersion: eventSchemas.currentVersion(type),
    recordedAt: '2026-11-29T10:00:00.000Z',
    metadata: { correlationId: `c-${orderId}`, causationId: 'cause', commandId: 'command', actor: 'test' },
    ...(following.length > 0
      ? {
          following: following.map((next, index) => ({
            eventId: `event-${orderId}-${version + index + 1}`,
            type: next,
            data: dataOf(next, orderId),
            schemaVersion: eventSchemas.currentVersion(next),
          })),
        }
      : {}),
  };
  return changeRecord(sequenceNumber, event);
};

/** An order placed holding its stock: its OrderPlaced and StockReserved, one item as placement appends them. */
const placedAndReserved = (sequenceNumber: number, orderId: string): KinesisStreamRecord =>
  change(String(sequenceNumber), orderId, 'OrderPlaced', 1, ['StockReserved']);

const batch = (...records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
const context = { functionName: 'orderflow-unit-startSaga' } as Context;

/** Stands in for Step Functions: notes when each start begins and ends, and its input, and fails the orders named. */
const stepFunctions = (failing: string[] = []) => {
  const calls: string[] = [];
  const inputs: unknown[] = [];
  vi.spyOn(SFNClient.prototype, 'send').mockImplementation(async (command: unknown) => {
    const name = (command as StartExecutionCommand).input.name ?? '';
    inputs.push(JSON.parse((command as StartExecutionCommand).input.input ?? 'null'));
    calls.push(`start ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    calls.push(`end ${name}`);
    if (failing.includes(name)) throw new Error('Step Functions is unavailable');
    return { executionArn: `arn:execution:${name}` };
  });
  return { calls, inputs };
};

describe('startSaga, on Powertools batch processing', () => {
  it("starts a batch's sagas at once, and reports the record that failed", async () => {
    const { calls } = stepFunctions(['o-2']);
    const response = await handler(
      batch(
        placedAndReserved(1, 'o-1'),
        placedAndReserved(2, 'o-2'),
        change('3', 'o-3', 'OrderConfirmed', 3),
        placedAndReserved(4, 'o-4'),
      ),
      context,
    );
    // Every start begins before any ends: none waits for another.
    expect(calls.slice(0, 3).sort()).toEqual(['start o-1', 'start o-2', 'start o-4']);
    expect(calls.slice(3).sort()).toEqual(['end o-1', 'end o-2', 'end o-4']);
    // The record that failed is o-2's placement, which started its saga.
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
  });

  it('starts no saga for an order rejected as it was placed, and carries the order as placed into the execution', async () => {
    const { calls, inputs } = stepFunctions();
    const response = await handler(
      batch(change('1', 'o-5', 'OrderPlaced', 1, ['OrderRejected']), placedAndReserved(2, 'o-6')),
      context,
    );
    expect(calls).toEqual(['start o-6', 'end o-6']);
    // Without its payment token: an execution's input stays in its history, readable by whoever may describe it.
    const { paymentToken: _, ...asPlaced } = dataOf('OrderPlaced', 'o-6');
    expect(inputs).toEqual([
      { orderId: 'o-6', correlationId: 'c-o-6', placed: asPlaced, placedAt: '2026-11-29T10:00:00.000Z' },
    ]);
    expect(JSON.stringify(inputs)).not.toContain('tok_visa');
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('starts the saga of an order whose OrderPlaced and StockReserved came in two records, from two appends', async () => {
    const { calls, inputs } = stepFunctions();
    const response = await handler(
      batch(change('1', 'o-7', 'OrderPlaced', 1), change('2', 'o-7', 'StockReserved', 2)),
      context,
    );
    expect(calls).toEqual(['start o-7', 'end o-7']);
    const { paymentToken: _, ...asPlaced } = dataOf('OrderPlaced', 'o-7');
    expect(inputs).toEqual([expect.objectContaining({ orderId: 'o-7', placed: asPlaced })]);
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('reports every record when all of them fail, rather than failing the invocation', async () => {
    stepFunctions(['o-1', 'o-2']);
    const undecodable = { kinesis: { sequenceNumber: '3', data: 'bm90IGpzb24=' } } as KinesisStreamRecord;
    const response = await handler(
      batch(change('1', 'o-1', 'StockReserved', 2), change('2', 'o-2', 'StockReserved', 2), undecodable),
      context,
    );
    // In any order: Lambda resumes from the lowest sequence number reported.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['1', '2', '3']);
  });
});
