import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoParkingLot, type ParkingLot } from '../adapters/parking.js';
import {
  dynamoPointerStore,
  dynamoRebuildNotes,
  type PointerStore,
  type RebuildNotes,
  type SlotTables,
} from '../adapters/readModelPointer.js';
import { dynamoViewStore } from '../adapters/viewStore.js';
import { documentClient } from '../eventstore/dynamoClient.js';
import { dynamoEventStore } from '../eventstore/dynamoEventStore.js';
import type { EventStore } from '../eventstore/types.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { stackEnvironment } from '../local/environment.js';
import { localStateDir } from '../local/paths.js';
import { loadServerlessConfig } from '../local/serverlessConfig.js';
import { inventoryProjection } from '../projections/inventory.js';
import { ordersProjection } from '../projections/orders.js';
import { rebuildTarget, type RebuildTarget } from '../projections/rebuild.js';
import { replayTarget, type ReplayTarget } from '../projections/replay.js';

/** What `npm start` leaves in `.local/stack.json` while it runs, so ops commands find the local stack. */
export type RunningStack = {
  stage: string;
  dynamoEndpoint: string;
  kinesisEndpoint: string;
  stepFunctionsEndpoint: string;
  apiUrl: string;
  pid: number;
};
export const runningStackFile = join(localStateDir, 'stack.json');

export type StageClients = {
  stage: string;
  client: DynamoDBDocumentClient;
  store: EventStore;
  parking: ParkingLot;
  tables: { events: string; orders: string; inventory: string; projections: string; circuits: string };
  /** Each read model's two tables (ADR 0009); `tables.orders` and `tables.inventory` are their blue slots. */
  slots: SlotTables;
  /** The replay targets on each read model's live table, as the pointer says now. */
  liveTargets(): Promise<Record<'orders' | 'inventory', ReplayTarget>>;
  /** The table a read model's readers use now. */
  liveTable(projection: 'orders' | 'inventory'): Promise<string>;
  rebuildTargets: Record<'orders' | 'inventory', RebuildTarget>;
  pointers: PointerStore;
  notes: RebuildNotes;
  /** How long readers and live projections cache the pointer (READ_MODEL_CACHE_MS): a rebuild waits it out. */
  readModelCacheMs: number;
  sfn: SFNClient;
  /** The order saga's state machine; its ARN is known up front only locally (on AWS it holds the account id). */
  orderSaga: { name: string; type: 'STANDARD' | 'EXPRESS'; arn?: string };
};

const required = (environment: Record<string, unknown>, name: string): string => {
  const value = environment[name];
  if (typeof value !== 'string' || !value) throw new Error(`serverless.yml sets no ${name}`);
  return value;
};

const notRunning = 'The local stack is not running: start it with `npm start`, or pass --stage <name>.';

/** The endpoints of the running `npm start`, from what it left in `.local/stack.json`. */
const runningStack = async (): Promise<RunningStack> => {
  const text = await readFile(runningStackFile, 'utf8').catch(() => {
    throw new Error(notRunning);
  });
  const running = JSON.parse(text) as Partial<RunningStack>;
  if (!running.dynamoEndpoint || !running.stepFunctionsEndpoint) {
    throw new Error(`${runningStackFile} was written by an older \`npm start\`: restart it.`);
  }
  return running as RunningStack;
};

/**
 * Clients for a stage's tables and its order saga. `local` (the default) is the running `npm start`; any other
 * stage is the deployed one, reached with the caller's AWS credentials and region (the usual AWS_PROFILE /
 * AWS_REGION). The tests pass the endpoints of their own stack.
 */
export const stageClients = async (
  stage = 'local',
  endpoints: { dynamoEndpoint?: string; stepFunctionsEndpoint?: string } = {},
): Promise<StageClients> => {
  const config = await loadServerlessConfig(stage);
  const environment = config.provider.environment ?? {};
  const local =
    endpoints.dynamoEndpoint || endpoints.stepFunctionsEndpoint
      ? endpoints
      : stage === 'local'
        ? await runningStack()
        : undefined;
  const awsClient = { region: process.env.AWS_REGION ?? config.provider.region };
  const client: DynamoDBDocumentClient = local?.dynamoEndpoint
    ? documentClient({ endpoint: local.dynamoEndpoint, ...localClientConfig })
    : documentClient(awsClient);
  const sfn = local?.stepFunctionsEndpoint
    ? new SFNClient({ endpoint: local.stepFunctionsEndpoint, ...localClientConfig })
    : new SFNClient(awsClient);
  const tables = {
    events: required(environment, 'EVENTS_TABLE'),
    orders: required(environment, 'ORDERS_TABLE'),
    inventory: required(environment, 'INVENTORY_TABLE'),
    projections: required(environment, 'PROJECTIONS_TABLE'),
    circuits: required(environment, 'CIRCUITS_TABLE'),
  };
  const saga = config.resources?.Resources?.OrderSagaStateMachine?.Properties ?? {};
  const orderSaga = {
    name: String(saga.StateMachineName),
    type: saga.StateMachineType === 'EXPRESS' ? ('EXPRESS' as const) : ('STANDARD' as const),
    // Locally, the ARN the saga starter is given (the stand-in's account id is fixed).
    ...(local
      ? { arn: required(stackEnvironment(config, { dynamodb: local.dynamoEndpoint ?? '' }), 'ORDER_SAGA_ARN') }
      : {}),
  };
  const slots: SlotTables = {
    orders: { blue: tables.orders, green: required(environment, 'ORDERS_GREEN_TABLE') },
    inventory: { blue: tables.inventory, green: required(environment, 'INVENTORY_GREEN_TABLE') },
  };
  const pointers = dynamoPointerStore({ client, table: tables.projections });
  const liveTable = async (projection: 'orders' | 'inventory') =>
    slots[projection][(await pointers.get(projection)).live.slot];
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
    slots,
    liveTable,
    liveTargets: async () => ({
      orders: replayTarget(ordersProjection, dynamoViewStore({ client, table: await liveTable('orders') })),
      inventory: replayTarget(inventoryProjection, dynamoViewStore({ client, table: await liveTable('inventory') })),
    }),
    rebuildTargets: {
      orders: rebuildTarget(ordersProjection, client, slots.orders),
      inventory: rebuildTarget(inventoryProjection, client, slots.inventory),
    },
    pointers,
    notes: dynamoRebuildNotes({ client, table: tables.projections }),
    readModelCacheMs: Number(environment.READ_MODEL_CACHE_MS ?? 5000),
    sfn,
    orderSaga,
  };
};
