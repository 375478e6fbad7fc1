import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { alarms } from '../infra/alarms.mjs';
import { capacity } from '../infra/capacity.mjs';
import { tapLogs } from '../functions/observability/logger.js';
import { invokeOneAtATime } from '../local/lambda.js';
import type { Usage } from '../local/meter.js';
import { projectRoot } from '../local/paths.js';
import { numberOption } from './lib.js';
import {
  billedGbSeconds,
  chooseMemory,
  durationAt,
  invocationCost,
  memorySizes,
  type Timing,
  tracesPerOrder,
} from './power.js';
import { platformLinesLogged, systemLogLevelOf } from './platformLogs.js';
import { prices } from './prices.js';
import { startProgress } from './progress.js';
import { type Mix, startDrivenStack } from './scenario.js';
import { stackOutput } from './stackOutput.js';

/**
 * `npm run cost -- [--orders 200] [--concurrency 4] [--solo 40] [--write-memory] [--verbose]`: runs a documented mix of orders on the metered local stack,
 * counts what each order asks of AWS (DynamoDB request units from ReturnConsumedCapacity, change-stream records and
 * PUT payload units, Lambda invocations and durations, API requests, Step Functions transitions and durations), and
 * prices a million orders for a STANDARD and an EXPRESS saga from bench/prices.ts. Lambda and Express durations are
 * timed in a second run of `--solo` orders placed one at a time, since orders sharing this process slow each other,
 * with every invocation alone in the process, so the CPU time it used is its own. Each function is priced at its
 * memory with its CPU work at the share of a vCPU that memory buys (bench/power.ts), and weighed at other sizes;
 * `--write-memory` keeps those figures and the size chosen in infra/memory.json, which serverless.yml reads.
 * It prints one progress line, then
 * the table; the stack's and the functions' lines go to .local/logs/bench-cost.jsonl, and print too with --verbose.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    solo: { type: 'string', default: '40' },
    'write-memory': { type: 'boolean', default: false },
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

/** The level `prod` logs at (serverless.yml's params): what the functions write there, counted here at any stage's. */
const prodLogLevel = 'info';
/** Bytes billed for one log event of `line`. */
const ingested = (line: string) => Buffer.byteLength(line) + prices.cloudWatchLogs.eventOverheadBytes;
const logged = { events: 0, bytes: 0, byMessage: new Map<string, number>(), metrics: new Set<string>() };
/** One log event ingested, counted under `message` in the by-message table. */
const countLine = (message: string, line: string) => {
  logged.events += 1;
  logged.bytes += ingested(line);
  logged.byMessage.set(message, (logged.byMessage.get(message) ?? 0) + ingested(line));
};
/** The API's access log (serverless.yml, provider.logs.httpApi): a line per request, counted in the first run only. */
let countingAccess = true;
const countAccess = (line: string) => {
  if (countingAccess) countLine('API access log (API Gateway)', line);
};

const stage = 'bench';
const output = await stackOutput({ stage, command: 'cost', verbose: values.verbose });
const progress = startProgress({ label: 'cost', total: orders, ...(output.verbose ? { inPlace: false } : {}) });
progress.note('starting the local stack');
const { stack, drive, stop } = await startDrivenStack({
  stage,
  metered: true,
  log: output.log,
  accessLog: countAccess,
}).catch(async (error: unknown) => {
  progress.done();
  await output.stop();
  throw error;
});
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

type EmfDocument = {
  _aws?: { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
} & Record<string, unknown>;
/** Each custom metric an EMF document creates: its namespace, name and dimensions with their values. */
const metricsOf = (line: string): string[] => {
  const document = JSON.parse(line) as EmfDocument;
  return (document._aws?.CloudWatchMetrics ?? []).flatMap(({ Namespace, Dimensions, Metrics }) =>
    Dimensions.flatMap((names) =>
      Metrics.map(({ Name }) => [Namespace, Name, ...names.map((d) => `${d}=${String(document[d])}`)].join(' ')),
    ),
  );
};
const untapLogs = tapLogs((line) => {
  if (line.includes('"_aws"')) for (const metric of metricsOf(line)) logged.metrics.add(metric);
  const message = line.includes('"_aws"')
    ? 'metrics (embedded metric format)'
    : ((JSON.parse(line) as { message?: string }).message ?? '?');
  countLine(message, line);
}, prodLogLevel);

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
  untapLogs();
  countingAccess = false;
  const usage = meter.usage();
  const executions = [...stack.stepFunctions.executions.values()];
  if (executions.some((e) => e.status === 'RUNNING')) throw new Error('a saga is still running');

  // Durations measured while several orders share this one process are longer than a Lambda's own: price them from
  // a second, solo run of the same mix, one order at a time, and count everything else from the first.
  progress.note(`timing ${soloOrders} orders one at a time`);
  meter.reset();
  const together = invokeOneAtATime();
  const solo = await drive({ orders: soloOrders, mix: costMix, concurrency: 1 }).finally(together);
  if (solo.mismatches.length > 0) throw new Error(`orders ended wrongly:\n${solo.mismatches.join('\n')}`);
  await quiet();
  const soloUsage = meter.usage();
  const soloExecutions = [...stack.stepFunctions.executions.values()].filter((e) => !executions.includes(e));
  progress.done();

  // Registering the run's products is setup, not what an order costs.
  const per = (value: number) => value / orders;
  /** A function's memory in MB, as serverless.yml configures it. */
  const memoryOf = (fn: string) =>
    Number(
      stack.config.functions?.[fn]?.memorySize ?? (stack.config.provider as { memorySize?: number }).memorySize ?? 1024,
    );
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
  /** A function's invocation as timed in the solo run, or, if it was not invoked there, the first. */
  const timingOf = (fn: string): Timing => {
    const timed = soloUsage.lambda[fn]?.invocations ? soloUsage.lambda[fn] : usage.lambda[fn];
    return timed && timed.invocations > 0
      ? { wallMs: timed.durationMs / timed.invocations, cpuMs: timed.cpuMs / timed.invocations }
      : { wallMs: 0, cpuMs: 0 };
  };
  const functions = Object.entries(usage.lambda)
    .filter(([fn]) => fn !== 'registerProduct')
    .map(([fn, c]) => {
      const timing = timingOf(fn);
      const memoryMb = memoryOf(fn);
      return {
        fn,
        invocations: c.invocations,
        concurrentMs: c.durationMs / c.invocations,
        timing,
        ms: Math.ceil(durationAt(timing, memoryMb)),
        memoryMb,
        gbSeconds: c.invocations * billedGbSeconds(timing, memoryMb),
        chosenMb: chooseMemory(timing),
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
  // Lambda writes its own lines at the stage's system log level (serverless.yml, provider.logs.lambda): at WARN only
  // for what Lambda counts a warning or worse (not a START or REPORT), none of which an order here makes.
  const systemLogLevel = systemLogLevelOf(stack.config.provider);
  const platformLogged = platformLinesLogged(systemLogLevel);
  const platformBytes = platformLogged.reduce((sum, line) => sum + ingested(line), 0);
  const logBytes = logged.bytes + lambda.invocations * platformBytes;
  const logEvents = logged.events + lambda.invocations * platformLogged.length;
  const transitions = executions.reduce((sum, e) => sum + e.states.length + e.retries, 0);
  // Express bills each execution's duration rounded up to 100 ms, at 64 MB (its smallest step; our payloads are
  // tiny): timed, like Lambda, in the solo run, and counted per execution of the first.
  const expressGbSecondsOf = (e: (typeof executions)[number]) =>
    Math.ceil(((e.stopDate ?? e.startDate).getTime() - e.startDate.getTime()) / 100) * 0.1 * (64 / 1024);
  const expressGbSeconds =
    (soloExecutions.reduce((sum, e) => sum + expressGbSecondsOf(e), 0) / Math.max(1, soloExecutions.length)) *
    executions.length;

  // Here the saga settles an order within the orders projection's batching window, so its view is written once, final.
  // On AWS the saga (the change stream's hops, the gateway) outlasts the window: the view is written once per append
  // of the order's stream, PENDING first. That PENDING write also adds the order to the sparse pendingSince index, and
  // the final one takes it out: each write the window saved here is a put on AWS, and each saga's order 2 index writes.
  const viewPuts = usage.dynamodbByTable['PutItem orders'] ?? { requests: 0, writeUnits: 0 };
  const refusedPuts = usage.refused['PutItem orders'] ?? { requests: 0, writeUnits: 0 };
  const viewsWritten = viewPuts.requests - refusedPuts.requests;
  const orderAppends = usage.appends.order ?? 0;
  const unwrittenViews = Math.max(0, orderAppends - viewsWritten);
  const viewWriteUnits = viewsWritten > 0 ? (viewPuts.writeUnits - refusedPuts.writeUnits) / viewsWritten : 2;
  // The pendingSince index (keys only) gains an entry with an order's PENDING view and loses it with the final one.
  const sagas = executions.filter((e) => !/-(compensation|replay)$/.test(e.stateMachineArn)).length;
  const awsViewWrites = {
    requests: unwrittenViews,
    writeUnits: unwrittenViews * viewWriteUnits + Math.min(unwrittenViews, sagas) * 2,
  };
  const onAws = {
    requests: dynamo.requests + awsViewWrites.requests,
    write: dynamo.write + awsViewWrites.writeUnits,
    read: dynamo.read,
  };
  // X-Ray records a trace per sampled request at each entry point: a function the API or a stream invokes (the
  // sweeper's schedule is not per order), and each execution of a state machine, whose Lambda tasks join its trace.
  const entryKinds = (fn: string) => (stack.config.functions?.[fn]?.events ?? []).flatMap((e) => Object.keys(e));
  const traced = (stack.config.provider as { tracing?: { lambda?: unknown } }).tracing?.lambda !== false;
  const entries = [
    ...functions
      .filter(({ fn }) => traced && entryKinds(fn).some((kind) => kind === 'httpApi' || kind === 'stream'))
      .map((f) => ({ perOrder: per(f.invocations) })),
    // A traced function's trace goes on into the execution it starts: an execution starts its own only untraced.
    ...(traced
      ? []
      : [...new Set(executions.map((e) => e.stateMachineArn))].map((arn) => ({
          perOrder: per(executions.filter((e) => e.stateMachineArn === arn).length),
        }))),
  ];
  const steadyOrdersPerSecond = 20;
  const traces = tracesPerOrder(entries, steadyOrdersPerSecond, prices.xray);
  const tracesAtMillionAMonth = tracesPerOrder(entries, 1e6 / (30 * 24 * 3600), prices.xray);

  const rows: [string, string, number][] = [
    [
      'DynamoDB',
      `${per(onAws.requests).toFixed(1)} requests: ${per(onAws.write).toFixed(1)} WRU, ${per(onAws.read).toFixed(1)} RRU`,
      per(onAws.write) * prices.dynamodb.writeRequestUnit + per(onAws.read) * prices.dynamodb.readRequestUnit,
    ],
    [
      'DynamoDB → Kinesis',
      `${per(usage.kinesis.changeUnits).toFixed(1)} change data capture units (1 KB of each item of events, rounded up)`,
      per(usage.kinesis.changeUnits) * prices.dynamodb.changeDataCaptureUnit,
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
    [
      'X-Ray',
      `${traces.toFixed(2)} traces at a steady ${steadyOrdersPerSecond} orders/s (1 a second + 5% per entry point)`,
      traces * prices.xray.traceRecorded,
    ],
    [
      'CloudWatch Logs',
      `${(per(logBytes) / 1000).toFixed(2)} KB ingested (${per(logEvents).toFixed(1)} log events at ${prodLogLevel}, Lambda's own included)`,
      (per(logBytes) / 1e9) * prices.cloudWatchLogs.ingestedGb,
    ],
  ];
  const shared = rows.reduce((sum, [, , usd]) => sum + usd, 0);
  // Provisioned capacity bills units held, not used: at a steady load with auto scaling keeping each table near its
  // target, a unit used costs the hourly price over the seconds of an hour at that utilization.
  const capacityConfig = (stack.config.custom as { capacity?: Parameters<typeof capacity>[0] } | undefined)?.capacity;
  if (!capacityConfig) throw new Error('serverless.yml sets no custom.capacity');
  // What the provisioned floor holds whatever the volume: the minimum of every scalable target infra/capacity.mjs
  // makes for this stage's tables and indexes, one for reads and one for writes each. It also checks the settings.
  const targets = Object.values(
    capacity({ ...capacityConfig, mode: 'provisioned' }, stack.config.resources?.Resources ?? {}).scaling,
  ).flatMap(({ Type, Properties }) =>
    Type === 'AWS::ApplicationAutoScaling::ScalableTarget'
      ? [Properties as { ScalableDimension: string; MinCapacity: number }]
      : [],
  );
  const floorPerMonth =
    targets.reduce(
      (sum, { ScalableDimension, MinCapacity }) =>
        sum +
        MinCapacity *
          (ScalableDimension.endsWith('WriteCapacityUnits')
            ? prices.dynamodb.writeCapacityUnitHour
            : prices.dynamodb.readCapacityUnitHour),
      0,
    ) * 730;
  const utilization = Number(capacityConfig.targetUtilization) / 100;
  const onDemandDynamo = rows[0]?.[2] ?? 0;
  const provisionedDynamo =
    (per(onAws.write) * prices.dynamodb.writeCapacityUnitHour +
      per(onAws.read) * prices.dynamodb.readCapacityUnitHour) /
    3600 /
    utilization;
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
    `${''.padEnd(20)}${`EXPRESS: ${per(executions.length).toFixed(2)} executions, ${(per(expressGbSeconds) * 1000).toFixed(1)} GB-ms (64 MB, 100 ms steps)`.padEnd(62)}${million(express)}`,
  );
  console.log(`\nCloudWatch Logs per order, by message (at ${prodLogLevel}, as prod logs; bytes as ingested)`);
  for (const [message, bytes] of [
    ...logged.byMessage,
    [
      `Lambda's START, END and REPORT (system log level ${systemLogLevel})`,
      lambda.invocations * platformBytes,
    ] as const,
  ]
    .sort(([, a], [, b]) => b - a)
    .slice(0, 8)) {
    console.log(`  ${message.slice(0, 60).padEnd(62)}${per(bytes).toFixed(0).padStart(7)} B`);
  }
  console.log(`\nDynamoDB per order, by request and table`);
  for (const [name, c] of Object.entries(usage.dynamodbByTable).sort(
    ([, a], [, b]) => b.writeUnits * 5 + b.readUnits - (a.writeUnits * 5 + a.readUnits),
  )) {
    console.log(
      `  ${name.padEnd(36)}${per(c.requests).toFixed(2).padStart(7)} requests${per(c.writeUnits).toFixed(2).padStart(8)} WRU${per(c.readUnits).toFixed(2).padStart(8)} RRU`,
    );
  }
  console.log(
    `  ${'PutItem orders, on AWS: PENDING first'.padEnd(36)}${per(awsViewWrites.requests).toFixed(2).padStart(7)} requests${per(awsViewWrites.writeUnits).toFixed(2).padStart(8)} WRU    (modelled: ${per(orderAppends).toFixed(2)} appends to an order's stream, ${per(viewsWritten).toFixed(2)} view writes here; each saved one is a put there, and each saga's order 2 index writes)`,
  );
  for (const [operation, refused] of Object.entries(usage.refused)) {
    console.log(
      `  ${operation} refused on its condition, billed all the same (counted above): ${per(refused.requests).toFixed(2)} requests, ${per(refused.writeUnits).toFixed(2)} WRU`,
    );
  }
  console.log(
    `  X-Ray: ${traces.toFixed(2)} traces per order at ${steadyOrdersPerSecond} orders/s ($${(traces * prices.xray.traceRecorded * 1e6).toFixed(2)} per 1M); at a million orders a month (0.4/s) nearly every request is traced: ${tracesAtMillionAMonth.toFixed(2)} ($${(tracesAtMillionAMonth * prices.xray.traceRecorded * 1e6).toFixed(2)} per 1M), less the 100,000 free a month`,
  );
  console.log(
    `\nLambda per order, by function: an invocation timed here in ${soloOrders} orders one at a time, alone in the process (its CPU time; beside it, its duration while ${concurrency} clients shared the process), and its duration at the function's memory, its CPU work at the share of a vCPU that memory buys`,
  );
  for (const f of functions) {
    const usd = per(f.invocations) * prices.lambda.request + per(f.gbSeconds) * prices.lambda.gbSecond;
    console.log(
      `  ${f.fn.padEnd(24)}${per(f.invocations).toFixed(2).padStart(5)} invocations${f.timing.wallMs.toFixed(1).padStart(6)} ms here (CPU ${f.timing.cpuMs.toFixed(1)} ms; ${f.concurrentMs.toFixed(1)} ms)${`${f.ms} ms at ${f.memoryMb} MB`.padStart(18)}${million(usd)}`,
    );
  }
  const sizeColumn = 18;
  console.log(
    `\nLambda memory: each function's duration and price per 1M orders at each size (bench/power.ts: one vCPU at 1,769 MB); * serverless.yml's, < the fastest within 10% of the cheapest`,
  );
  console.log(`  ${''.padEnd(24)}${memorySizes.map((mb) => `${mb} MB`.padStart(sizeColumn)).join('')}`);
  for (const f of functions) {
    const cells = memorySizes.map((mb) => {
      const mark = `${mb === f.memoryMb ? '*' : ' '}${mb === f.chosenMb ? '<' : ' '}`;
      const usd = per(f.invocations) * invocationCost(f.timing, mb) * 1e6;
      return `${Math.ceil(durationAt(f.timing, mb))} ms $${usd.toFixed(2)}${mark}`.padStart(sizeColumn);
    });
    console.log(`  ${f.fn.padEnd(24)}${cells.join('')}`);
  }
  if (values['write-memory']) {
    const file = join(projectRoot, 'infra', 'memory.json');
    const memory = {
      about:
        'Lambda memory by measurement: written by `npm run cost -- --write-memory` and read by serverless.yml. Per function, an invocation as timed on the local stack with a whole core (wallMs, cpuMs), its duration at each size with its CPU work at the share of a vCPU that size buys (one vCPU at 1,769 MB), and the size chosen: the fastest of those that cost at most 10% more per invocation than the cheapest (bench/power.ts). Functions the cost mix does not invoke keep the provider default.',
      measured: { on: new Date().toISOString().slice(0, 10), orders: soloOrders, cpu: cpus()[0]?.model ?? 'unknown' },
      functions: Object.fromEntries(
        [...functions]
          .sort((a, b) => a.fn.localeCompare(b.fn))
          .map((f) => [
            f.fn,
            {
              memorySize: f.chosenMb,
              wallMs: Number(f.timing.wallMs.toFixed(1)),
              cpuMs: Number(f.timing.cpuMs.toFixed(1)),
              durationMs: Object.fromEntries(memorySizes.map((mb) => [mb, Math.ceil(durationAt(f.timing, mb))])),
            },
          ]),
      ),
    };
    await writeFile(file, `${JSON.stringify(memory, null, 2)}\n`);
    console.log(`\nwrote ${file}: serverless.yml reads each function's memorySize from it`);
  }
  console.log(`\n${'total, STANDARD saga'.padEnd(82)}${million(shared + standard)}`);
  console.log(`${'total, EXPRESS saga'.padEnd(82)}${million(shared + express)}`);
  console.log(
    `\nWith the tables on provisioned capacity (custom.capacity.mode: provisioned), at a steady load that keeps them ${(utilization * 100).toFixed(0)}% used:`,
  );
  console.log(`${'  DynamoDB'.padEnd(82)}${million(provisionedDynamo)}`);
  console.log(`${'  total, EXPRESS saga'.padEnd(82)}${million(shared - onDemandDynamo + provisionedDynamo + express)}`);
  // Custom metrics and alarms bill by the month, whatever the volume: the metrics this run's EMF documents made, and
  // the alarms infra/alarms.mjs makes for this stage, each metric a metric-math alarm reads billed as one.
  const alarmConfig = (stack.config.custom as { alarms?: Parameters<typeof alarms>[0] } | undefined)?.alarms;
  const capitalized = (name: string) => `${name[0]?.toUpperCase() ?? ''}${name.slice(1)}`;
  const madeAlarms = alarmConfig
    ? Object.values(
        alarms(
          alarmConfig,
          Object.entries(stack.config.functions ?? {}).map(([name, fn]) => ({
            name,
            consumesStream: (fn.events ?? []).some((event) => 'stream' in event),
          })),
          {
            getNormalizedFunctionName: capitalized,
            getLambdaLogicalId: (name) => `${capitalized(name)}LambdaFunction`,
          },
        ),
      )
    : [];
  const alarmMetrics = madeAlarms.reduce(
    (sum, { Properties }) =>
      sum + ((Properties as { Metrics?: { MetricStat?: unknown }[] }).Metrics?.filter((m) => m.MetricStat).length ?? 1),
    0,
  );
  const dashboards = (stack.config.custom as { dashboard?: { enabled?: boolean } } | undefined)?.dashboard?.enabled
    ? 1
    : 0;
  const monthly =
    logged.metrics.size * prices.cloudWatch.metricMonth +
    alarmMetrics * prices.cloudWatch.alarmMetricMonth +
    dashboards * prices.cloudWatch.dashboardMonth;
  const shards = Number(
    (stack.config.resources?.Resources?.ChangesStream?.Properties as { ShardCount?: unknown } | undefined)
      ?.ShardCount ?? 1,
  );
  console.log(
    `\nNot per order, a month whatever the volume: the change stream's ${shards} shard(s) at this stage, $${(shards * 730 * prices.kinesis.shardHour).toFixed(2)}, and $${(730 * prices.kinesis.extendedRetentionShardHour).toFixed(2)} more a shard kept past 24 hours (prod keeps its 2 for 7 days: changesRetentionHours); ${logged.metrics.size} custom metrics (what this run's EMF documents made) and ${madeAlarms.length} alarms reading ${alarmMetrics} metrics${dashboards ? ", and the dashboard ($3, or nothing among an account's first three)" : ''}, $${monthly.toFixed(2)}; provisioned tables' floor, were they provisioned (${targets.length / 2} tables and indexes at ${String(capacityConfig.minUnits)} read and write units each), $${floorPerMonth.toFixed(2)}. Not counted: storage, log storage, X-Ray retrievals, a client reading its order back (each GET is an API request, an invocation and a read), Lambda's init phase (billed since 2025-08-01; rare at a steady load). Lambda and Express durations are this machine's, in one process against local stand-ins; prices are ${prices.region}'s, where serverless.yml deploys to eu-west-1 by default.`,
  );
} finally {
  progress.done();
  await stop();
  await output.stop();
  console.log(`\n${output.where}`);
}
process.exit(0);
