import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTables, type DynamoLocal, startDynamoLocal } from '../local/dynamoLocal.js';
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
