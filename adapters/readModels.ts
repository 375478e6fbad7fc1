import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LISTING_SHARD, ListedProduct, ProductView } from '../projections/products.js';
import { FILTERED_PAGE_READS, OrderView } from '../projections/orders.js';
import type { Versioned } from '../projections/projection.js';
import type { OrderPageQuery, ReadModels } from '../application/queries.js';
import { dynamoViewStore, VIEW_VERSION } from './viewStore.js';

export type { OrderPageQuery, ReadModels };

/** The index of the orders table that lists a customer's orders by `placedAt`. */
export const BY_CUSTOMER_INDEX = 'byCustomer';

/** The index of the products table that lists the catalogue in SKU order (projections/products.ts). */
export const BY_SKU_INDEX = 'bySku';

/** Parsing through the view schemas passes on only the view's fields: never a stray attribute of the item. */
const parsed = <View>(schema: { parse: (value: unknown) => View }, found: Versioned<unknown> | undefined) =>
  found ? { view: schema.parse(found.view), version: found.version } : undefined;

export const dynamoReadModels = ({
  client,
  ordersTable,
  productsTable,
}: {
  client: DynamoDBDocumentClient;
  ordersTable: string;
  productsTable: string;
}): ReadModels => {
  const orders = dynamoViewStore<OrderView>({ client, table: ordersTable });
  const products = dynamoViewStore<ProductView>({ client, table: productsTable });
  /**
   * `limit` items, and the position to go on from when there may be more: one more than asked is read, so the last
   * page has none. A read DynamoDB cut at 1 MB holds fewer and says where it stopped: it goes on from there, lest a
   * page end early. A filtered read (`budget`) stops once it has read `budget` items, kept or not, and hands out where
   * it stopped: its page may be short, even empty, with a position after it.
   */
  const page = async (
    read: (
      from: Record<string, unknown> | undefined,
      count: number,
    ) => Promise<{
      Items?: Record<string, unknown>[];
      LastEvaluatedKey?: Record<string, unknown>;
      ScannedCount?: number;
    }>,
    limit: number,
    after: Record<string, unknown> | undefined,
    budget?: number,
  ) => {
    const items: Record<string, unknown>[] = [];
    let from = after;
    let scanned = 0;
    for (let reads = 0; ; reads++) {
      const wanted = limit + 1 - items.length;
      // A filter's `Limit` counts the items read, not those kept: each read asks for twice what the last did, so
      // a sparse filter takes a few reads, and a dense one reads little past the page.
      const count = budget === undefined ? wanted : Math.min(budget - scanned, wanted * 2 ** reads);
      const answer = await read(from, count);
      items.push(...(answer.Items ?? []));
      scanned += answer.ScannedCount ?? answer.Items?.length ?? 0;
      from = answer.LastEvaluatedKey;
      if (!from || items.length > limit || (budget !== undefined && scanned >= budget)) break;
    }
    if (items.length > limit) return { items: items.slice(0, limit), next: items[limit - 1] };
    return { items, next: from };
  };
  return {
    order: async (orderId) => parsed(OrderView, await orders.get({ orderId })),
    product: async (sku) => parsed(ProductView, await products.get({ sku })),
    // One table of each read model, with no pointer: no version to name.
    liveVersion: async () => undefined,
    async ordersOf({ customerId, limit, after, statuses, placed = {} }) {
      const range =
        placed.from && placed.to
          ? ' AND placedAt BETWEEN :from AND :to'
          : placed.from
            ? ' AND placedAt >= :from'
            : placed.to
              ? ' AND placedAt <= :to'
              : '';
      const filter = statuses && {
        expression: statuses.map((_, i) => `#status = :status${i}`).join(' OR '),
        values: Object.fromEntries(statuses.map((status, i) => [`:status${i}`, status])),
      };
      const { items, next } = await page(
        (from, count) =>
          client.send(
            new QueryCommand({
              TableName: ordersTable,
              IndexName: BY_CUSTOMER_INDEX,
              KeyConditionExpression: `customerId = :customerId${range}`,
              ...(filter
                ? { FilterExpression: filter.expression, ExpressionAttributeNames: { '#status': 'status' } }
                : {}),
              ExpressionAttributeValues: {
                ':customerId': customerId,
                ...(placed.from ? { ':from': placed.from } : {}),
                ...(placed.to ? { ':to': placed.to } : {}),
                ...filter?.values,
              },
              ScanIndexForward: false,
              Limit: count,
              ...(from ? { ExclusiveStartKey: from } : {}),
            }),
          ),
        limit,
        after,
        statuses ? FILTERED_PAGE_READS : undefined,
      );
      return {
        orders: items.map((item) => ({ view: OrderView.parse(item), version: Number(item[VIEW_VERSION]) })),
        ...(next ? { next: { orderId: next.orderId, customerId: next.customerId, placedAt: next.placedAt } } : {}),
      };
    },
    async productsPage({ limit, after }) {
      const { items, next } = await page(
        (from, count) =>
          client.send(
            new QueryCommand({
              TableName: productsTable,
              IndexName: BY_SKU_INDEX,
              KeyConditionExpression: 'listingShard = :shard',
              ExpressionAttributeValues: { ':shard': LISTING_SHARD },
              Limit: count,
              ...(from ? { ExclusiveStartKey: from } : {}),
            }),
          ),
        limit,
        after && { ...after, listingShard: LISTING_SHARD },
      );
      return {
        products: items.map((item) => ListedProduct.parse(item)),
        ...(next ? { next: { sku: next.sku } } : {}),
      };
    },
  };
};
