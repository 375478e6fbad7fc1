import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { coldStartBench } from './coldStart.bench.js';
import { appendBench, snapshotBench } from './eventStore.bench.js';
import { flashsaleBench } from './flashsale.bench.js';
import { historyBench } from './history.bench.js';
import { latencyBench } from './latency.bench.js';
import { ordersBench } from './orders.bench.js';
import { replayBench } from './replay.bench.js';
import { requestsBench } from './requests.bench.js';
import { restartBench } from './restart.bench.js';
import { startBenchStack } from './stack.js';
import { stockModelsBench } from './stockModels.bench.js';
import { throughputBench } from './throughput.bench.js';

/**
 * `npm run bench -- [append] [snapshot] [replay] [stockmodels] [history] [requests] [latency] [orders] [throughput] [flashsale] [restart] [coldstart] [--verbose] [--profile]`: each benchmark prints
 * the median and p99 beside a baseline measured in the same run, on the same local stack. Not part of `npm test`.
 * `--profile` adds a CPU profile summary to the throughput and flashsale benchmarks. The whole-stack ones (latency, orders, throughput, flashsale) print a progress line while they run and keep the stack's lines in a file.
 * flashsale prints PASS or FAIL for each of its criteria, and any FAIL makes the exit code non-zero.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const all = [
  'append',
  'snapshot',
  'replay',
  'stockmodels',
  'history',
  'requests',
  'latency',
  'orders',
  'throughput',
  'flashsale',
  'restart',
  'coldstart',
] as const;
// Benchmark names are positionals; --verbose prints the whole-stack benchmarks' stack and function lines as they come.
const { values, positionals: asked } = parseArgs({
  options: {
    verbose: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
  allowPositionals: true,
  strict: true,
});
const chosen = asked.length === 0 ? all : all.filter((name) => asked.includes(name));
if (!process.env.ORDERFLOW_BENCH_CHILD) {
  console.log(`orderflow benchmarks: ${chosen.join(', ')}`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; DynamoDB Local (in memory), kinesalite`,
  );
}

const needsTables = chosen.some((name) =>
  ['append', 'snapshot', 'replay', 'stockmodels', 'history', 'requests'].includes(name),
);
const stack = needsTables ? await startBenchStack() : undefined;
try {
  if (stack && chosen.includes('append')) await appendBench(stack);
  if (stack && chosen.includes('snapshot')) await snapshotBench(stack);
  if (stack && chosen.includes('replay')) await replayBench(stack);
  if (stack && chosen.includes('stockmodels')) await stockModelsBench(stack);
  if (stack && chosen.includes('history')) await historyBench(stack);
  if (stack && chosen.includes('requests')) await requestsBench(stack);
} finally {
  await stack?.stop();
}
// A whole local stack per process: its handlers keep their SDK clients across invocations as a warm Lambda does,
// so a second stack in the same process would find them pointed at the first one's stopped stand-ins.
const wholeStack = {
  latency: () => latencyBench({ verbose: values.verbose }),
  orders: () => ordersBench({ verbose: values.verbose }),
  throughput: () => throughputBench({ profile: values.profile, verbose: values.verbose }),
  flashsale: () => flashsaleBench({ verbose: values.verbose, profile: values.profile }),
} as const;
const inOwnProcess = chosen.filter((name): name is keyof typeof wholeStack => name in wholeStack);
if (inOwnProcess.length === 1 && chosen.length === 1) {
  await wholeStack[inOwnProcess[0] as keyof typeof wholeStack]();
} else {
  for (const name of inOwnProcess) {
    const { status } = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        name,
        ...(values.verbose ? ['--verbose'] : []),
        ...(values.profile ? ['--profile'] : []),
      ],
      {
        stdio: 'inherit',
        env: { ...process.env, ORDERFLOW_BENCH_CHILD: '1' },
      },
    );
    if (status !== 0) throw new Error(`the ${name} benchmark failed (exit ${status})`);
  }
}
// Its stacks run in child processes of their own.
if (chosen.includes('restart')) await restartBench();
if (chosen.includes('coldstart')) await coldStartBench();
// 0 unless a benchmark set process.exitCode (flashsale does on a failed criterion).
process.exit();
