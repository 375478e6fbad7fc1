import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll, scanAll } from '../adapters/batch.js';
import { runRebuild } from '../projections/replay/rebuildJob.js';
import { settleMs } from '../projections/replay/rebuild.js';
import type { BenchStack } from './stack.js';
import { printTable } from './lib.js';
import { eventSchemas } from '../composition/schemas.js';

/** Writes `events` events as order streams of two (placed, confirmed), straight into the table. */
const seed = async ({ client, tables }: BenchStack, events: number) => {
  const items: Record<string, unknown>[] = [];
  const recordedAt = new Date().toISOString();
  for (let i = 0; i < events / 2; i++) {
    const orderId = randomUUID();
    const streamId = `order-${orderId}`;
    const metadata = {
      correlationId: orderId,
      causationId: orderId,
      commandId: orderId,
      actor: `customer-${i % 1000}`,
    };
    const line = { sku: `SKU-${i % 100}`, quantity: 1 + (i % 3), unitPrice: { amount: 1250, currency: 'EUR' } };
    items.push(
      {
        streamId,
        version: 1,
        eventId: randomUUID(),
        type: 'OrderPlaced',
        schemaVersion: eventSchemas.currentVersion('OrderPlaced'),
        recordedAt,
        metadata,
        data: {
          orderId,
          customerId: `customer-${i % 1000}`,
          lines: [line],
          total: { amount: line.quantity * 1250, currency: 'EUR' },
          paymentToken: 'tok_visa',
        },
      },
      {
        streamId,
        version: 2,
        eventId: randomUUID(),
        type: 'OrderConfirmed',
        schemaVersion: eventSchemas.currentVersion('OrderConfirmed'),
        recordedAt,
        metadata,
        data: { orderId },
      },
    );
  }
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        let requests = (batches[next++] ?? []).map((Item) => ({ PutRequest: { Item } }));
        while (requests.length > 0) {
          const { UnprocessedItems } = await client.send(
            new BatchWriteCommand({ RequestItems: { [tables.events]: requests } }),
          );
          requests = (UnprocessedItems?.[tables.events] ?? []) as typeof requests;
        }
      }
    }),
  );
};

/** Every event of the table, with the rebuild's own scan settings; `onPage` sees each page before the next is read. */
const scan = (
  { client, tables }: BenchStack,
  segments: number,
  onPage: (items: Record<string, unknown>[]) => Promise<void> = () => Promise.resolve(),
): Promise<number> =>
  scanAll(client, { TableName: tables.events, Limit: 1000, ConsistentRead: true }, segments, onPage);

/**
 * The three rows issue 16 asks for, from one run: a raw parallel scan (the read limit); the same scan plus a raw
 * BatchWriteItem of one view-sized item per stream into the orders read model's idle table (the physical floor of a
 * rebuild); and `npm run replay -- --projection orders --rebuild`, every phase included (the waits for the pointer
 * cache, the catch-up and the parity check), switch included.
 */
export const replayBench = async (stack: BenchStack, events = 100_000, segments = 4) => {
  const seeded = Date.now();
  await seed(stack, events);
  console.log(
    `\nseeded ${events.toLocaleString('en')} events (${events / 2} order streams) in ${((Date.now() - seeded) / 1000).toFixed(1)} s`,
  );
  const { clients } = stack;
  const target = clients.rebuildTargets.orders;
  const idle = (await clients.pointers.get('orders')).live.slot === 'blue' ? 'green' : 'blue';

  const scanStarted = Date.now();
  const scanned = await scan(stack, segments);
  const scanMs = Date.now() - scanStarted;

  // The floor: what any rebuild must do at least, reading every event and writing one view per stream, nothing else.
  const floorStarted = Date.now();
  let written = 0;
  await scan(stack, segments, async (items) => {
    const views = items
      .filter((item) => item.type === 'OrderPlaced')
      .map((item) => {
        const data = item.data as Record<string, unknown>;
        return {
          PutRequest: {
            Item: {
              orderId: data.orderId,
              customerId: data.customerId,
              status: 'CONFIRMED',
              lines: data.lines,
              total: data.total,
              placedAt: item.recordedAt,
              updatedAt: item.recordedAt,
              confirmedAt: item.recordedAt,
              version: 2,
            },
          },
        };
      });
    written += views.length;
    await batchWriteAll(stack.client, clients.slots.orders[idle], views);
  });
  const floorMs = Date.now() - floorStarted;
  await target.clear(idle, segments);

  const summary = await runRebuild({ clients, projection: 'orders', segments });
  if (summary.events !== scanned) throw new Error(`the rebuild read ${summary.events} events, the scan ${scanned}`);
  if (summary.streams !== written) throw new Error(`the rebuild wrote ${summary.streams} views, the floor ${written}`);
  const rate = (ms: number) => `${Math.round(scanned / (ms / 1000)).toLocaleString('en')} events/s`;
  printTable(`Rebuild of the orders read model from ${events.toLocaleString('en')} events (${segments} segments)`, [
    { name: `raw parallel scan, ${segments} segments`, n: 1, median: scanMs, p99: scanMs, note: rate(scanMs) },
    {
      name: `scan + raw BatchWriteItem of ${written.toLocaleString('en')} views`,
      n: 1,
      median: floorMs,
      p99: floorMs,
      baseline: true,
      note: rate(floorMs),
    },
    {
      name: 'npm run replay -- --projection orders --rebuild',
      n: 1,
      median: summary.elapsedMs,
      p99: summary.elapsedMs,
      note: `${rate(summary.elapsedMs)}; waits ${settleMs(clients.readModelCacheMs) * 2} ms for the pointer cache`,
    },
  ]);
  console.log(
    `  goal: --rebuild at most ×1.5 the floor: ${summary.elapsedMs <= 1.5 * floorMs ? 'PASS' : 'FAIL'} (×${(summary.elapsedMs / floorMs).toFixed(2)}); parity ${summary.parity.sampled} sampled, ${summary.parity.mismatches.length} mismatched; caught up ${summary.caughtUp} stream(s)`,
  );
};
