import { parseArgs } from 'node:util';
import { type ChaosReport, formatChaosReport, runChaos } from './chaos.js';
import { numberOption } from './lib.js';
import { startProgress } from './progress.js';
import { stackOutput } from './stackOutput.js';

/**
 * `npm run chaos -- [--orders 300] [--failure 0.2] [--fail-steps 0.05] [--outage 20] [--outage-after 5] [--back-office 5] [--concurrency 8] [--seed N] [--verbose]`:
 * a few hundred orders on a local stack that breaks a share of every Lambda invocation, for a share of the orders
 * fails one saga step every time (the saga's catch-all must settle them), and takes the payment gateway down for
 * `--outage` seconds (0: none) `--outage-after` seconds after the first order (the breaker must park payments, not lose orders),
 * and after every `--back-office`-th order (0: never) restocks, writes off and reprices a product through the same failures, then
 * the invariants that must hold regardless, and that no change record went to the failure queue. Exits
 * 1 if any order ended otherwise than its kind says, any invariant broke, or any record was given up. It prints one progress line, then the
 * report; the stack's and the functions' lines go to .local/logs/bench-chaos.jsonl, and print too with --verbose.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '300' },
    failure: { type: 'string', default: '0.2' },
    'fail-steps': { type: 'string', default: '0.05' },
    outage: { type: 'string', default: '20' },
    'outage-after': { type: 'string', default: '5' },
    'back-office': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    verbose: { type: 'boolean', default: false },
  },
  strict: true,
});
const options = {
  orders: numberOption('orders', values.orders, { min: 1, whole: true }),
  failure: numberOption('failure', values.failure),
  failSteps: numberOption('fail-steps', values['fail-steps']),
  outageSeconds: numberOption('outage', values.outage),
  outageAfterSeconds: numberOption('outage-after', values['outage-after']),
  backOfficeEvery: numberOption('back-office', values['back-office'], { whole: true }),
  concurrency: numberOption('concurrency', values.concurrency, { min: 1, whole: true }),
  seed: numberOption('seed', values.seed, { whole: true }),
};
if (options.failure >= 1) throw new Error('--failure is a share below 1, e.g. 0.2');
if (options.failSteps > 1) throw new Error('--fail-steps is a share of the orders, at most 1, e.g. 0.05');
console.log(
  `orderflow chaos: ${options.orders} orders, ${options.concurrency} clients, ${(options.failure * 100).toFixed(0)}% of Lambda invocations failing, ${(options.failSteps * 100).toFixed(0)}% of orders with a saga step failing for good, ${options.outageSeconds > 0 ? `the payment gateway down for ${options.outageSeconds} s` : 'no gateway outage'}, ${options.backOfficeEvery > 0 ? `a restock, a write-off, a new price and a new name after every ${options.backOfficeEvery} orders` : 'no back office'}; local stack (DynamoDB Local, kinesalite, aws-local-stepfunctions)`,
);
const stage = 'bench';
const output = await stackOutput({ stage, command: 'chaos', verbose: values.verbose });
const progress = startProgress({
  label: 'chaos',
  total: options.orders,
  ...(output.verbose ? { inPlace: false } : {}),
});
progress.note('starting the local stack');
let report: ChaosReport;
try {
  const { outageSeconds, outageAfterSeconds, backOfficeEvery, ...rest } = options;
  report = await runChaos({
    ...rest,
    ...(backOfficeEvery > 0 ? { backOffice: { everyOrders: backOfficeEvery } } : {}),
    ...(outageSeconds > 0 ? { outage: { afterMs: outageAfterSeconds * 1000, forMs: outageSeconds * 1000 } } : {}),
    stage,
    log: output.log,
    progress,
  });
} catch (error) {
  progress.done();
  await output.stop();
  console.error(output.where);
  throw error;
}
progress.done();
await output.stop();
console.log(formatChaosReport(report));
console.log(`\n${output.where}`);
process.exit(report.passed ? 0 : 1);
