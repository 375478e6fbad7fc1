import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoParkingLot, type ParkingLot } from '../adapters/parking.js';
import { dynamoViewStore } from '../adapters/viewStore.js';
import { documentClient } from '../eventstore/dynamoClient.js';
import { dynamoEventStore } from '../eventstore/dynamoEventStore.js';
import type { EventStore } from '../eventstore/types.js';
import { localAwsEnv } from '../local/dynamoLocal.js';
import { localStateDir } from '../local/paths.js';
import { loadServerlessConfig } from '../local/serverlessConfig.js';
import { inventoryProjection } from '../projections/inventory.js';
import { ordersProjection } from '../projections/orders.js';
import { replayTarget, type ReplayTarget } from '../projections/replay.js';

/** What `npm start` leaves in `.local/stack.json` while it runs, so ops commands find the local stack. */
export type RunningStack = {
  stage: string;
  dynamoEndpoint: string;
  kinesisEndpoint: string;
  apiUrl: string;
  pid: number;
};
export const runningStackFile = join(localStateDir, 'stack.json');

export type StageClients = {
  stage: string;
  client: DynamoDBDocumentClient;
  store: EventStore;
  parking: ParkingLot;
  tables: { events: string; orders: string; inventory: string; projections: string };
  targets: Record<'orders' | 'inventory', ReplayTarget>;
};

const required = (environment: Record<string, unknown>, name: string): string => {
  const value = environment[name];
  if (typeof value !== 'string' || !value) throw new Error(`serverless.yml sets no ${name}`);
  return value;
};

/**
 * Clients for a stage's tables. `local` (the default) is the running `npm start`; any other stage is the deployed
 * one, reached with the caller's AWS credentials and region (the usual AWS_PROFILE / AWS_REGION).
 */
export const stageClients = async (
  stage = 'local',
  /** A local stack's DynamoDB endpoint other than the one `npm start` recorded (the tests' stack). */
  { dynamoEndpoint }: { dynamoEndpoint?: string } = {},
): Promise<StageClients> => {
  const config = await loadServerlessConfig(stage);
  const environment = config.provider.environment ?? {};
  const endpoint =
    dynamoEndpoint ??
    (stage === 'local'
      ? await readFile(runningStackFile, 'utf8')
          .then((text) => (JSON.parse(text) as RunningStack).dynamoEndpoint)
          .catch(() => {
            throw new Error('The local stack is not running: start it with `npm start`, or pass --stage <name>.');
          })
      : undefined);
  const client: DynamoDBDocumentClient = endpoint
    ? documentClient({
        endpoint,
        region: localAwsEnv.AWS_REGION,
        credentials: { accessKeyId: localAwsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: localAwsEnv.AWS_SECRET_ACCESS_KEY },
      })
    : documentClient({ region: process.env.AWS_REGION ?? config.provider.region });
  const tables = {
    events: required(environment, 'EVENTS_TABLE'),
    orders: required(environment, 'ORDERS_TABLE'),
    inventory: required(environment, 'INVENTORY_TABLE'),
    projections: required(environment, 'PROJECTIONS_TABLE'),
  };
  return {
    stage,
    client,
    store: dynamoEventStore({
      client,
      eventsTable: tables.events,
      snapshotsTable: required(environment, 'SNAPSHOTS_TABLE'),
    }),
    parking: dynamoParkingLot({ client, table: tables.projections }),
    tables,
    targets: {
      orders: replayTarget(ordersProjection, dynamoViewStore({ client, table: tables.orders })),
      inventory: replayTarget(inventoryProjection, dynamoViewStore({ client, table: tables.inventory })),
    },
  };
};
