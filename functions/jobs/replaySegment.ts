import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { dynamoParkingLot } from '../../adapters/parking.js';
import { dynamoViewStore } from '../../adapters/viewStore.js';
import { inventoryProjection } from '../../projections/inventory.js';
import { ordersProjection } from '../../projections/orders.js';
import { dynamoCheckpoints, replaySegment, replayTarget } from '../../projections/replay.js';
import { config } from '../_shared/config.js';
import { documentClientSingleton, eventStore, readModelPointer, slotTables } from '../_shared/dependencies.js';
import { baseLogger } from '../_shared/log.js';
import { telemetry } from '../_shared/telemetry.js';

const Projections = z.array(z.enum(['orders', 'inventory'])).min(1);
const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('clear'), projections: Projections }),
  z.object({
    action: z.literal('segment'),
    runId: z.string().min(1),
    segment: z.int().min(0),
    totalSegments: z.int().min(1).max(1000),
    projections: Projections,
  }),
]);

/** Time left for a last page and its checkpoint before Lambda's timeout: the next invocation resumes. */
const HANDOVER_MS = 60_000;

/** The live table of each read model, as the pointer names it (as `npm run replay` does): after a switch, not blue. */
const targets = async () => {
  const client = documentClientSingleton();
  const tables = slotTables();
  const [orders, inventory] = await Promise.all([readModelPointer('orders'), readModelPointer('inventory')]);
  return {
    orders: replayTarget(ordersProjection, dynamoViewStore({ client, table: tables.orders[orders.live.slot] })),
    inventory: replayTarget(
      inventoryProjection,
      dynamoViewStore({ client, table: tables.inventory[inventory.live.slot] }),
    ),
  };
};

/**
 * One worker of the replay job (statemachines/replay.asl.json): clears the read models, or rebuilds them from one
 * scan segment until it is done or the invocation nears its timeout; Step Functions invokes it again until done.
 */
export const handler = middy<unknown, unknown, Error, Context>()
  .use(telemetry())
  .handler(async (event, context) => {
    const input = Input.parse(event);
    const logger = baseLogger().child({ function: context.functionName, job: 'replay', ...input });
    const all = await targets();
    if (input.action === 'clear') {
      let cleared = 0;
      for (const name of input.projections) cleared += await all[name].clear();
      logger.info('read models cleared', { cleared });
      return { cleared };
    }
    const client = documentClientSingleton();
    const store = eventStore();
    const progress = await replaySegment({
      client,
      eventsTable: config().EVENTS_TABLE,
      segment: input.segment,
      totalSegments: input.totalSegments,
      targets: input.projections.map((name) => all[name]),
      readRange: (streamId, after, to) => store.readStream(streamId, { afterVersion: after, toVersion: to }),
      parking: dynamoParkingLot({ client, table: config().PROJECTIONS_TABLE }),
      checkpoints: dynamoCheckpoints({ client, table: config().PROJECTIONS_TABLE, runId: input.runId }),
      shouldPause: () => context.getRemainingTimeInMillis() < HANDOVER_MS,
    });
    logger.info(progress.done ? 'segment replayed' : 'handing over before the timeout', { ...progress });
    return progress;
  });
