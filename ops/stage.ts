import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { composeStage, type ReadModelName, type Stage } from '../composition/root.js';
import { StageEnvironment } from '../composition/settings.js';
import { documentClient } from '../eventstore/dynamoClient.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { environmentVariable, stackEnvironment } from '../local/environment.js';
import { type RunningStack, runningStackFile, serving, stackHolding } from '../local/runningStack.js';
import { loadServerlessConfig } from '../local/serverlessConfig.js';

/** A stage as ops commands see it: the composition root's wiring (composition/root.ts), and what only ops need. */
export type StageClients = Stage & {
  stage: string;
  tables: { events: string; orders: string; products: string; projections: string; circuits: string };
  /** The table a read model's readers use now. */
  liveTable(projection: ReadModelName): Promise<string>;
  /** How long readers and live projections cache the pointer (READ_MODEL_CACHE_MS): a rebuild waits it out. */
  readModelCacheMs: number;
  sfn: SFNClient;
  /** The order saga's state machine; its ARN is known up front only locally (on AWS it holds the account id). */
  orderSaga: { name: string; type: 'STANDARD' | 'EXPRESS'; logGroup: string; arn?: string };
  /** The compensation state machine (parked compensations), by name; its ARN up front only locally. */
  compensation: { name: string; arn?: string };
};

const notRunning = 'The local stack is not running: start it with `npm start`, or pass --stage <name>.';

/** The endpoints of the running `npm start`, from what it left in `.local/stack.json` (not one a crash left). */
const runningStackEndpoints = async (): Promise<RunningStack> => {
  // One read of the claim: a stack still starting has claimed the folder but serves nothing yet.
  const held = await stackHolding();
  const running = serving(held);
  if (!running) {
    throw new Error(held ? `The local stack is still starting (pid ${held.pid}): try again in a moment.` : notRunning);
  }
  if (!running.dynamoEndpoint || !running.stepFunctionsEndpoint) {
    throw new Error(`${runningStackFile} was written by an older \`npm start\`: restart it.`);
  }
  return running;
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
  // No stage of that name can be deployed (infra/stageName.mjs refuses upper case, osls anything but letters, digits
  // and hyphens): say so before any credentials, rather than let osls fail on it without a reason.
  if (stage === '') throw new Error('No stage is named "": name one, or leave --stage out for the local stack.');
  if (stage !== stage.toLowerCase()) {
    throw new Error(
      `No stage is named "${stage}": stage names are lower case (did you mean "${stage.toLowerCase()}"?).`,
    );
  }
  if (!/^[a-z0-9-]+$/.test(stage))
    throw new Error(`No stage is named ${JSON.stringify(stage)}: a stage name is letters, digits and hyphens.`);
  const stack =
    !endpoints.dynamoEndpoint && !endpoints.stepFunctionsEndpoint && stage === 'local'
      ? await runningStackEndpoints()
      : undefined;
  // The running stack's region, whatever this shell says: its state machines' ARNs were made with it.
  if (stack?.region) process.env.AWS_REGION = stack.region;
  const local = stack ?? (endpoints.dynamoEndpoint || endpoints.stepFunctionsEndpoint ? endpoints : undefined);
  const config = await loadServerlessConfig(stage);
  const environment = config.provider.environment ?? {};
  const awsClient = { region: process.env.AWS_REGION ?? config.provider.region };
  const client: DynamoDBDocumentClient = local?.dynamoEndpoint
    ? documentClient({ endpoint: local.dynamoEndpoint, ...localClientConfig })
    : documentClient(awsClient);
  const sfn = local?.stepFunctionsEndpoint
    ? new SFNClient({ endpoint: local.stepFunctionsEndpoint, ...localClientConfig })
    : new SFNClient(awsClient);
  if (!local) {
    // Any stage but `local` is a deployed one: without credentials, say so, and that a mistyped name lands here too.
    await sfn.config.credentials().catch((error: unknown) => {
      throw new Error(
        `No AWS credentials for the deployed stage "${stage}" (${error instanceof Error ? error.message : String(error)}). ` +
          'Set AWS_PROFILE or the AWS_* variables; for the local stack, leave --stage out (it is `local`).',
      );
    });
  }
  const wired = composeStage({ client, environment: StageEnvironment.parse(environment) });
  const { environment: settings } = wired;
  const tables = {
    events: settings.EVENTS_TABLE,
    orders: settings.ORDERS_TABLE,
    products: settings.PRODUCTS_TABLE,
    projections: settings.PROJECTIONS_TABLE,
    circuits: settings.CIRCUITS_TABLE,
  };
  const saga = config.resources?.Resources?.OrderSagaStateMachine?.Properties ?? {};
  // Locally, the ARNs the functions are given (the stand-in's account id is fixed); on AWS they hold the account id.
  const localEnvironment = local && stackEnvironment(config, { dynamodb: local.dynamoEndpoint ?? '' });
  const orderSaga = {
    name: String(saga.StateMachineName),
    type: saga.StateMachineType === 'EXPRESS' ? ('EXPRESS' as const) : ('STANDARD' as const),
    // Its own name, not the state machine's: the machine is named by its type, the log group is not.
    logGroup: String(config.resources?.Resources?.OrderSagaLogGroup?.Properties?.LogGroupName),
    ...(localEnvironment ? { arn: environmentVariable(localEnvironment)('ORDER_SAGA_ARN') } : {}),
  };
  const compensation = {
    name: String(config.resources?.Resources?.CompensationStateMachine?.Properties?.StateMachineName),
    ...(localEnvironment ? { arn: environmentVariable(localEnvironment)('COMPENSATION_ARN') } : {}),
  };
  const liveTable = async (projection: ReadModelName) => wired.slots[projection][await wired.liveSlot(projection)];
  return {
    compensation,
    ...wired,
    stage,
    tables,
    liveTable,
    readModelCacheMs: settings.READ_MODEL_CACHE_MS,
    sfn,
    orderSaga,
  };
};
