import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dynamoPendingOrders } from '../../adapters/pendingOrders.js';
import { documentClient } from '../../eventstore/dynamoClient.js';
import { createTables, localClientConfig } from '../../local/dynamoLocal.js';
import { loadServerlessConfig, tableResources } from '../../local/serverlessConfig.js';
import { PENDING_SHARDS } from '../../projections/orders.js';

/**
 * The sweeper's source (adapters/pendingOrders.ts) on an orders table of this file's own, made from serverless.yml's
 * definition, with its sparse `pendingSince` index: other files' PENDING orders neither show here nor see these.
 */
const table = `orders-pending-${randomUUID().slice(0, 8)}`;
const queries: QueryCommandInput[] = [];
const client = documentClient(
  { endpoint: inject('dynamoEndpoint'), ...localClientConfig },
  {
    instrument: (c) => {
      c.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'QueryCommand') queries.push(args.input as QueryCommandInput);
          return next(args);
        },
        { step: 'initialize', name: 'countPendingQueries' },
      );
      return c;
    },
  },
);

/** 1,000 orders PENDING a second apart from 2001-01-01, in turn over the shards; and 10 since 2030, after the cutoff. */
const pendingSince = (i: number) => new Date(Date.UTC(2001, 0, 1) + i * 1000).toISOString();
const orders = [
  ...Array.from({ length: 1000 }, (_, i) => ({ orderId: `old-${i}`, pendingSince: pendingSince(i) })),
  ...Array.from({ length: 10 }, (_, i) => ({ orderId: `new-${i}`, pendingSince: `2030-01-01T00:00:0${i}.000Z` })),
].map((order, i) => ({ ...order, pendingShard: String(i % PENDING_SHARDS), status: 'PENDING' }));

beforeAll(async () => {
  const config = await loadServerlessConfig('test');
  const [, properties] = tableResources(config).find(([logicalId]) => logicalId === 'OrdersTable') ?? [];
  if (!properties) throw new Error('no OrdersTable in serverless.yml');
  await createTables(
    {
      ...config,
      resources: {
        Resources: { OrdersTable: { Type: 'AWS::DynamoDB::Table', Properties: { ...properties, TableName: table } } },
      },
    },
    inject('dynamoEndpoint'),
  );
  for (let i = 0; i < orders.length; i += 25) {
    await client.send(
      new BatchWriteCommand({
        RequestItems: { [table]: orders.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
});

describe('dynamoPendingOrders: the orders left PENDING, for the sweeper', () => {
  const pending = dynamoPendingOrders({ client, table });

  it('yields every order PENDING since before the cutoff, oldest first across the shards, and none after it', async () => {
    queries.length = 0;
    const found: string[] = [];
    for await (const orderId of pending.placedBefore('2002-01-01T00:00:00.000Z')) found.push(orderId);
    expect(queries).toHaveLength(3 * PENDING_SHARDS);
    expect(found).toEqual(Array.from({ length: 1000 }, (_, i) => `old-${i}`));
  });

  it('reads no further than it is taken: the first page of each shard for the first few orders', async () => {
    queries.length = 0;
    const found: string[] = [];
    for await (const orderId of pending.placedBefore('2002-01-01T00:00:00.000Z')) {
      found.push(orderId);
      if (found.length === 5) break;
    }
    expect(found).toEqual(['old-0', 'old-1', 'old-2', 'old-3', 'old-4']);
    // 250 orders a shard, 100 a page: reading them all takes 3 queries a shard.
    expect(queries).toHaveLength(PENDING_SHARDS);
    expect(queries.every((query) => query.IndexName === 'pendingSince' && query.Limit === 100)).toBe(true);
  });
});
