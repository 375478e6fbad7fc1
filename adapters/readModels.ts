import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LISTING_SHARD, ListedProduct, ProductView } from '../projections/products.js';
import { OrderView } from '../projections/orders.js';
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
   * `limit` items, and the position after the last when there are more: one more than asked is read, so the last page
   * has no position. A read DynamoDB cut at 1 MB holds fewer and says where it stopped: it goes on from there, lest a
   * page end early.
   */
  const page = async (
    read: (
      from: Record<string, unknown> | undefined,
      count: number,
    ) => Promise<{
      Items?: Record<string, unknown>[];
      LastEvaluatedKey?: Record<string, unknown>;
    }>,
    limit: number,
    after: Record<string, unknown> | undefined,
  ) => {
    const items: Record<string, unknown>[] = [];
    let from = after;
    do {
      const answer = await read(from, limit + 1 - items.length);
      items.push(...(answer.Items ?? []));
      from = answer.LastEvaluatedKey;
    } while (from && items.length <= limit);
    return { items: items.slice(0, limit), more: items.length > limit };
  };
  return {
    order: async (orderId) => parsed(OrderView, await orders.get({ orderId })),
    product: async (sku) => parsed(ProductView, await products.get({ sku })),
    // One table of each read model, with no pointer: no version to name.
    liveVersion: async () => undefined,
    async ordersOf({ customerId, limit, after }) {
      const { items, more } = await page(
        (from, count) =>
          client.send(
            new QueryCommand({
              TableName: ordersTable,
              IndexName: BY_CUSTOMER_INDEX,
              KeyConditionExpression: 'customerId = :customerId',
              ExpressionAttributeValues: { ':customerId': customerId },
              ScanIndexForward: false,
              Limit: count,
              ...(from ? { ExclusiveStartKey: from } : {}),
            }),
          ),
        limit,
        after,
      );
      const last = items.at(-1);
      return {
        orders: items.map((item) => ({ view: OrderView.parse(item), version: Number(item[VIEW_VERSION]) })),
        ...(more && last
          ? { next: { orderId: last.orderId, customerId: last.customerId, placedAt: last.placedAt } }
          : {}),
      };
    },
    async productsPage({ limit, after }) {
      const { items, more } = await page(
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
      const last = items.at(-1);
      return {
        products: items.map((item) => ListedProduct.parse(item)),
        ...(more && last ? { next: { sku: last.sku } } : {}),
      };
    },
  };
};
