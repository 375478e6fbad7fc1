import { formatChaosReport, runChaos } from './chaos.js';

/**
 * `npm run chaos -- [--orders 300] [--failure 0.2] [--concurrency 8] [--seed N]`: a few hundred orders on a local
 * stack that breaks a share of every Lambda invocation, then the invariants that must hold regardless. Exits 1 if
 * any order ended otherwise than its kind says or any invariant broke.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const option = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number`);
  return value;
};
const options = {
  orders: option('orders', 300),
  failure: option('failure', 0.2),
  concurrency: option('concurrency', 8),
  seed: option('seed', Date.now() % 2 ** 31),
};
if (options.failure >= 1) throw new Error('--failure is a share below 1, e.g. 0.2');
console.log(
  `orderflow chaos: ${options.orders} orders, ${options.concurrency} clients, ${(options.failure * 100).toFixed(0)}% of Lambda invocations failing; local stack (DynamoDB Local, kinesalite, aws-local-stepfunctions)`,
);
const report = await runChaos({ ...options, log: (line) => process.stderr.write(`[stack] ${line}\n`) });
console.log(formatChaosReport(report));
process.exit(report.passed ? 0 : 1);
