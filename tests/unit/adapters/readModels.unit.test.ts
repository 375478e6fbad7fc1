import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoReadModels } from '../../../adapters/readModels.js';
import { VIEW_VERSION } from '../../../adapters/viewStore.js';
import { orderStreamId } from '../../../domain/order/index.js';
import { FILTERED_PAGE_READS, ordersProjection } from '../../../projections/orders.js';
import { orderPlaced } from '../../support/orderEvents.js';
import { stored } from '../projections/givenView.js';

const orderIds = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
// A customer's order views, newest first as the index answers them.
const items = orderIds
  .map((orderId, i) => {
    const [placed] = stored(orderStreamId(orderId), [orderPlaced(orderId)]);
    const view = ordersProjection.evolve(undefined, {
      ...placed,
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    } as never);
    return { ...view, [VIEW_VERSION]: 1 } as Record<string, unknown>;
  })
  .reverse();

/** The index, each answer cut after two items with where it stopped, as DynamoDB cuts a query at 1 MB. */
const cutAtTwo = () => {
  const queries: number[] = [];
  const client = {
    async send(command: unknown) {
      if (!(command instanceof QueryCommand)) throw new Error('unexpected command');
      const { Limit = 1e9, ExclusiveStartKey } = command.input;
      queries.push(Limit);
      const start = ExclusiveStartKey ? items.findIndex((item) => item.orderId === ExclusiveStartKey.orderId) + 1 : 0;
      const page = items.slice(start, start + Math.min(Limit, 2));
      const more = start + page.length < items.length;
      return { Items: page, ...(more ? { LastEvaluatedKey: { orderId: page.at(-1)?.orderId } } : {}) };
    },
  } as unknown as DynamoDBDocumentClient;
  return { readModels: dynamoReadModels({ client, ordersTable: 'orders', productsTable: 'products' }), queries };
};

describe("a customer's orders, page by page", () => {
  it('goes on past a query DynamoDB cut short, so a page is never short and its cursor never missing', async () => {
    const { readModels, queries } = cutAtTwo();
    const customerId = String(items[0]?.customerId);
    const first = await readModels.ordersOf({ customerId, limit: 3 });
    expect(first.orders.map((o) => o.view.orderId)).toEqual(items.slice(0, 3).map((item) => item.orderId));
    expect(first.next).toMatchObject({ orderId: items[2]?.orderId });
    // Asked for 4 (one more, to know of a next page), answered 2 and 2.
    expect(queries).toEqual([4, 2]);
    const rest = await readModels.ordersOf({ customerId, limit: 3, after: first.next });
    expect(rest.orders.map((o) => o.view.orderId)).toEqual(items.slice(3).map((item) => item.orderId));
    expect(rest.next).toBeUndefined();
  });

  it('hands out a cursor when the page is full, however the answers were cut', async () => {
    const { readModels } = cutAtTwo();
    const page = await readModels.ordersOf({ customerId: String(items[0]?.customerId), limit: 2 });
    expect(page.orders).toHaveLength(2);
    expect(page.next).toMatchObject({ orderId: items[1]?.orderId });
  });
});

describe("a customer's orders in some statuses, page by page", () => {
  const [template] = items;
  const customerId = String(template?.customerId);
  /** 1,200 orders, newest first: all PENDING but the 4th and the 1,101st, CONFIRMED. */
  const many = Array.from({ length: 1_200 }, (_, i) => ({
    ...template,
    orderId: `order-${i}`,
    status: i === 3 || i === 1_100 ? 'CONFIRMED' : 'PENDING',
  }));
  /** The index with DynamoDB's filter: `Limit` counts the items read, and the answer keeps those that pass. */
  const filtering = () => {
    const limits: number[] = [];
    const client = {
      async send(command: unknown) {
        if (!(command instanceof QueryCommand)) throw new Error('unexpected command');
        const { Limit = 1e9, ExclusiveStartKey, ExpressionAttributeValues = {} } = command.input;
        limits.push(Limit);
        const kept = Object.entries(ExpressionAttributeValues)
          .filter(([name]) => name.startsWith(':status'))
          .map(([, status]) => status as unknown);
        const start = ExclusiveStartKey ? many.findIndex((item) => item.orderId === ExclusiveStartKey.orderId) + 1 : 0;
        const read = many.slice(start, start + Limit);
        const more = start + read.length < many.length;
        return {
          Items: read.filter((item) => kept.length === 0 || kept.includes(item.status)),
          ScannedCount: read.length,
          ...(more ? { LastEvaluatedKey: { orderId: read.at(-1)?.orderId, customerId, placedAt: 'x' } } : {}),
        };
      },
    } as unknown as DynamoDBDocumentClient;
    return { readModels: dynamoReadModels({ client, ordersTable: 'orders', productsTable: 'products' }), limits };
  };

  it('reads at most FILTERED_PAGE_READS orders a page, doubling each read, and hands out where it stopped', async () => {
    const { readModels, limits } = filtering();
    const first = await readModels.ordersOf({ customerId, limit: 20, statuses: ['CONFIRMED'] });
    expect(first.orders.map((o) => o.view.orderId)).toEqual(['order-3']);
    expect(limits).toEqual([21, 40, 80, 160, 320, 379]);
    expect(limits.reduce((a, b) => a + b)).toBe(FILTERED_PAGE_READS);
    // Short, but not the last: it goes on after the last order read.
    expect(first.next).toMatchObject({ orderId: `order-${FILTERED_PAGE_READS - 1}` });

    const second = await readModels.ordersOf({ customerId, limit: 20, statuses: ['CONFIRMED'], after: first.next });
    expect(second.orders.map((o) => o.view.orderId)).toEqual(['order-1100']);
    expect(second.next).toBeUndefined();
  });

  it('reads little past a full page when most orders pass, and hands out the last one kept', async () => {
    const { readModels, limits } = filtering();
    const page = await readModels.ordersOf({ customerId, limit: 5, statuses: ['PENDING', 'CONFIRMED'] });
    expect(page.orders.map((o) => o.view.orderId)).toEqual(['order-0', 'order-1', 'order-2', 'order-3', 'order-4']);
    expect(limits).toEqual([6]);
    expect(page.next).toMatchObject({ orderId: 'order-4' });
  });

  it('reads no more than the page asks when nothing is filtered, however many orders there are', async () => {
    const { readModels, limits } = filtering();
    const page = await readModels.ordersOf({ customerId, limit: 5 });
    expect(page.orders).toHaveLength(5);
    expect(limits).toEqual([6]);
  });
});

describe('the products, page by page', () => {
  /** The `bySku` index as DynamoDB keeps it: in SKU order, each item as the index projects it. */
  const listed = ['CAP-1', 'MUG-1', 'TEE-1'].map((sku) => ({
    sku,
    name: sku,
    price: { amount: 100, currency: 'EUR' },
    listingShard: '0',
  }));
  const queries: Record<string, unknown>[] = [];
  /** The index, each query cut after two items, as DynamoDB cuts one at 1 MB. */
  const client = {
    async send(command: unknown) {
      if (!(command instanceof QueryCommand) || command.input.TableName !== 'products') {
        throw new Error('unexpected command');
      }
      queries.push(command.input);
      const { Limit = 1e9, ExclusiveStartKey } = command.input;
      const start = ExclusiveStartKey ? listed.findIndex((item) => item.sku === ExclusiveStartKey.sku) + 1 : 0;
      const page = listed.slice(start, start + Math.min(Limit, 2));
      const more = start + page.length < listed.length;
      const last = page.at(-1);
      return { Items: page, ...(more && last ? { LastEvaluatedKey: { sku: last.sku, listingShard: '0' } } : {}) };
    },
  } as unknown as DynamoDBDocumentClient;
  const readModels = dynamoReadModels({ client, ordersTable: 'orders', productsTable: 'products' });

  it('queries the bySku index in SKU order, reads past a query cut short, and hands out a position while more are left', async () => {
    const first = await readModels.productsPage({ limit: 2 });
    expect(first.products).toEqual([
      { sku: 'CAP-1', name: 'CAP-1', price: { amount: 100, currency: 'EUR' } },
      { sku: 'MUG-1', name: 'MUG-1', price: { amount: 100, currency: 'EUR' } },
    ]);
    expect(first.next).toEqual({ sku: 'MUG-1' });
    expect(queries.at(0)).toMatchObject({
      IndexName: 'bySku',
      KeyConditionExpression: 'listingShard = :shard',
      ExpressionAttributeValues: { ':shard': '0' },
      Limit: 3,
    });
    expect(queries.at(0)).not.toHaveProperty('ScanIndexForward');
    const rest = await readModels.productsPage({ limit: 2, after: first.next });
    expect(rest.products.map((p) => p.sku)).toEqual(['TEE-1']);
    expect(rest.next).toBeUndefined();
    // The position goes on in the index: its key is the table's and the index's.
    expect(queries.at(-1)).toMatchObject({ ExclusiveStartKey: { sku: 'MUG-1', listingShard: '0' } });
    expect((await readModels.productsPage({ limit: 3 })).next).toBeUndefined();
  });
});
