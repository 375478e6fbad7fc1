import type { KinesisStreamEvent } from 'aws-lambda';
import { addInvocationHook } from '../../local/lambda.js';
import { startLocalStack } from '../../local/stack.js';
import type { FromStackProcess, StackReport, ToStackProcess } from './stackProcess.js';

/**
 * One local stack in a process of its own, driven by tests/support/stackProcess.ts over IPC. A test needs this
 * to start a second stack: the handlers keep their SDK clients for the life of the process (as a warm Lambda
 * does), so a second stack in the test's own process would find them pointed at the first one's stand-ins.
 *
 * It records what a test cannot see from outside: which change records each consumer was invoked with.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const send = (message: FromStackProcess) =>
  new Promise<void>((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });

const stateDir = process.env.ORDERFLOW_STACK_STATE_DIR;
const stage = process.env.ORDERFLOW_STACK_STAGE ?? 'test';
const lines: string[] = [];
/** Per consumer: the event stream id and version of every change record it was invoked with. */
const deliveries: Record<string, string[]> = {};

addInvocationHook({
  before(functionName, event) {
    const records = (event as Partial<KinesisStreamEvent> | undefined)?.Records;
    if (!Array.isArray(records) || records[0]?.eventSource !== 'aws:kinesis') return;
    for (const record of records) {
      const change = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as {
        dynamodb?: { Keys?: { streamId?: { S?: string }; version?: { N?: string } } };
      };
      const keys = change.dynamodb?.Keys;
      (deliveries[functionName] ??= []).push(`${keys?.streamId?.S ?? '?'}#${keys?.version?.N ?? '?'}`);
    }
  },
});

const stack = await startLocalStack({
  stage,
  ...(stateDir ? { stateDir } : {}),
  checkpointFlushMs: 50,
  log: (line) => lines.push(line),
});

const consumers = Object.entries(stack.config.functions ?? {})
  .filter(([, fn]) => (fn.events ?? []).some((event) => 'stream' in event))
  .map(([name]) => name);

const report = (withDeliveries: boolean): StackReport => ({
  relayed: stack.relay.relayed(),
  processed: Object.fromEntries(consumers.map((name) => [name, stack.consumers.processed(name)])),
  executions: [...stack.stepFunctions.executions.values()].map(({ name, status }) => ({ name, status })),
  failures: stack.consumers.failures.length,
  lines,
  ...(withDeliveries ? { deliveries } : {}),
});

let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= stack.stop());

process.on('message', (message: ToStackProcess) => {
  if (message.type === 'report') void send({ type: 'report', report: report(message.deliveries ?? false) });
  if (message.type === 'stop') {
    void stop()
      .then(() => send({ type: 'stopped', report: report(false) }))
      .finally(() => process.exit(0));
  }
});
// The test ended or died without stopping it: stop anyway, so that no DynamoDB Local is left behind.
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => void stop().finally(() => process.exit(0)));
process.once('disconnect', () => void stop().finally(() => process.exit(0)));

void send({
  type: 'started',
  dynamoEndpoint: stack.dynamo.endpoint,
  kinesisEndpoint: stack.kinesis.endpoint,
  stepFunctionsEndpoint: stack.stepFunctions.endpoint,
  report: report(false),
});
