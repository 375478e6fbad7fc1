import { environmentVariable } from '../local/environment.js';
import { loadServerlessConfig } from '../local/serverlessConfig.js';
import { cliArgs } from './cliArgs.js';
import { checkInvariants, describeInvariants, invariantTables } from './invariants.js';
import { stageClients } from './stage.js';

/**
 * `npm run invariants -- [--stage <name>] [--all]`: checks what must hold of the whole store once every order has
 * settled (ops/invariants.ts): gapless streams, every order settled, stock conserved and held as each order's status
 * says, no payment kept by an order that did not end CONFIRMED, every read model equal to a fresh fold. Without
 * --stage, the running `npm start`. It reads every table whole (strongly consistent scans): meant for local and test
 * stages, not a large production table. Orders still in flight show as PENDING: run it on a quiet stack. Exits 1 if
 * any invariant is broken, and 2 if it could not check them (the stack down, no credentials): a script can tell the two
 * apart.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const usage = 'usage: npm run invariants -- [--stage <name>] [--all]';
const { values } = cliArgs(
  { options: { stage: { type: 'string', default: 'local' }, all: { type: 'boolean', default: false } } },
  usage,
);

try {
  const [clients, config] = await Promise.all([stageClients(values.stage), loadServerlessConfig(values.stage)]);
  const table = environmentVariable(config.provider.environment ?? {});
  const results = await checkInvariants(invariantTables(clients.client, table));
  console.log(`The store's invariants on stage ${values.stage}:`);
  console.log(describeInvariants(results, values.all ? Number.POSITIVE_INFINITY : 5).join('\n'));
  const broken = results.filter((i) => i.violations.length > 0).length;
  console.log(broken === 0 ? '\nall hold' : `\n${broken} broken${values.all ? '' : ' (--all lists every violation)'}`);
  process.exit(broken === 0 ? 0 : 1);
} catch (error) {
  console.error(`invariants failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
