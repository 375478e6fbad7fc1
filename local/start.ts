import { rename, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { cliArgs } from '../ops/cliArgs.js';
import { claimStateFolder, type RunningStack, runningStackFile, stackHolding } from './runningStack.js';
import { jwtSettings, localIssuer } from './auth.js';
import { type FunctionLogs, recordFunctionLogs } from './functionLogs.js';
import { startApi } from './httpServer.js';
import { localStateDir } from './paths.js';
import { previousLogFile, resetLocalState } from './reset.js';
import { writeFileAtomically } from './checkpoints.js';
import { startLocalStack } from './stack.js';

/**
 * `npm start [-- --fresh] [--verbose]`: the whole backend on this machine. Its state is kept under .local (DynamoDB Local's
 * tables, kinesalite's stream, and where the change relay and every consumer got to), so a restart carries on
 * where the last run stopped; `--fresh` empties it first, as `npm run reset` does. The API serves the handlers of
 * serverless.yml's `local` stage. `--verbose` also records the functions' debug lines and prints every saga state.
 * Ctrl-C stops everything.
 */
// Before any SDK client exists: the SDK's notice that its 2027 releases need Node 22 (Lambda runs nodejs22.x).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const started = Date.now();
/** Thrown to end the startup when a stop was asked for while it ran: the stop takes it from there. */
class StopRequested extends Error {}
/** Where under the state folder (.local, or ORDERFLOW_STATE_DIR) a part of it is, as the developer would type it. */
const shown = (...parts: string[]) => {
  const path = join(localStateDir, ...parts);
  const near = relative(process.cwd(), path);
  return near.startsWith('..') ? path : near || '.';
};
const stage = 'local';
const { values: options } = cliArgs(
  { options: { fresh: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false } } },
  'usage: [PORT=<port>] npm start [-- --fresh] [--verbose]',
);
// Checked before anything starts: a bad PORT found once the whole stack is up only wasted its start. Digits only:
// Number() would read '' as 0 (a random port) and 0x10 as 16. An empty PORT is no PORT.
const portText = process.env.PORT?.trim() || '3000';
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65_535) {
  console.error(`PORT=${process.env.PORT ?? ''} is not a port: a whole number from 0 to 65535 (0 picks a free one).`);
  process.exit(2);
}

// One stack per state folder: a second would share DynamoDB Local's files and find kinesalite's locked. A stack
// still starting holds it too: its DynamoDB Local is no orphan for another start, or a reset, to stop.
const refuseHeld = (holder: { pid: number; apiUrl?: string | undefined }): never => {
  console.error(
    holder.pid <= 0
      ? 'Another `npm start` keeps claiming this state folder: stop it first.'
      : holder.apiUrl
        ? `The local stack is already running (pid ${holder.pid}, API at ${holder.apiUrl}): stop it first.`
        : `The local stack is already starting (pid ${holder.pid}): stop it first.`,
  );
  return process.exit(1);
};
const other = await stackHolding();
if (other) refuseHeld(other);
const portProblem = await new Promise<string | undefined>((resolve) => {
  const probe = createServer();
  probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
  probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
});
if (portProblem) {
  console.error(
    portProblem === 'EACCES'
      ? `Port ${port} needs privileges this user lacks: start with PORT=<a port from 1024 up>.`
      : `Port ${port} is taken on 127.0.0.1: stop what listens there, or start with PORT=<another>.`,
  );
  process.exit(1);
}
// A closed terminal (SIGHUP) fails every write to it after (EIO): the stop must go on all the same, unheard.
for (const output of [process.stdout, process.stderr]) output.on('error', () => undefined);

// Ctrl-C reaches this process more than once (from the terminal, and from npm, which passes it on): the first stops
// the stack, the rest wait for it. With no listener left, Node would exit at once and skip the positions. Listening
// from before the folder is claimed: a Ctrl-C while it starts (or resets, with --fresh) lets the step under way end,
// starts nothing more, and stops what started, where Node's own exit left DynamoDB Local (which ignores Ctrl-C)
// running, and a claim behind. SIGHUP: the terminal closed.
let claimed = false;
let functionLogs: FunctionLogs | undefined;
let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
let api: Awaited<ReturnType<typeof startApi>> | undefined;
let startupEnded: () => void = () => undefined;
const startup = new Promise<void>((resolve) => (startupEnded = resolve));
let stopping: Promise<void> | undefined;
/** Stops whatever started, in the reverse order; the claim last, so the folder is this stack's until all has stopped. */
const stopStarted = async () => {
  await api?.close();
  await stack?.stop();
  await functionLogs?.stop();
  if (claimed) await rm(runningStackFile, { force: true });
};
const stop = async (signal: string) => {
  console.log(`\n${signal}: stopping…`);
  await startup;
  await stopStarted();
  console.log(
    stack
      ? `stopped: API, stream consumers, change relay, kinesalite, DynamoDB Local (positions kept in ${shown('checkpoints', stage)})`
      : 'stopped before the stack started',
  );
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void (stopping ??= stop(signal)));
}

/** Ends the startup where it stands when a stop was asked for meanwhile: the stop takes it from there. */
const goOn = () => {
  if (stopping) throw new StopRequested();
};

try {
  goOn();
  // Claimed before anything starts, so that a second start or a reset meanwhile refuses (local/runningStack.ts).
  const holder = await claimStateFolder({ stage });
  if (holder) refuseHeld(holder);
  claimed = true;
  goOn();
  // The claim is kept: the folder is this start's.
  if (options.fresh) await resetLocalState({ log: (line) => console.log(`[fresh] ${line}`), claimedBy: process.pid });
  goOn();

  // The local CloudWatch Logs: every function's lines at info and up (with the EMF metrics), whatever reaches stdout.
  // Debug lines and the saga's every state only with --verbose: serializing them cost the hot path more than its
  // work. The last run's file is kept beside it, so the lines before a crash survive the restart that follows it;
  // a run that wrote nothing (a start interrupted or failed before any function ran) keeps the one before instead.
  const functionLogFile = join(localStateDir, 'logs', `${stage}.jsonl`);
  if ((await stat(functionLogFile).catch(() => undefined))?.size)
    await rename(functionLogFile, previousLogFile(functionLogFile)).catch(() => undefined);
  const logs = recordFunctionLogs(functionLogFile, options.verbose ? 'debug' : 'info');
  functionLogs = logs;
  stack = await startLocalStack({
    stage,
    stateDir: localStateDir,
    // Ctrl-C lets the sagas running at that moment finish (they take about a second), so their orders settle now.
    drainSagasMs: 10_000,
    log: (line) => console.log(`[stack] ${line}`),
    ...(options.verbose
      ? {
          trace: (line: string) => {
            console.log(`[stack] ${line}`);
            logs.stack(line);
          },
        }
      : {}),
  });
  goOn();

  const { config, dynamo, kinesis, tables, streams } = stack;
  const issuer = await localIssuer({ ...jwtSettings(config), keyDir: join(localStateDir, 'jwt') });
  api = await startApi({
    config,
    issuer,
    port,
    log: (line) => console.log(`[api] ${line}`),
    accessLog: (line) => logs.access(line),
  });
  const running: RunningStack = {
    stage,
    dynamoEndpoint: dynamo.endpoint,
    kinesisEndpoint: kinesis.endpoint,
    stepFunctionsEndpoint: stack.stepFunctions.endpoint,
    apiUrl: api.url,
    pid: process.pid,
    region: String(config.provider.region),
  };
  // Replaced whole (a rename): a start or a reset reading the claim never finds it empty.
  await writeFileAtomically(runningStackFile, JSON.stringify(running, null, 2));
  const consumers = Object.entries(config.functions ?? {})
    .filter(([, fn]) => (fn.events ?? []).some((e) => 'stream' in e))
    .map(([name]) => name);

  // Not when a Ctrl-C came while it started: it stops as soon as this block ends.
  if (!stopping)
    console.log(`
orderflow is running locally (stage "${stage}", ready in ${Date.now() - started} ms)

  API             ${api.url}        (routes from serverless.yml; OpenAPI at ${api.url}/openapi.json)
  DynamoDB Local  ${dynamo.endpoint}   (pid ${dynamo.pid}, data in ${shown('dynamodb')}; tables: ${tables.join(', ')})
  Kinesis         ${kinesis.endpoint}   (kinesalite, data in ${shown('kinesis')}; streams: ${streams.join(', ')}), fed by the change relay
  Step Functions  ${stack.stepFunctions.endpoint}   (aws-local-stepfunctions running statemachines/*.asl.json)
  Function logs   ${shown('logs', `${stage}.jsonl`)}   (every function's JSON lines, and the API's access log; grep an order's correlation id)
  Consumers       ${consumers.join(', ')}   (they and the relay resume from ${shown('checkpoints', stage)})

Get a token:      npm run -s token -- alice         (customer "alice"; -s keeps npm's own lines out of $(…))
                  npm run -s token -- ops --admin   (with the orderflow/admin scope)
Try it:           curl -s ${api.url}/openapi.json | head -c 300; echo

Ctrl-C stops everything, and \`npm start\` carries on where it stopped. \`npm run reset\` (or \`npm start -- --fresh\`) starts over empty.
`);
} catch (error) {
  if (!(error instanceof StopRequested)) {
    // What went wrong in a line (a port taken meanwhile, Java missing); the stack trace with --verbose.
    console.error(options.verbose || !(error instanceof Error) ? error : `Could not start: ${error.message}`);
    await stopStarted();
    process.exit(1);
  }
} finally {
  // A stop asked for while the stack started goes on from here.
  startupEnded();
}
