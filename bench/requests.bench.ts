import { randomUUID } from 'node:crypto';
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../eventstore/dynamoClient.js';
import { STREAM_ID, VERSION } from '../eventstore/tableKeys.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { concurrently, cpuMeter, rawEventItem } from './lib.js';
import { type BenchStack, createBaselineTable } from './stack.js';

/**
 * `npm run bench -- requests`: what each kind of DynamoDB request the stack makes costs DynamoDB Local's JVM in CPU,
 * 32 at a time, against the flash sale's baseline write (a conditional `UpdateItem` of one item). In the flash sale
 * DynamoDB Local keeps about 0.73 of a core busy whatever the load, in the sale and in its baseline alike: its share
 * of an order's CPU, against its share of a raw write's, is the ratio the sale reaches. This says which requests that
 * share is made of.
 */
export const requestsBench = async (stack: BenchStack, { requests = 2000, clients = 32 } = {}) => {
  const client = documentClient({ endpoint: stack.dynamo.endpoint, ...localClientConfig });
  const run = randomUUID().slice(0, 8);
  const table = (name: string) => `requests-${run}-${name}`;
  const create = (name: string, streamed: boolean) =>
    createBaselineTable(stack.dynamo.endpoint, table(name), { streamed });
  try {
    await create('plain', false);
    await create('events', true);
    await create('balances', false);
    const balance = { [STREAM_ID]: 'stock-SKU', [VERSION]: 0 };
    await client.send(
      new PutCommand({ TableName: table('balances'), Item: { ...balance, available: 0, reserved: 0, sold: 0 } }),
    );
    // An order's first item as the store writes it: placed and rejected, envelope and all.
    const orderItem = (streamId: string) =>
      rawEventItem(streamId, 1, 'OrderPlaced', {
        orderId: streamId,
        customerId: 'customer-1',
        lines: [{ sku: 'SKU', quantity: 1, unitPrice: { amount: 1999, currency: 'EUR' } }],
        total: { amount: 1999, currency: 'EUR' },
        paymentToken: 'tok_visa',
      });
    const put = (name: string) => (i: number) =>
      client.send(
        new PutCommand({
          TableName: table(name),
          Item: orderItem(`order-${name}-${i}-${randomUUID()}`),
          ConditionExpression: `attribute_not_exists(${STREAM_ID})`,
        }),
      );
    const inTransaction = (second: Record<string, unknown>) => (i: number) =>
      client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table('events'),
                Item: orderItem(`order-tx-${i}-${randomUUID()}`),
                ConditionExpression: `attribute_not_exists(${STREAM_ID})`,
              },
            },
            second,
          ],
        }),
      );
    const kinds: [string, (i: number) => Promise<unknown>][] = [
      [
        'UpdateItem, conditional, one item (the sale’s baseline)',
        () =>
          client
            .send(
              new UpdateCommand({
                TableName: table('balances'),
                Key: balance,
                UpdateExpression: 'SET available = available - :one',
                ConditionExpression: 'available >= :one',
                ExpressionAttributeValues: { ':one': 1 },
              }),
            )
            .catch(() => undefined),
      ],
      ['PutItem, conditional, a table with no stream (a view)', put('plain')],
      ['PutItem, conditional, a table with a stream (an append)', put('events')],
      [
        'TransactWriteItems: Put + ConditionCheck (a rejection)',
        inTransaction({
          ConditionCheck: {
            TableName: table('balances'),
            Key: balance,
            ConditionExpression: 'available < :q',
            ExpressionAttributeValues: { ':q': 1 },
          },
        }),
      ],
      [
        'TransactWriteItems: Put + Update (a reservation)',
        inTransaction({
          Update: {
            TableName: table('balances'),
            Key: balance,
            UpdateExpression: 'ADD reserved :q',
            ExpressionAttributeValues: { ':q': 1 },
          },
        }),
      ],
      [
        'GetItem, strongly consistent',
        () => client.send(new GetCommand({ TableName: table('balances'), Key: balance, ConsistentRead: true })),
      ],
      [
        'Query of one stream',
        () =>
          client.send(
            new QueryCommand({
              TableName: table('events'),
              KeyConditionExpression: '#s = :s',
              ExpressionAttributeNames: { '#s': STREAM_ID },
              ExpressionAttributeValues: { ':s': 'order-none' },
            }),
          ),
      ],
      [
        'BatchWriteItem of 25 puts, per item (views, unconditioned)',
        async (i) => {
          if (i >= 0 && i % 25 !== 0) return;
          await client.send(
            new BatchWriteCommand({
              RequestItems: {
                [table('plain')]: Array.from({ length: 25 }, (_, k) => ({
                  PutRequest: { Item: orderItem(`order-batch-${i}-${k}-${randomUUID()}`) },
                })),
              },
            }),
          );
        },
      ],
    ];
    console.log(
      `\nWhat a request costs DynamoDB Local in CPU: ${requests.toLocaleString('en')} of each, ${clients} at a time`,
    );
    console.log(
      `${'request'.padEnd(62)}${'per s'.padStart(8)}${'Node'.padStart(10)}${'DynamoDB Local'.padStart(16)}   vs baseline`,
    );
    let baselineMs: number | undefined;
    for (const [name, send] of kinds) {
      await concurrently(200, clients, (i) => send(-1 - i));
      const cpu = cpuMeter(stack.dynamo.pid);
      const started = performance.now();
      await concurrently(requests, clients, send);
      const seconds = (performance.now() - started) / 1000;
      const { selfMs, otherMs } = cpu.stop();
      const there = otherMs === undefined ? undefined : otherMs / requests;
      baselineMs ??= there;
      console.log(
        `${name.padEnd(62)}${(requests / seconds).toFixed(0).padStart(8)}${`${(selfMs / requests).toFixed(2)} ms`.padStart(10)}${(there === undefined ? '?' : `${there.toFixed(2)} ms`).padStart(16)}   ${there === undefined || baselineMs === undefined ? '' : `×${(there / baselineMs).toFixed(2)}`}`,
      );
    }
  } finally {
    client.destroy();
  }
};
