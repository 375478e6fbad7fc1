import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dynamoReadModels } from '../../adapters/readModels.js';
import { dynamoViewStore, VIEW_VERSION } from '../../adapters/viewStore.js';
import { productStreamId, type ProductEvent } from '../../domain/inventory/index.js';
import { documentClient } from '../../eventstore/dynamoClient.js';
import type { StoredEvent } from '../../eventstore/types.js';
import { createTables, localClientConfig } from '../../local/dynamoLocal.js';
import { loadServerlessConfig, type ServerlessConfig, tableResources } from '../../local/serverlessConfig.js';
import { productsProjection, type StoredProductView } from '../../projections/products.js';

/**
 * The catalogue's listing (adapters/readModels.ts) on a products table of this file's own, made first as it was before
 * the `bySku` index and then brought up to serverless.yml's definition, as a local stack kept on disk is.
 */
const table = `products-listing-${randomUUID().slice(0, 8)}`;
const client = documentClient({ endpoint: inject('dynamoEndpoint'), ...localClientConfig });
const readModels = dynamoReadModels({ client, ordersTable: 'unused', productsTable: table });
const views = dynamoViewStore<StoredProductView>({ client, table });

let config: ServerlessConfig;
let declared: Record<string, unknown>;
/**
 * serverless.yml with one table: the products table under this file's name, with `properties` changed, and named as
 * the products read model's table (what makes it one a rebuild writes again).
 */
const withProductsTable = (properties: Record<string, unknown>): ServerlessConfig => ({
  ...config,
  custom: { ...config.custom, tables: { ...(config.custom as { tables: object }).tables, products: table } },
  resources: {
    Resources: {
      ProductsTable: { Type: 'AWS::DynamoDB::Table', Properties: { ...declared, ...properties, TableName: table } },
    },
  },
});

/** The view the products projection writes for a product registered under `sku`. */
const registered = (sku: string): StoredProductView => {
  const event: StoredEvent<ProductEvent> = {
    streamId: productStreamId(sku),
    version: 1,
    type: 'ProductRegistered',
    data: { sku, name: `Product ${sku}`, unitPrice: { amount: 100, currency: 'EUR' }, initialStock: 1 },
    recordedAt: '2026-12-03T00:00:00.000Z',
  } as StoredEvent<ProductEvent>;
  return productsProjection.evolve(undefined, event);
};
const listed = (sku: string) => ({ sku, name: `Product ${sku}`, price: { amount: 100, currency: 'EUR' } });

beforeAll(async () => {
  config = await loadServerlessConfig('test');
  const [, properties] = tableResources(config).find(([logicalId]) => logicalId === 'ProductsTable') ?? [];
  if (!properties) throw new Error('no ProductsTable in serverless.yml');
  declared = properties;
  // The table as it was declared before the listing had an index, holding a view written then.
  await createTables(
    withProductsTable({
      AttributeDefinitions: [{ AttributeName: 'sku', AttributeType: 'S' }],
      GlobalSecondaryIndexes: undefined,
    }),
    inject('dynamoEndpoint'),
  );
  const { listingShard: _, ...before } = registered('B-OLD');
  await client.send(new PutCommand({ TableName: table, Item: { ...before, [VIEW_VERSION]: 1 } }));
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
});

describe('the products listing on DynamoDB Local', () => {
  it('gives a table kept from before the bySku index, keeping its views, and says that those are not in it', async () => {
    const lines: string[] = [];
    await createTables(withProductsTable({}), inject('dynamoEndpoint'), { log: (line) => lines.push(line) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`added the index bySku to ${table}`);
    expect(lines[0]).toContain('npm run replay -- --projection <name> --rebuild');
    // Once there, it is kept, and nothing more is said.
    await createTables(withProductsTable({}), inject('dynamoEndpoint'), { log: (line) => lines.push(line) });
    expect(lines).toHaveLength(1);
  });

  // Written to after the index came (DynamoDB Local failed these writes, InternalFailure, had the index been added to
  // the populated table in place).
  it('lists the views the projection writes in SKU order, a page at a time, and an old view once it is rewritten', async () => {
    for (const sku of ['C-3', 'A-1', 'B-2']) expect(await views.put(registered(sku), 1, 0)).toBe('written');

    const first = await readModels.productsPage({ limit: 2 });
    expect(first.products).toEqual([listed('A-1'), listed('B-2')]);
    expect(first.next).toEqual({ sku: 'B-2' });
    const rest = await readModels.productsPage({ limit: 2, ...(first.next ? { after: first.next } : {}) });
    // The view written before the index has none of its keys: not listed yet.
    expect(rest.products).toEqual([listed('C-3')]);
    expect(rest.next).toBeUndefined();

    // Rewritten as the projection writes it now (by a rebuild, say), it takes its place.
    expect(await views.put(registered('B-OLD'), 2, 1)).toBe('written');
    const all = await readModels.productsPage({ limit: 10 });
    expect(all.products.map((p) => p.sku)).toEqual(['A-1', 'B-2', 'B-OLD', 'C-3']);
  });
});
