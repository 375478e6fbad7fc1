import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { liveReadModels } from '../../../adapters/liveReadModels.js';
import type { ReadModelPointer } from '../../../projections/readModelVersions.js';

describe('the live read models (adapters/liveReadModels.ts)', () => {
  it('lists products from the products read model’s live table, named by its version, not the orders’', async () => {
    const queried: (string | undefined)[] = [];
    const client = {
      async send(command: unknown) {
        if (!(command instanceof QueryCommand)) throw new Error('unexpected command');
        queried.push(command.input.TableName);
        return { Items: [] };
      },
    } as unknown as DynamoDBDocumentClient;
    const pointers: Record<string, ReadModelPointer> = {
      orders: { projection: 'orders', revision: 1, live: { slot: 'blue', version: 1 }, lastVersion: 1, changedAt: '' },
      products: {
        projection: 'products',
        revision: 3,
        live: { slot: 'green', version: 2 },
        lastVersion: 2,
        changedAt: '',
      },
    };
    const models = liveReadModels({
      client,
      tables: {
        orders: { blue: 'orders-blue', green: 'orders-green' },
        products: { blue: 'products-blue', green: 'products-green' },
      },
      pointer: async (projection) => pointers[projection] as ReadModelPointer,
    });
    expect(await models.productsPage({ limit: 2 })).toEqual({ products: [], readModel: 2 });
    expect(queried).toEqual(['products-green']);
  });
});
