import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ReadModelPointer, Slot } from '../projections/readModelVersions.js';
import { dynamoReadModels, type ReadModels } from './readModels.js';

/** The two tables of each read model, by slot (serverless.yml: the original table is blue). */
export type SlotTables = Record<'orders' | 'products', Record<Slot, string>>;

/**
 * {@link ReadModels} on whichever table of each read model is live: every read asks the (cached) pointer first, so
 * a switch or a rollback reaches readers within the cache's lifetime, with no redeploy. Both tables have the same
 * keys and indexes, so the reads themselves are the plain ones.
 */
export const liveReadModels = ({
  client,
  tables,
  pointer,
}: {
  client: DynamoDBDocumentClient;
  tables: SlotTables;
  pointer: (projection: string) => Promise<ReadModelPointer>;
}): ReadModels => {
  const bySlots = new Map<string, ReadModels>();
  const live = async (): Promise<ReadModels> => {
    const [orders, products] = await Promise.all([pointer('orders'), pointer('products')]);
    const ordersTable = tables.orders[orders.live.slot];
    const productsTable = tables.products[products.live.slot];
    const key = `${ordersTable}|${productsTable}`;
    let reads = bySlots.get(key);
    if (!reads) bySlots.set(key, (reads = dynamoReadModels({ client, ordersTable, productsTable })));
    return reads;
  };
  return {
    order: async (orderId) => (await live()).order(orderId),
    ordersOf: async (query) => (await live()).ordersOf(query),
    product: async (sku) => (await live()).product(sku),
  };
};
