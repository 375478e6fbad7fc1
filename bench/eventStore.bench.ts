import { randomUUID } from 'node:crypto';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { productAggregate } from '../application/aggregates.js';
import { load } from '../application/handleCommand.js';
import { productStreamId } from '../domain/inventory/index.js';
import type { BenchStack } from './stack.js';
import { printTable, time, timeInterleaved } from './lib.js';

const metadata = () => ({
  correlationId: randomUUID(),
  causationId: randomUUID(),
  commandId: randomUUID(),
  actor: 'bench',
});
const reserved = (sku: string, orderId: string) => ({
  type: 'StockReserved',
  data: { orderId, lines: [{ sku, quantity: 1 }] },
});

/** Appends through the store against the raw SDK writing the same items: what the store's envelope costs. */
export const appendBench = async ({ store, client, tables }: BenchStack, runs = 300) => {
  const raw = (streamId: string, version: number) => ({
    streamId,
    version,
    eventId: randomUUID(),
    type: 'StockReserved',
    data: { orderId: randomUUID(), lines: [{ sku: 'B', quantity: 1 }] },
    schemaVersion: 1,
    recordedAt: new Date().toISOString(),
    metadata: metadata(),
  });
  const [rawSingle, storeSingle, rawTriple, storeTriple] = await timeInterleaved(
    [
      () =>
        client.send(
          new PutCommand({
            TableName: tables.events,
            Item: raw(`raw-${randomUUID()}`, 1),
            ConditionExpression: 'attribute_not_exists(streamId)',
          }),
        ),
      () =>
        store.append(
          [{ streamId: `es-${randomUUID()}`, expectedVersion: 0, events: [reserved('B', randomUUID())] }],
          metadata(),
        ),
      () =>
        client.send(
          new TransactWriteCommand({
            TransactItems: [0, 1, 2].map((i) => ({
              Put: {
                TableName: tables.events,
                Item: raw(`raw-sku-${i}-${randomUUID()}`, 1),
                ConditionExpression: 'attribute_not_exists(streamId)',
              },
            })),
          }),
        ),
      () => {
        const orderId = randomUUID();
        return store.append(
          [0, 1, 2].map((i) => ({
            streamId: `es-sku-${i}-${randomUUID()}`,
            expectedVersion: 0,
            events: [reserved(`S${i}`, orderId)],
          })),
          metadata(),
        );
      },
    ],
    { runs },
  );
  if (!rawSingle || !storeSingle || !rawTriple || !storeTriple) throw new Error('a case was not timed');
  printTable('Event store append: one event (PutItem)', [
    { name: 'raw SDK PutItem, conditional', ...rawSingle, baseline: true },
    { name: 'store.append, 1 event', ...storeSingle },
  ]);
  printTable('Event store append: 3 SKU streams atomically (TransactWriteItems)', [
    { name: 'raw SDK TransactWriteItems, 3 conditional puts', ...rawTriple, baseline: true },
    { name: 'store.append, 3 streams in one transaction', ...storeTriple },
  ]);
};

/**
 * Loading a long product stream: a full fold of every event against its snapshot plus the tail. Orders no longer
 * write to it (an order's own stream holds its stock, moved on the SKU's balance), so only years of restocks make one
 * this long; the snapshot covers it.
 */
export const snapshotBench = async ({ store }: BenchStack, events = 10_000, runs = 30) => {
  const sku = `BENCH-${randomUUID().slice(0, 8).toUpperCase()}`;
  const streamId = productStreamId(sku);
  await store.append(
    [
      {
        streamId,
        expectedVersion: 0,
        events: [
          {
            type: 'ProductRegistered',
            data: { sku, name: 'Bench', unitPrice: { amount: 100, currency: 'EUR' }, initialStock: 1_000_000 },
          },
        ],
      },
    ],
    metadata(),
  );
  let version = 1;
  while (version < events) {
    const batch = Array.from({ length: Math.min(100, events - version) }, () => ({
      type: 'ProductRestocked',
      data: { sku, quantity: 1 },
    }));
    await store.append([{ streamId, expectedVersion: version, events: batch }], metadata());
    version += batch.length;
  }
  const full = await load(store, { ...productAggregate, snapshot: undefined }, streamId);
  const snapshotVersion = version - 37; // a snapshot a little behind the head, as in steady traffic
  const atSnapshot = await load(store, { ...productAggregate, snapshot: undefined }, streamId, {
    toVersion: snapshotVersion,
  });
  await store.writeSnapshot({
    streamId,
    version: snapshotVersion,
    state: atSnapshot.state,
    schema: 'product-state-1',
  });
  const withSnapshot = await load(store, productAggregate, streamId);
  if (JSON.stringify(withSnapshot.state) !== JSON.stringify(full.state))
    throw new Error('snapshot load differs from full fold');

  const without = await time(() => load(store, { ...productAggregate, snapshot: undefined }, streamId), {
    runs,
    warmup: 3,
  });
  const withSnap = await time(() => load(store, productAggregate, streamId), { runs, warmup: 3 });
  printTable(`Loading a ${events.toLocaleString('en')}-event product stream`, [
    { name: 'full read and fold (no snapshot)', ...without, baseline: true },
    { name: 'snapshot + 37-event tail', ...withSnap },
  ]);
};
