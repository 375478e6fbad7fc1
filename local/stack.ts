import { dirname, join } from 'node:path';
import { itemBytes } from './capacity.js';
import { type ChangeRelay, startChangeRelay } from './changeRelay.js';
import { doorbell } from './doorbell.js';
import { createTables, type DynamoLocal, startDynamoLocal } from './dynamoLocal.js';
import { stackEnvironment } from './environment.js';
import { createStreams, type KinesisLocal, startKinesalite, trimExpiredRecords } from './kinesisLocal.js';
import { type FaultPlan, type Faults, injectFaults } from './faults.js';
import { addInvocationHook } from './lambda.js';
import { type Meter, startMeter } from './meter.js';
import { localStateDir, privateFolder } from './paths.js';
import { loadServerlessConfig, type ServerlessConfig } from './serverlessConfig.js';
import { startSchedules } from './schedules.js';
import { type LocalStepFunctions, startStepFunctions } from './stepFunctions.js';
import { type StreamConsumers, startStreamConsumers } from './streamConsumers.js';

export type LocalStack = {
  config: ServerlessConfig;
  dynamo: DynamoLocal;
  kinesis: KinesisLocal;
  stepFunctions: LocalStepFunctions;
  relay: ChangeRelay;
  consumers: StreamConsumers;
  tables: string[];
  streams: string[];
  /** The environment the handlers run with: serverless.yml's, pointed at the local stand-ins. */
  environment: Record<string, string>;
  /** What the handlers asked of AWS, when the stack was started `metered`. */
  meter?: Meter;
  /** What was injected, when the stack was started with `faults`. */
  faults?: Faults;
  stop(): Promise<void>;
};

/**
 * Everything behind the API, for one stage: DynamoDB Local with the tables of serverless.yml, kinesalite with its
 * streams, the relay that does Kinesis Data Streams for DynamoDB's job, and the Kinesis consumers (projections,
 * later the saga starter) invoked as Lambda would. Sets `process.env` for the handlers it runs.
 *
 * With a state folder (`stateDir`, or the folder `dbPath` is in) the stack keeps its position across a restart:
 * DynamoDB Local's data in `dynamodb/` (or `dbPath`), kinesalite's in `kinesis/`, and the checkpoints of the relay
 * and of every event source mapping in `checkpoints/<stage>/`, so a restart resumes where the last run stopped; the
 * Step Functions executions a stop left running are kept there too, and start again.
 * Without one, everything is in memory and nothing is written but the failures file, as the tests run it.
 */
export const startLocalStack = async ({
  stage,
  dbPath: dbPathOption,
  stateDir: stateDirOption,
  checkpointFlushMs,
  log = () => undefined,
  trace,
  drainSagasMs = 0,
  metered = false,
  faults: faultPlan,
  keepFinished,
}: {
  stage: string;
  /** How many ended saga executions the Step Functions stand-in keeps whole (its default: 5,000). */
  keepFinished?: number;
  /** Count the handlers' requests, units and invocations (benchmarks and `npm run cost`). */
  metered?: boolean;
  /** Break invocations and the change stream on purpose (`npm run chaos`). */
  faults?: FaultPlan;
  /** Keep DynamoDB Local's data here (its parent is the state folder, unless `stateDir` says otherwise). */
  dbPath?: string;
  /** Keep the stack's state here: DynamoDB Local's and kinesalite's data, checkpoints, failures. */
  stateDir?: string;
  /** How often the relay and the consumers write their checkpoints at most (they also write on stop). */
  checkpointFlushMs?: number;
  log?: (line: string) => void;
  /** The saga's every state entered and exited (local/stepFunctions.ts): for `--verbose`, off the hot path otherwise. */
  trace?: (line: string) => void;
  /** How long stopping lets running executions finish first (0: aborts them at once). */
  drainSagasMs?: number;
}): Promise<LocalStack> => {
  const config = await loadServerlessConfig(stage);
  const stateDir = stateDirOption ?? (dbPathOption ? dirname(dbPathOption) : undefined);
  const dbPath = dbPathOption ?? (stateDir ? join(stateDir, 'dynamodb') : undefined);
  const checkpointDir = stateDir ? join(stateDir, 'checkpoints', stage) : undefined;
  // Every stand-in's files hold events, payment tokens included (kinesalite's change records, the executions kept
  // across a restart): the whole folder is for this user's eyes only.
  if (stateDir) await privateFolder(stateDir);
  const dynamo = await startDynamoLocal(dbPath ? { dbPath, log } : { log });
  const stopped: (() => Promise<void>)[] = [() => dynamo.stop()];
  const stop = async () => {
    for (const step of stopped.reverse()) await step().catch(() => undefined);
  };
  try {
    const tables = await createTables(config, dynamo.endpoint, { log });
    const kinesis = await startKinesalite(stateDir ? { path: join(stateDir, 'kinesis') } : {});
    stopped.push(() => kinesis.stop());
    const streams = await createStreams(config, kinesis.client);
    // Records past their retention are deleted now and every hour, or a kept stack's folder grows with every order.
    // A trim still reading when the stack stops is waited for first: kinesalite throws (uncaught) on a read of a store
    // it has closed.
    let trimming: Promise<void> | undefined;
    const trim = () => {
      trimming ??= trimExpiredRecords(kinesis.client, streams)
        .then(
          () => undefined,
          (error: unknown) =>
            log(
              `kinesalite: trimming expired records failed: ${error instanceof Error ? error.message : String(error)}`,
            ),
        )
        .finally(() => (trimming = undefined));
    };
    trim();
    const hourly = setInterval(trim, 3_600_000).unref();
    stopped.push(async () => {
      clearInterval(hourly);
      await trimming;
    });
    const rerunnable = new Set(
      ['OrderSagaStateMachine', 'CompensationStateMachine'].map((id) => {
        const name = config.resources?.Resources?.[id]?.Properties?.StateMachineName;
        if (typeof name !== 'string') throw new Error(`serverless.yml has no ${id} to run again after a crash`);
        return name;
      }),
    );
    const stepFunctions = await startStepFunctions({
      config,
      log,
      drainMs: drainSagasMs,
      ...(keepFinished !== undefined ? { keepFinished } : {}),
      ...(trace ? { trace } : {}),
      ...(checkpointDir ? { executionsFile: join(checkpointDir, 'executions.json') } : {}),
      // The saga's and the compensations' steps act only on what is still to do; a rebuild's would begin another.
      rerunEnded: (name) => rerunnable.has(name),
    });
    stopped.push(() => stepFunctions.stop());
    const meter = metered ? await startMeter({ dynamodb: dynamo.endpoint, sfn: stepFunctions.endpoint }) : undefined;
    if (meter) {
      const removeHook = addInvocationHook({
        after: (name, ms, _failed, _event, cpuMs) => meter.recordInvocation(name, ms, cpuMs),
        measuresCpu: true,
      });
      stopped.push(async () => {
        removeHook();
        await meter.stop();
      });
    }
    // Pollers wait ever longer on an idle stream, and are rung when there may be work (local/doorbell.ts): the
    // relay after every invocation in this process (it may have written), the consumers by the relay.
    const changes = doorbell();
    const records = doorbell();
    const removeBell = addInvocationHook({ after: () => changes.ring() });
    stopped.push(async () => removeBell());
    // After the meter's and the bell's hooks, so an injected failure is still counted, and still rings.
    const faults = faultPlan ? injectFaults(config, faultPlan) : undefined;
    if (faults) stopped.push(async () => faults.remove());
    const environment = stackEnvironment(config, {
      dynamodb: meter?.endpoints.dynamodb ?? dynamo.endpoint,
      kinesis: kinesis.endpoint,
      sfn: meter?.endpoints.sfn ?? stepFunctions.endpoint,
    });
    Object.assign(process.env, environment);
    // The executions the last stop left running go on, once the handlers their Tasks invoke can run, and before the
    // change stream is read again: a redelivered StockReserved then finds its saga's name taken, as on AWS, instead of
    // starting it afresh.
    await stepFunctions.resume();
    const consumers = await startStreamConsumers({
      config,
      kinesis: kinesis.client,
      bell: records,
      failuresFile: join(stateDir ?? localStateDir, 'failures', `${stage}.jsonl`),
      ...(checkpointDir ? { checkpointDir } : {}),
      ...(checkpointFlushMs !== undefined ? { checkpointFlushMs } : {}),
      log,
    });
    stopped.push(() => consumers.stop());
    const relay = await startChangeRelay({
      config,
      dynamoEndpoint: dynamo.endpoint,
      kinesis: kinesis.client,
      bell: changes,
      onPut: () => records.ring(),
      ...(checkpointDir ? { checkpointDir } : {}),
      ...(checkpointFlushMs !== undefined ? { checkpointFlushMs } : {}),
      log,
      // Sized only when metered: the relay's hot path does not walk every item for nothing.
      ...(meter ? { onRelayed: (bytes, image) => meter.recordChange(bytes, itemBytes(image), image.streamId?.S) } : {}),
      ...(faults ? { redeliverAfter: faults.redeliverAfter } : {}),
    });
    stopped.push(() => relay.stop());
    // serverless.yml's `schedule` events (the sweeper), fired as EventBridge would: local/schedules.ts.
    const schedules = startSchedules({ config, log });
    stopped.push(() => schedules.stop());
    return {
      config,
      dynamo,
      kinesis,
      stepFunctions,
      relay,
      consumers,
      tables,
      streams,
      environment,
      ...(meter ? { meter } : {}),
      ...(faults ? { faults } : {}),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};
