import { cpus, totalmem } from 'node:os';
import { coldStartBench } from './coldStart.bench.js';
import { appendBench, snapshotBench } from './eventStore.bench.js';
import { latencyBench } from './latency.bench.js';
import { ordersBench } from './orders.bench.js';
import { replayBench } from './replay.bench.js';
import { startBenchStack } from './stack.js';

/**
 * `npm run bench -- [append] [snapshot] [replay] [latency] [orders] [coldstart]`: each benchmark prints the median and p99 beside a
 * baseline measured in the same run, on the same local stack. Not part of `npm test`.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const all = ['append', 'snapshot', 'replay', 'latency', 'orders', 'coldstart'] as const;
const asked = process.argv.slice(2);
const chosen = asked.length === 0 ? all : all.filter((name) => asked.includes(name));
console.log(`orderflow benchmarks: ${chosen.join(', ')}`);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; DynamoDB Local (in memory), kinesalite`,
);

const needsTables = chosen.some((name) => ['append', 'snapshot', 'replay'].includes(name));
const stack = needsTables ? await startBenchStack() : undefined;
try {
  if (stack && chosen.includes('append')) await appendBench(stack);
  if (stack && chosen.includes('snapshot')) await snapshotBench(stack);
  if (stack && chosen.includes('replay')) await replayBench(stack);
} finally {
  await stack?.stop();
}
if (chosen.includes('latency')) await latencyBench();
if (chosen.includes('orders')) await ordersBench();
if (chosen.includes('coldstart')) await coldStartBench();
process.exit(0);
