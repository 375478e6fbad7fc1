import { productsProjection } from '../projections/products.js';
import { ordersProjection } from '../projections/orders.js';
import { redrive } from '../projections/runner.js';
import { createLogger } from '../functions/observability/logger.js';
import { cliArgs } from './cliArgs.js';
import { stageClients } from './stage.js';
import { readRangeOf } from '../projections/projection.js';

/**
 * `npm run redrive -- [<streamId>] [--stage <name>]`: re-applies parked streams, in order, from the event store,
 * once the cause of their failure is fixed (and deployed). Without a stream id, every parked stream.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values, positionals } = cliArgs(
  { allowPositionals: true, options: { stage: { type: 'string', default: 'local' } } },
  'usage: npm run redrive -- [<streamId>] [--stage <name>]',
  { maxPositionals: 1 },
);
const [only] = positionals;
const clients = await stageClients(values.stage).catch((error: unknown) => {
  console.error(`redrive failed: ${error instanceof Error ? error.message : String(error)}`);
  return process.exit(1);
});
const logger = createLogger({ level: 'warn' });
/** A read model's views in the table its readers use now. */
const liveViews = async (name: 'orders' | 'products') => clients.viewStore(name, await clients.liveSlot(name));
const common = {
  parking: clients.parking,
  readRange: readRangeOf(clients.store),
  readAll: (streamId: string) => clients.store.readStream(streamId),
  logger,
};
const results = [
  ...(await redrive(ordersProjection, { ...common, views: await liveViews('orders') }, only)).map((r) => ({
    projection: 'orders',
    ...r,
  })),
  ...(await redrive(productsProjection, { ...common, views: await liveViews('products') }, only)).map((r) => ({
    projection: 'products',
    ...r,
  })),
];
if (results.length === 0) console.log(only ? `${only} is not parked.` : 'No parked streams.');
for (const r of results) {
  console.log(
    `${r.projection.padEnd(10)} ${r.streamId}  ${r.outcome}${r.outcome === 'completed' ? ` (${r.applied} event(s) applied)` : `: ${r.error}`}`,
  );
}
process.exit(results.some((r) => r.outcome === 'parked-again') ? 1 : 0);
