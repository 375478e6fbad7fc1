import { parseArgs } from 'node:util';
import type { Usage } from '../local/meter.js';
import { numberOption } from './lib.js';
import { prices } from './prices.js';
import { startProgress } from './progress.js';
import { type Mix, startDrivenStack } from './scenario.js';
import { stackOutput } from './stackOutput.js';

/**
 * `npm run cost -- [--orders 200] [--concurrency 4] [--solo 20] [--verbose]`: runs a documented mix of orders on the metered local stack,
 * counts what each order asks of AWS (DynamoDB request units from ReturnConsumedCapacity, change-stream records and
 * PUT payload units, Lambda invocations and durations, API requests, Step Functions transitions and durations), and
 * prices a million orders for a STANDARD and an EXPRESS saga from bench/prices.ts. Lambda and Express durations are
 * timed in a second run of `--solo` orders placed one at a time, since orders sharing this process slow each other.
 * It prints one progress line, then
 * the table; the stack's and the functions' lines go to .local/logs/bench-cost.jsonl, and print too with --verbose.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    solo: { type: 'string', default: '20' },
    verbose: { type: 'boolean', default: false },
  },
  strict: true,
});
const orders = numberOption('orders', values.orders, { min: 1, whole: true });
const concurrency = numberOption('concurrency', values.concurrency, { min: 1, whole: true });
const soloOrders = numberOption('solo', values.solo, { min: 1, whole: true });
/** The proportions of a day's orders this model prices. */
const costMix: Mix = { confirmed: 70, declined: 10, outOfStock: 10, cancelled: 10 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const total = (usage: Usage) =>
  Object.values(usage.dynamodb).reduce((sum, c) => sum + c.requests, 0) +
  usage.kinesis.records +
  Object.values(usage.stepFunctions).reduce((sum, n) => sum + n, 0) +
  Object.values(usage.lambda).reduce((sum, c) => sum + c.invocations, 0);

const stage = 'bench';
const output = await stackOutput({ stage, command: 'cost', verbose: values.verbose });
const progress = startProgress({ label: 'cost', total: orders, ...(output.verbose ? { inPlace: false } : {}) });
progress.note('starting the local stack');
const { stack, drive, stop } = await startDrivenStack({ stage, metered: true, log: output.log }).catch(
  async (error: unknown) => {
    progress.done();
    await output.stop();
    throw error;
  },
);
const meter = stack.meter;
if (!meter) throw new Error('the cost stack is metered');
/** Everything an order sets off is counted once the meter stops moving: projections and compensations run late. */
const quiet = async () => {
  let last = -1;
  for (let still = 0; still < 4;) {
    await sleep(500);
    const now = total(meter.usage());
    still = now === last ? still + 1 : 0;
    last = now;
  }
};

try {
  progress.note();
  const scenario = await drive({
    orders,
    mix: costMix,
    concurrency,
    onProgress: (step) => progress[step](),
  });
  progress.note('waiting for the meter to stop moving');
  if (scenario.mismatches.length > 0) throw new Error(`orders ended wrongly:\n${scenario.mismatches.join('\n')}`);
  await quiet();
  const usage = meter.usage();
  const executions = [...stack.stepFunctions.executions.values()];
  if (executions.some((e) => e.status === 'RUNNING')) throw new Error('a saga is still running');

  // Durations measured while several orders share this one process are longer than a Lambda's own: price them from
  // a second, solo run of the same mix, one order at a time, and count everything else from the first.
  progress.note(`timing ${soloOrders} orders one at a time`);
  meter.reset();
  const solo = await drive({ orders: soloOrders, mix: costMix, concurrency: 1 });
  if (solo.mismatches.length > 0) throw new Error(`orders ended wrongly:\n${solo.mismatches.join('\n')}`);
  await quiet();
  const soloUsage = meter.usage();
  const soloExecutions = [...stack.stepFunctions.executions.values()].filter((e) => !executions.includes(e));
  progress.done();

  // Registering the run's products is setup, not what an order costs.
  const per = (value: number) => value / orders;
  const memoryOf = (fn: string) =>
    (stack.config.functions?.[fn]?.memorySize ??
      (stack.config.provider as { memorySize?: number }).memorySize ??
      1024) / 1024;
  const httpFunctions = new Set(
    Object.entries(stack.config.functions ?? {})
      .filter(([name, fn]) => name !== 'registerProduct' && (fn.events ?? []).some((e) => 'httpApi' in e))
      .map(([name]) => name),
  );
  const dynamo = Object.values(usage.dynamodb).reduce(
    (sum, c) => ({
      requests: sum.requests + c.requests,
      read: sum.read + c.readUnits,
      write: sum.write + c.writeUnits,
    }),
    { requests: 0, read: 0, write: 0 },
  );
  /** A function's duration per invocation: from the solo run, or, if it was not invoked there, the first. */
  const soloMs = (fn: string) => {
    const timed = soloUsage.lambda[fn]?.invocations ? soloUsage.lambda[fn] : usage.lambda[fn];
    return timed && timed.invocations > 0 ? timed.durationMs / timed.invocations : 0;
  };
  const functions = Object.entries(usage.lambda)
    .filter(([fn]) => fn !== 'registerProduct')
    .map(([fn, c]) => {
      const ms = soloMs(fn);
      return {
        fn,
        invocations: c.invocations,
        concurrentMs: c.durationMs / c.invocations,
        soloMs: ms,
        memoryMb: memoryOf(fn) * 1024,
        gbSeconds: c.invocations * (ms / 1000) * memoryOf(fn),
      };
    })
    .sort((a, b) => b.invocations - a.invocations);
  const lambda = functions.reduce(
    (sum, f) => ({ invocations: sum.invocations + f.invocations, gbSeconds: sum.gbSeconds + f.gbSeconds }),
    { invocations: 0, gbSeconds: 0 },
  );
  const apiRequests = Object.entries(usage.lambda)
    .filter(([fn]) => httpFunctions.has(fn))
    .reduce((sum, [, c]) => sum + c.invocations, 0);
  const transitions = executions.reduce((sum, e) => sum + e.states.length + e.retries, 0);
  // Express bills each execution's duration rounded up to 100 ms, at 64 MB (its smallest step; our payloads are
  // tiny): timed, like Lambda, in the solo run, and counted per execution of the first.
  const expressGbSecondsOf = (e: (typeof executions)[number]) =>
    Math.ceil(((e.stopDate ?? e.startDate).getTime() - e.startDate.getTime()) / 100) * 0.1 * (64 / 1024);
  const expressGbSeconds =
    (soloExecutions.reduce((sum, e) => sum + expressGbSecondsOf(e), 0) / Math.max(1, soloExecutions.length)) *
    executions.length;

  const rows: [string, string, number][] = [
    [
      'DynamoDB',
      `${per(dynamo.requests).toFixed(1)} requests: ${per(dynamo.write).toFixed(1)} WRU, ${per(dynamo.read).toFixed(1)} RRU`,
      per(dynamo.write) * prices.dynamodb.writeRequestUnit + per(dynamo.read) * prices.dynamodb.readRequestUnit,
    ],
    [
      'DynamoDB → Kinesis',
      `${per(usage.kinesis.records).toFixed(1)} change data capture units (one per event item up to 1 KB)`,
      per(usage.kinesis.records) * prices.dynamodb.changeDataCaptureUnit,
    ],
    [
      'Kinesis',
      `${per(usage.kinesis.payloadUnits).toFixed(1)} PUT payload units (${per(usage.kinesis.bytes).toFixed(0)} bytes)`,
      per(usage.kinesis.payloadUnits) * prices.kinesis.putPayloadUnit,
    ],
    [
      'Lambda',
      `${per(lambda.invocations).toFixed(1)} invocations, ${(per(lambda.gbSeconds) * 1000).toFixed(1)} GB-ms`,
      per(lambda.invocations) * prices.lambda.request + per(lambda.gbSeconds) * prices.lambda.gbSecond,
    ],
    ['API Gateway', `${per(apiRequests).toFixed(2)} requests`, per(apiRequests) * prices.apiGateway.request],
  ];
  const shared = rows.reduce((sum, [, , usd]) => sum + usd, 0);
  const standard = per(transitions) * prices.stepFunctions.stateTransition;
  const express =
    per(executions.length) * prices.stepFunctions.expressRequest +
    per(expressGbSeconds) * prices.stepFunctions.expressGbSecond;
  const million = (usd: number) => `$${(usd * 1e6).toFixed(2)}`.padStart(12);

  const kinds = Object.entries(costMix)
    .map(([kind, weight]) => `${kind} ${weight}%`)
    .join(', ');
  console.log(`\nCost of ${orders} orders (${kinds}), ${concurrency} clients, metered on the local stack`);
  console.log(`prices: ${prices.region}, list prices as of ${prices.asOf} (bench/prices.ts)\n`);
  console.log(`${'service'.padEnd(20)}${'per order'.padEnd(62)}${'per 1M orders'.padStart(14)}`);
  for (const [service, units, usd] of rows) console.log(`${service.padEnd(20)}${units.padEnd(62)}${million(usd)}`);
  console.log(
    `${'Step Functions'.padEnd(20)}${`STANDARD: ${per(transitions).toFixed(2)} state transitions (retries included)`.padEnd(62)}${million(standard)}`,
  );
  console.log(
    `${''.padEnd(20)}${`EXPRESS: 1 request, ${(per(expressGbSeconds) * 1000).toFixed(1)} GB-ms (64 MB, 100 ms steps)`.padEnd(62)}${million(express)}`,
  );
  console.log(`\nDynamoDB per order, by request and table`);
  for (const [name, c] of Object.entries(usage.dynamodbByTable).sort(
    ([, a], [, b]) => b.writeUnits * 5 + b.readUnits - (a.writeUnits * 5 + a.readUnits),
  )) {
    console.log(
      `  ${name.padEnd(36)}${per(c.requests).toFixed(2).padStart(7)} requests${per(c.writeUnits).toFixed(2).padStart(8)} WRU${per(c.readUnits).toFixed(2).padStart(8)} RRU`,
    );
  }
  console.log(
    `\nLambda per order, by function: duration per invocation timed in ${soloOrders} orders one at a time (and, beside it, while ${concurrency} clients shared this process), at the function's memory`,
  );
  for (const f of functions) {
    const usd = per(f.invocations) * prices.lambda.request + per(f.gbSeconds) * prices.lambda.gbSecond;
    console.log(
      `  ${f.fn.padEnd(26)}${per(f.invocations).toFixed(2).padStart(6)} invocations${f.soloMs.toFixed(1).padStart(7)} ms (${f.concurrentMs.toFixed(1)} ms)${`${f.memoryMb.toFixed(0)} MB`.padStart(8)}${million(usd)}`,
    );
  }
  console.log(`\n${'total, STANDARD saga'.padEnd(82)}${million(shared + standard)}`);
  console.log(`${'total, EXPRESS saga'.padEnd(82)}${million(shared + express)}`);
  const shards = Number(
    (stack.config.resources?.Resources?.ChangesStream?.Properties as { ShardCount?: unknown } | undefined)
      ?.ShardCount ?? 1,
  );
  console.log(
    `\nNot per order: the change stream's ${shards} shard(s) at this stage cost $${(shards * 730 * prices.kinesis.shardHour).toFixed(2)} a month whatever the volume; storage, CloudWatch Logs ingestion and X-Ray traces are not counted. Lambda and Express durations are this machine's, in one process against local stand-ins.`,
  );
} finally {
  progress.done();
  await stop();
  await output.stop();
  console.log(`\n${output.where}`);
}
process.exit(0);
