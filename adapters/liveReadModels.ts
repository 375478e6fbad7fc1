import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ReadModelName } from '../projections/index.js';
import type { ReadModelPointer, Slot } from '../projections/readModelVersions.js';
import { dynamoReadModels, type ReadModels } from './readModels.js';

/** The two tables of each read model, by slot (serverless.yml: the original table is blue). */
export type SlotTables = Record<ReadModelName, Record<Slot, string>>;

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
  // The read model's version comes from the same pointer read as the table: an answer never pairs one version's
  // views with another's number.
  const live = async (): Promise<{ reads: ReadModels; versions: { orders: number; products: number } }> => {
    const [orders, products] = await Promise.all([pointer('orders'), pointer('products')]);
    const ordersTable = tables.orders[orders.live.slot];
    const productsTable = tables.products[products.live.slot];
    const key = `${ordersTable}|${productsTable}`;
    let reads = bySlots.get(key);
    if (!reads) bySlots.set(key, (reads = dynamoReadModels({ client, ordersTable, productsTable })));
    return { reads, versions: { orders: orders.live.version, products: products.live.version } };
  };
  const withVersion = <T extends object>(found: T | undefined, readModel: number) => found && { ...found, readModel };
  return {
    order: async (orderId) => {
      const { reads, versions } = await live();
      return withVersion(await reads.order(orderId), versions.orders);
    },
    ordersOf: async (query) => {
      const { reads, versions } = await live();
      return { ...(await reads.ordersOf(query)), readModel: versions.orders };
    },
    productsPage: async (query) => {
      const { reads, versions } = await live();
      return { ...(await reads.productsPage(query)), readModel: versions.products };
    },
    product: async (sku) => {
      const { reads, versions } = await live();
      return withVersion(await reads.product(sku), versions.products);
    },
    liveVersion: async (readModel) => (await live()).versions[readModel],
  };
};
