import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { runReplay } from '../ops/replay.js';
import type { BenchStack } from './stack.js';
import { printTable } from './lib.js';

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
        schemaVersion: 1,
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
        schemaVersion: 1,
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

/** Replay of `events` events against a raw parallel scan of the same table with as many segments: the read limit. */
export const replayBench = async (stack: BenchStack, events = 100_000, segments = 4) => {
  const seeded = Date.now();
  await seed(stack, events);
  console.log(
    `\nseeded ${events.toLocaleString('en')} events (${events / 2} order streams) in ${((Date.now() - seeded) / 1000).toFixed(1)} s`,
  );

  const scanStarted = Date.now();
  let scanned = 0;
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let lastKey: Record<string, unknown> | undefined;
      do {
        const page = await stack.client.send(
          new ScanCommand({
            TableName: stack.tables.events,
            Segment: segment,
            TotalSegments: segments,
            Limit: 500,
            ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
          }),
        );
        scanned += page.Items?.length ?? 0;
        lastKey = page.LastEvaluatedKey;
      } while (lastKey);
    }),
  );
  const scanMs = Date.now() - scanStarted;

  const summary = await runReplay({ clients: stack.clients, projections: ['orders'], fromScratch: true, segments });
  if (summary.events !== scanned) throw new Error(`replay read ${summary.events} events, the scan ${scanned}`);
  printTable(`Replay of ${events.toLocaleString('en')} events (${segments} segments), total time`, [
    {
      name: `raw parallel scan, ${segments} segments`,
      n: 1,
      median: scanMs,
      p99: scanMs,
      baseline: true,
      note: `${Math.round(scanned / (scanMs / 1000)).toLocaleString('en')} events/s`,
    },
    {
      name: 'npm run replay -- --projection orders --from-scratch',
      n: 1,
      median: summary.elapsedMs,
      p99: summary.elapsedMs,
      note: `${summary.eventsPerSecond.toLocaleString('en')} events/s`,
    },
  ]);
};
