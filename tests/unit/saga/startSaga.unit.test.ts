import { SFNClient, type StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { changeRecord, unitEnvironment } from '../../support/lambdaEvents.js';
import type * as StartSaga from '../../../functions/streams/startSaga.js';

const environment = {
  ...unitEnvironment,
  LOG_LEVEL: 'silent',
  ORDER_SAGA_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:orderflow-unit-order-saga',
  AWS_REGION: 'eu-west-1',
};

// Imported once the environment is set: the handler reads its configuration once.
let handler: typeof StartSaga.handler;
beforeAll(async () => {
  Object.assign(process.env, environment);
  ({ handler } = await import('../../../functions/streams/startSaga.js'));
});
afterEach(() => vi.restoreAllMocks());

/** The change record of an `OrderPlaced` (or of anything else), as Kinesis Data Streams for DynamoDB carries it. */
const change = (sequenceNumber: string, orderId: string, type = 'OrderPlaced'): KinesisStreamRecord => {
  const event = {
    streamId: `order-${orderId}`,
    version: 1,
    eventId: `event-${orderId}`,
    type,
    data: {
      orderId,
      customerId: 'customer-1',
      lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }],
      total: { amount: 100, currency: 'EUR' },
      paymentToken: 'tok_visa',
    },
    schemaVersion: 1,
    recordedAt: '2026-11-29T10:00:00.000Z',
    metadata: { correlationId: `c-${orderId}`, causationId: 'cause', commandId: 'command', actor: 'test' },
  };
  return changeRecord(sequenceNumber, event);
};

const batch = (...records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
const context = { functionName: 'orderflow-unit-startSaga' } as Context;

/** Stands in for Step Functions: notes when each start begins and ends, and fails the orders named. */
const stepFunctions = (failing: string[] = []) => {
  const calls: string[] = [];
  vi.spyOn(SFNClient.prototype, 'send').mockImplementation(async (command: unknown) => {
    const name = (command as StartExecutionCommand).input.name ?? '';
    calls.push(`start ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    calls.push(`end ${name}`);
    if (failing.includes(name)) throw new Error('Step Functions is unavailable');
    return { executionArn: `arn:execution:${name}` };
  });
  return calls;
};

describe('startSaga, on Powertools batch processing', () => {
  it("starts a shard's sagas one after another, in order, and reports the record that failed", async () => {
    const calls = stepFunctions(['o-2']);
    const response = await handler(
      batch(change('1', 'o-1'), change('2', 'o-2'), change('3', 'o-3', 'OrderConfirmed'), change('4', 'o-4')),
      context,
    );
    expect(calls).toEqual(['start o-1', 'end o-1', 'start o-2', 'end o-2', 'start o-4', 'end o-4']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
  });

  it('reports every record when all of them fail, rather than failing the invocation', async () => {
    stepFunctions(['o-1', 'o-2']);
    const undecodable = { kinesis: { sequenceNumber: '3', data: 'bm90IGpzb24=' } } as KinesisStreamRecord;
    const response = await handler(batch(change('1', 'o-1'), change('2', 'o-2'), undecodable), context);
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }, { itemIdentifier: '2' }, { itemIdentifier: '3' }],
    });
  });
});
