import { simulatorOutage } from '../adapters/simulatedPaymentGateway.js';
import { PAYMENT_CIRCUIT } from '../application/paymentGateway.js';
import { loadServerlessConfig } from '../local/serverlessConfig.js';
import { cliArgs, requireConfirmedStage } from './cliArgs.js';
import { stageClients } from './stage.js';

/**
 * `npm run gateway -- down|up|status [--stage <name>]`: the simulated payment gateway's outage switch, to show and
 * test by hand what an outage does (orders wait, PENDING, then confirm once it is back). `down` refuses every call
 * from then on, as a gateway that does not answer; `up` ends the outage and prints how many calls it refused. Both
 * also print the payment gateway's circuit breaker. Without --stage it is the running `npm start`; only stages that
 * run the simulator (not one with a real provider) have the switch. `down` on a deployed stage asks for --confirm.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const usage = 'usage: npm run gateway -- down|up|status [--stage <name> [--confirm <name>]]';
const { values, positionals } = cliArgs(
  { allowPositionals: true, options: { stage: { type: 'string', default: 'local' }, confirm: { type: 'string' } } },
  usage,
  { maxPositionals: 1 },
);
const [command] = positionals;
if (command !== 'down' && command !== 'up' && command !== 'status') {
  console.error(command === undefined ? usage : `"${command}" is not one of down, up, status.\n${usage}`);
  process.exit(2);
}
if (command === 'down') {
  requireConfirmedStage(values.stage, values.confirm, 'every payment would be refused until `up`');
} else if (values.confirm !== undefined) {
  console.error(`--confirm <stage> goes with down on a deployed stage (--stage <stage>).\n${usage}`);
  process.exit(2);
}

try {
  const clients = await stageClients(values.stage);
  const table = (await loadServerlessConfig(values.stage)).provider.environment?.PAYMENT_SIMULATOR_TABLE;
  if (typeof table !== 'string') throw new Error('serverless.yml sets no PAYMENT_SIMULATOR_TABLE');
  const outage = simulatorOutage({ client: clients.client, table });
  if (command === 'down') await outage.down();
  const state = command === 'up' ? await outage.up() : await outage.status();
  const circuit = (await clients.circuits.read(PAYMENT_CIRCUIT))?.circuit;
  console.log(
    state.down
      ? `payment gateway DOWN since ${state.since ?? '?'}: every call is refused (${state.refusedCalls} so far)`
      : `payment gateway UP${state.upAt ? ` since ${state.upAt}` : ''}; the last outage refused ${state.refusedCalls} call(s)`,
  );
  console.log(
    `circuit ${PAYMENT_CIRCUIT}: ${circuit ? circuit.state : 'CLOSED (no record: never tripped, or its item deleted)'}` +
      (circuit?.openSince ? `, open since ${new Date(circuit.openSince).toISOString()}` : ''),
  );
  process.exit(0);
} catch (error) {
  console.error(`gateway failed: ${error instanceof Error ? error.message : String(error)}`);
  // As every ops command that could not run: 2.
  process.exit(2);
}
