import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STREAM_ID, VERSION } from '../eventstore/tableKeys.js';
import { createTables, type DynamoLocal, localClientConfig, startDynamoLocal } from '../local/dynamoLocal.js';
import { loadServerlessConfig } from '../local/serverlessConfig.js';
import { stageClients, type StageClients } from '../ops/stage.js';
import type { EventStore } from '../eventstore/types.js';

export type BenchStack = {
  dynamo: DynamoLocal;
  clients: StageClients;
  client: DynamoDBDocumentClient;
  store: EventStore;
  tables: StageClients['tables'];
  stop(): Promise<void>;
};

/** DynamoDB Local alone, in memory, with the tables of serverless.yml's `bench` stage: nothing else competes. */
export const startBenchStack = async (): Promise<BenchStack> => {
  const config = await loadServerlessConfig('bench');
  const dynamo = await startDynamoLocal();
  await createTables(config, dynamo.endpoint);
  const clients = await stageClients('bench', { dynamoEndpoint: dynamo.endpoint });
  return {
    dynamo,
    clients,
    client: clients.client,
    store: clients.store,
    tables: clients.tables,
    stop: () => dynamo.stop(),
  };
};

/**
 * A table of the events table's key schema (`streamId`, `version`), for a benchmark's raw baseline: the same writes as
 * the store's, without starting sagas or feeding projections. No stream, unless `streamed` gives it one, as the events
 * table has, which nothing reads.
 */
export const createBaselineTable = async (
  endpoint: string,
  tableName: string,
  { streamed = false }: { streamed?: boolean } = {},
): Promise<void> => {
  const client = new DynamoDBClient({ endpoint, ...localClientConfig });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: STREAM_ID, AttributeType: 'S' },
          { AttributeName: VERSION, AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: STREAM_ID, KeyType: 'HASH' },
          { AttributeName: VERSION, KeyType: 'RANGE' },
        ],
        ...(streamed ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } } : {}),
      }),
    );
  } finally {
    client.destroy();
  }
};
