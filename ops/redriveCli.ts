import { compensationParking } from '../composition/root.js';
import { redrive } from '../projections/runner.js';
import { cliArgs, namedStream } from './cliArgs.js';
import { compensationStateMachineArn, sagaStateMachineArn } from './orderReport.js';
import { redriveSagas } from './redriveSagas.js';
import { stageClients } from './stage.js';
import { sagaStarter } from './startSaga.js';
import type { DomainEvent } from '../eventstore/types.js';
import { type ReadModelName, readModelNames, untypedProjection } from '../projections/index.js';
import type { ViewStore } from '../projections/ports.js';
import { type Projection, readRangeOf } from '../projections/projection.js';
import { redrivePlan } from '../projections/readModelVersions.js';

/**
 * `npm run redrive -- [<streamId>] [--stage <name>]`: re-applies parked streams, in order, from the event store,
 * once the cause of their failure is fixed (and deployed). Without a stream id, every parked stream. A bare order id
 * (as `npm run order` takes) names its order's stream. The saga's consumers' parked streams come first: their orders'
 * sagas or compensations are started (ops/redriveSagas.ts).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const usage = 'usage: npm run redrive -- [<streamId>] [--stage <name>]';
const { values, positionals } = cliArgs(
  { allowPositionals: true, options: { stage: { type: 'string', default: 'local' } } },
  usage,
  { maxPositionals: 1 },
);
const streamIdOf = (named: string | undefined): string | undefined => {
  if (named === undefined) return undefined;
  const streamId = namedStream(named);
  if (streamId) return streamId;
  // Anything else names no stream a projection reads: "not parked" would be a false all-clear.
  console.error(
    `${named} names no stream a read model reads: give one (order-<orderId>, product-<sku>) or an order id.\n${usage}`,
  );
  return process.exit(2);
};
const only = streamIdOf(positionals[0]);
// Exit 2, not 1: 1 says a stream was parked again, which a script must tell apart from a redrive that never ran.
const failed = (error: unknown): never => {
  console.error(`redrive failed: ${error instanceof Error ? error.message : String(error)}`);
  return process.exit(2);
};
const clients = await stageClients(values.stage).catch(failed);
/**
 * Every table of a read model that is written now (the live one, a version being built or kept for rollback): a
 * parked stream is caught up in each, so switching or rolling back shows none of its views stale.
 */
const redriveAll = async <View extends Record<string, unknown>, Event extends DomainEvent>(
  name: ReadModelName,
  projection: Projection<View, Event>,
) => {
  const { slots, dropped } = redrivePlan(await clients.pointers.get(name));
  const targets = slots.map(({ slot, parkedAs, alsoParkedAs }) => ({
    // The store of this read model's views: `View` is the projection's, which the composition root types by name.
    views: clients.viewStore(name, slot) as unknown as ViewStore<View>,
    parkedAs,
    alsoParkedAs,
  }));
  const results = await redrive(
    projection,
    {
      targets,
      dropped,
      parking: clients.parking,
      readRange: readRangeOf(clients.store),
      readAll: (streamId: string) => clients.store.readStream(streamId),
    },
    only,
  );
  return results.map((r) => ({ projection: name, ...r }));
};
// The saga's parked streams first: an order's saga is running by the time its view shows it PENDING. The state
// machines' ARNs are looked up only for an entry that needs one (on AWS, that takes states:ListStateMachines).
const once = <T>(get: () => Promise<T>): (() => Promise<T>) => {
  let got: Promise<T> | undefined;
  return () => (got ??= get());
};
const compensationArn = once(() => compensationStateMachineArn(clients));
const sagaResults = await redriveSagas(
  {
    parking: clients.parking,
    store: clients.store,
    starter: sagaStarter(
      clients.sfn,
      once(() => sagaStateMachineArn(clients)),
      clients.orderSaga.type,
    ),
    parkCompensation: async (request) =>
      compensationParking({ client: clients.sfn, stateMachineArn: await compensationArn() }).park(request),
  },
  only,
).catch(failed);
const results = await Promise.all(readModelNames.map((name) => redriveAll(name, untypedProjection(name))))
  .then((each) => [
    ...sagaResults.map(({ consumer, streamId, outcome, detail }) => ({
      projection: consumer,
      streamId,
      outcome,
      detail,
    })),
    ...each.flat().map((r) => ({
      ...r,
      detail: r.outcome === 'completed' ? `${r.applied} event(s) applied` : (r.error ?? ''),
    })),
  ])
  .catch(failed);
if (results.length === 0 && only) {
  // "Not parked" of a stream that does not exist (a typo, a stray space) would be a false all-clear.
  const exists = await clients.store
    .readStream(only, { toVersion: 1 })
    .then((events) => events.length > 0)
    .catch(() => true);
  if (!exists) {
    console.error(`${JSON.stringify(only)} has no events: no such stream.\n${usage}`);
    process.exit(2);
  }
}
if (results.length === 0) console.log(only ? `${only} is not parked.` : 'No parked streams.');
const width = Math.max(10, ...results.map((r) => r.projection.length));
for (const r of results) {
  console.log(
    `${r.projection.padEnd(width)} ${r.streamId}  ${r.outcome}${r.outcome === 'completed' ? ` (${r.detail})` : `: ${r.detail}`}`,
  );
}
process.exit(results.some((r) => r.outcome === 'parked-again') ? 1 : 0);
