import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ProductView } from '../projections/products.js';
import { OrderView } from '../projections/orders.js';
import type { Versioned } from '../projections/projection.js';
import type { OrderPageQuery, ReadModels } from '../application/queries.js';
import { dynamoViewStore, VIEW_VERSION } from './viewStore.js';

export type { OrderPageQuery, ReadModels };

/** The index of the orders table that lists a customer's orders by `placedAt`. */
export const BY_CUSTOMER_INDEX = 'byCustomer';

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
  return {
    order: async (orderId) => parsed(OrderView, await orders.get({ orderId })),
    product: async (sku) => parsed(ProductView, await products.get({ sku })),
    // One table of each read model, with no pointer: no version to name.
    liveVersion: async () => undefined,
    async ordersOf({ customerId, limit, after }) {
      // One more than asked: whether it exists says if there is a next page, so the last page has no cursor. A query
      // DynamoDB cut at 1 MB holds fewer and says where it stopped: it goes on from there, lest a page end early.
      const Items: Record<string, unknown>[] = [];
      let from = after;
      do {
        const answer = await client.send(
          new QueryCommand({
            TableName: ordersTable,
            IndexName: BY_CUSTOMER_INDEX,
            KeyConditionExpression: 'customerId = :customerId',
            ExpressionAttributeValues: { ':customerId': customerId },
            ScanIndexForward: false,
            Limit: limit + 1 - Items.length,
            ...(from ? { ExclusiveStartKey: from } : {}),
          }),
        );
        Items.push(...(answer.Items ?? []));
        from = answer.LastEvaluatedKey;
      } while (from && Items.length <= limit);
      const page = Items.slice(0, limit);
      const last = page.at(-1);
      return {
        orders: page.map((item) => ({ view: OrderView.parse(item), version: Number(item[VIEW_VERSION]) })),
        ...(Items.length > limit && last
          ? { next: { orderId: last.orderId, customerId: last.customerId, placedAt: last.placedAt } }
          : {}),
      };
    },
  };
};
