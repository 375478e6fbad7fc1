import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DeleteCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import * as z from 'zod';
import { placeOrder, cancelOrder } from '../../application/orders.js';
import { readStock, registerProduct } from '../../application/products.js';
import { OrderEvent, orderStreamId } from '../../domain/order/index.js';
import type { DomainEvent, StoredEvent } from '../../eventstore/types.js';
import { type EventItem, storedItemEvents } from '../../eventstore/eventItems.js';
import { localKinesisClient } from '../../local/kinesisLocal.js';
import { localStateDir } from '../../local/paths.js';
import { loadServerlessConfig } from '../../local/serverlessConfig.js';
import { runReplay } from '../../projections/replay/replayJob.js';
import { stageClients, type StageClients } from '../../ops/stage.js';
import { productsProjection } from '../../projections/products.js';
import { ordersProjection, type OrderView } from '../../projections/orders.js';
import { catchUp, type Projection, readRangeOf } from '../../projections/projection.js';
import { redrive } from '../../projections/runner.js';
import { dynamoViewStore } from '../../adapters/viewStore.js';
import { eventually } from '../support/eventually.js';
import { testMetadata } from '../support/stack.js';

let clients: StageClients;
let changesStream: string;
const kinesis = () => localKinesisClient(inject('kinesisEndpoint'));

beforeAll(async () => {
  clients = await stageClients('test', { dynamoEndpoint: inject('dynamoEndpoint') });
  changesStream = String(
    (await loadServerlessConfig('test')).custom?.streams &&
      (await loadServerlessConfig('test')).resources?.Resources?.ChangesStream?.Properties?.Name,
  );
});

const context = () => ({ store: clients.store, metadata: testMetadata({ actor: 'read-side-test' }) });
const sku = () => `RS-${Math.random().toString(36).slice(2, 10).toUpperCase()}`;

const givenProduct = async (stock = 100) => {
  const id = sku();
  await registerProduct({ sku: id, name: id, price: { amount: 500, currency: 'EUR' }, stock }, context());
  return id;
};

const orderViews = () => dynamoViewStore<OrderView>({ client: clients.client, table: clients.tables.orders });

/** The view a fresh, in-order fold of the stream gives: what every read model must converge to. */
const freshFold = async <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  streamId: string,
) => {
  const events = await clients.store.readStream(streamId);
  return catchUp(projection, streamId, { view: undefined, version: 0 }, events, () => Promise.resolve([]));
};

/** A Kinesis record as Kinesis Data Streams for DynamoDB would carry this stored event. */
const asChange = (event: StoredEvent) => ({
  Data: Buffer.from(
    JSON.stringify({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      tableName: clients.tables.events,
      dynamodb: { NewImage: marshallish(event) },
    }),
  ),
  PartitionKey: event.streamId,
});

/** DynamoDB JSON for a plain object, enough for stored events (strings, numbers, maps, lists). */
const marshallish = (value: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value).map(([key, v]) => [key, attribute(v)]));
const attribute = (v: unknown): unknown =>
  typeof v === 'string'
    ? { S: v }
    : typeof v === 'number'
      ? { N: String(v) }
      : Array.isArray(v)
        ? { L: v.map(attribute) }
        : { M: marshallish(v as Record<string, unknown>) };

describe('the view store on DynamoDB', () => {
  it('reads many views at once, in the order asked, more than one request holds, with none for a key not stored', async () => {
    const views = dynamoViewStore<Record<string, unknown>>({ client: clients.client, table: clients.tables.products });
    const skus = Array.from({ length: 130 }, (_, i) => `VIEWS-${Date.now()}-${i}`);
    const stored = skus.filter((_, i) => i % 3 !== 0);
    for (const sku of stored) expect(await views.put({ sku, name: sku }, 1, 0)).toBe('written');
    const read = await views.getMany(skus.map((sku) => ({ sku })));
    expect(read).toEqual(skus.map((sku, i) => (i % 3 === 0 ? undefined : { view: { sku, name: sku }, version: 1 })));
    expect(await views.getMany([])).toEqual([]);
    // Not a product's view: gone again before the replay below compares the table with a fresh fold.
    for (const sku of stored) {
      await clients.client.send(new DeleteCommand({ TableName: clients.tables.products, Key: { sku } }));
    }
  });
});

describe('the orders and products read models', () => {
  it('follow the change stream, even when records come twice and out of order', async () => {
    const product = await givenProduct();
    const customer = `rs-${Date.now()}`;
    const { orderId } = await placeOrder(
      { customerId: customer, items: [{ sku: product, quantity: 2 }], paymentToken: 'tok_visa' },
      context(),
    );
    await cancelOrder({ orderId, caller: { sub: customer, isAdmin: false } }, context());
    const streamId = orderStreamId(orderId);
    const [placed, reserved, cancelled] = await clients.store.readStream(streamId);
    if (!placed || !reserved || !cancelled) throw new Error('the order has no events');
    // Besides the relay's in-order delivery: the last event first, each twice.
    await kinesis().send(
      new PutRecordsCommand({
        StreamName: changesStream,
        Records: [cancelled, cancelled, reserved, placed, placed, reserved].map(asChange),
      }),
    );

    const expected = await freshFold(ordersProjection, streamId);
    await eventually(async () => {
      const found = await orderViews().get({ orderId });
      expect(found).toEqual({ view: expected.view, version: 3 });
    });
    expect(expected.view).toMatchObject({ status: 'CANCELLED', customerId: customer });
    await eventually(async () => {
      const stock = await dynamoViewStore({ client: clients.client, table: clients.tables.products }).get({
        sku: product,
      });
      expect(stock?.view).toMatchObject({ sku: product, supplied: 100 });
    });
    // The figures are the balance's: the cancellation gave back what placement had reserved.
    await eventually(async () => {
      expect((await readStock(clients.store, product)).stock).toEqual({ available: 100, reserved: 0, sold: 0 });
    });
    expect(await clients.parking.parked('orders', [streamId])).toEqual(new Set());
  });

  it('parks a stream at its poison event while other streams on the shard flow, and redrive completes it', async () => {
    const product = await givenProduct();
    const customer = `poison-${Date.now()}`;
    const { orderId: poisoned } = await placeOrder(
      { customerId: customer, items: [{ sku: product, quantity: 1 }], paymentToken: 'tok_visa' },
      context(),
    );
    const streamId = orderStreamId(poisoned);
    const logFrom = (await readFile(inject('functionLogFile'), 'utf8')).length;
    // A writer newer than the projection appends an event type the projection does not know yet: version 3.
    await clients.store.append(
      [{ streamId, expectedVersion: 2, events: [{ type: 'OrderGiftWrapped', data: { orderId: poisoned } }] }],
      testMetadata(),
    );
    // The same writer goes on (the write side knows the new event; this projection does not): version 4.
    await clients.store.append(
      [
        {
          streamId,
          expectedVersion: 3,
          events: [{ type: 'OrderCancelled', data: { orderId: poisoned, previousStatus: 'PENDING' } }],
        },
      ],
      testMetadata(),
    );
    const { orderId: healthy } = await placeOrder(
      { customerId: customer, items: [{ sku: product, quantity: 1 }], paymentToken: 'tok_visa' },
      context(),
    );

    // The other stream, behind the poison on the same shard, is applied (its saga may have confirmed it already:
    // the batching window can bring both events at once)…
    await eventually(async () =>
      expect((await orderViews().get({ orderId: healthy }))?.version).toBeGreaterThanOrEqual(1),
    );
    // …while the poisoned one is parked at version 3, its view held at version 2 (its version 4 held back).
    const [parked] = await eventually(async () => {
      const list = (await clients.parking.list('orders')).filter((p) => p.streamId === streamId);
      expect(list).toHaveLength(1);
      return list;
    });
    expect(parked).toMatchObject({ version: 3, error: expect.stringContaining('OrderGiftWrapped') });
    expect((await orderViews().get({ orderId: poisoned }))?.version).toBe(2);
    // The batch succeeded, so only a metric of its own says a stream was parked: ParkedStreamsAlarm's.
    await eventually(async () => {
      const documents = (await readFile(inject('functionLogFile'), 'utf8'))
        .slice(logFrom)
        .split('\n')
        .filter((line) => line.includes('"StreamsParked"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(documents).toContainEqual(expect.objectContaining({ projection: 'orders', StreamsParked: 1 }));
    });

    // Undecodable records go to the on-failure destination after the mapping's retries; the shard moves on. Each
    // passes its projection's filter (an INSERT of one of its streams) and has no new image to decode.
    const failuresFile = join(localStateDir, 'failures', 'test.jsonl');
    const before = await readFile(failuresFile, 'utf8').catch(() => '');
    const undecodable = (streamId: string) => ({
      Data: Buffer.from(JSON.stringify({ eventName: 'INSERT', dynamodb: { Keys: { streamId: { S: streamId } } } })),
      PartitionKey: streamId,
    });
    await kinesis().send(
      new PutRecordsCommand({
        StreamName: changesStream,
        Records: [undecodable('order-undecodable'), undecodable('product-undecodable')],
      }),
    );
    await eventually(async () => {
      const added = (await readFile(failuresFile, 'utf8').catch(() => '')).slice(before.length);
      expect(added).toContain('"functionName":"ordersProjection"');
      expect(added).toContain('"functionName":"productsProjection"');
    });
    const { orderId: after } = await placeOrder(
      { customerId: customer, items: [{ sku: product, quantity: 1 }], paymentToken: 'tok_visa' },
      context(),
    );
    await eventually(async () =>
      expect((await orderViews().get({ orderId: after }))?.version).toBeGreaterThanOrEqual(1),
    );

    // The fix ships: the projection learns the new event. Redrive re-applies the stream in order, from the store.
    const GiftWrapped = z.strictObject({
      type: z.literal('OrderGiftWrapped'),
      data: z.strictObject({ orderId: z.string() }),
    });
    const fixed: Projection<OrderView, OrderEvent | z.infer<typeof GiftWrapped>> = {
      ...ordersProjection,
      events: z.union([OrderEvent, GiftWrapped]),
      evolve: (view, event) =>
        event.type === 'OrderGiftWrapped'
          ? { ...(view as OrderView), updatedAt: event.recordedAt }
          : ordersProjection.evolve(view, event as StoredEvent<OrderEvent>),
    };
    const results = await redrive(
      fixed,
      {
        targets: [{ views: orderViews(), parkedAs: 'orders' }],
        parking: clients.parking,
        readRange: readRangeOf(clients.store),
        readAll: (id) => clients.store.readStream(id),
      },
      streamId,
    );
    expect(results).toEqual([{ streamId, outcome: 'completed', applied: 2 }]);
    expect(await orderViews().get({ orderId: poisoned })).toMatchObject({ version: 4, view: { status: 'CANCELLED' } });
    expect(await clients.parking.parked('orders', [streamId])).toEqual(new Set());
  });
});

/** Either projection, as one type for a loop over every stream; each still parses its own events. */
const asAny = <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
): Projection<Record<string, unknown>, DomainEvent> =>
  projection as unknown as Projection<Record<string, unknown>, DomainEvent>;

/** Every view of a table, by key, for comparing read models before and after. */
const scanViews = async (table: string, key: string): Promise<Map<string, Record<string, unknown>>> => {
  const views = new Map<string, Record<string, unknown>>();
  for await (const page of paginateScan({ client: clients.client }, { TableName: table, ConsistentRead: true })) {
    for (const item of page.Items ?? []) views.set(String(item[key]), item);
  }
  return views;
};

/** Every order and product stream in the store, with its events. */
const streamsOfStore = async (): Promise<Map<string, StoredEvent[]>> => {
  const streams = new Map<string, StoredEvent[]>();
  for await (const page of paginateScan(
    { client: clients.client },
    { TableName: clients.tables.events, ConsistentRead: true },
  )) {
    for (const item of (page.Items ?? []) as EventItem[]) {
      if (!item.streamId.startsWith('order-') && !item.streamId.startsWith('product-')) continue;
      streams.set(item.streamId, [...(streams.get(item.streamId) ?? []), ...storedItemEvents(item)]);
    }
  }
  return streams;
};

describe('replay', () => {
  /** Streams the shipped projections cannot fold (the poison test leaves one): a rebuild must park, not drop, them. */
  const unfoldable = async (): Promise<Set<string>> => {
    const found = new Set<string>();
    for (const [streamId, events] of await streamsOfStore()) {
      const projection = streamId.startsWith('order-') ? asAny(ordersProjection) : asAny(productsProjection);
      await catchUp(projection, streamId, { view: undefined, version: 0 }, events, () => Promise.resolve([])).catch(
        () => found.add(streamId),
      );
    }
    return found;
  };
  let parkedStreams: Set<string>;
  beforeAll(async () => {
    parkedStreams = await unfoldable();
  });

  it('rebuilds from scratch to exactly the views it started from', async () => {
    // Some traffic first, so there is something to rebuild, and let the live projections settle.
    const product = await givenProduct(50);
    for (let i = 0; i < 5; i++) {
      await placeOrder(
        { customerId: `replay-${i}`, items: [{ sku: product, quantity: 1 }], paymentToken: 'tok_visa' },
        context(),
      );
    }
    // Settled: every saga has finished (no foldable order is PENDING) and every view has caught up with its stream.
    const settled = async () => {
      const orders = await scanViews(clients.tables.orders, 'orderId');
      const products = await scanViews(clients.tables.products, 'sku');
      const streams = await streamsOfStore();
      for (const [id, events] of streams) {
        if (parkedStreams.has(id)) continue;
        const view = id.startsWith('order-')
          ? orders.get(id.slice('order-'.length))
          : products.get(id.slice('product-'.length));
        expect(view?.version, id).toBe(events.length);
        if (id.startsWith('order-')) expect(view?.status, id).not.toBe('PENDING');
      }
    };
    await eventually(settled, { timeoutMs: 30_000 });
    const ordersBefore = await scanViews(clients.tables.orders, 'orderId');
    const productsBefore = await scanViews(clients.tables.products, 'sku');

    const summary = await runReplay({
      clients,
      projections: ['orders', 'products'],
      fromScratch: true,
      segments: 3,
      pageSize: 50,
    });
    expect(summary.cleared).toBe(ordersBefore.size + productsBefore.size);
    expect(summary.events).toBeGreaterThan(0);
    expect(summary.segmentsDone).toBe(3);
    // What cannot be folded is parked again, not silently dropped.
    expect(summary.failed).toBe(parkedStreams.size);
    expect(parkedStreams.size).toBeGreaterThan(0);

    // Every view of a stream the projections can fold is back exactly as it was.
    const foldable = (views: Map<string, Record<string, unknown>>, prefix: string) =>
      new Map([...views].filter(([key]) => !parkedStreams.has(`${prefix}${key}`)));
    expect(foldable(await scanViews(clients.tables.orders, 'orderId'), 'order-')).toEqual(
      foldable(ordersBefore, 'order-'),
    );
    expect(await scanViews(clients.tables.products, 'sku')).toEqual(productsBefore);
  });

  it('ends, while orders keep arriving, with every view equal to a fresh fold of its stream', async () => {
    const product = await givenProduct(10_000);
    let placing = true;
    const placed: string[] = [];
    const traffic = (async () => {
      for (let i = 0; placing; i++) {
        const { orderId } = await placeOrder(
          { customerId: `live-${i % 5}`, items: [{ sku: product, quantity: 1 }], paymentToken: 'tok_visa' },
          context(),
        );
        placed.push(orderId);
        if (i % 3 === 0) await cancelOrder({ orderId, caller: { sub: `live-${i % 5}`, isAdmin: false } }, context());
      }
    })();
    const summary = await runReplay({
      clients,
      projections: ['orders', 'products'],
      fromScratch: true,
      segments: 4,
      pageSize: 25,
    });
    placing = false;
    await traffic;
    expect(placed.length).toBeGreaterThan(0);
    expect(summary.segmentsDone).toBe(4);

    await eventually(
      async () => {
        const streams = await streamsOfStore();
        const orders = await scanViews(clients.tables.orders, 'orderId');
        const products = await scanViews(clients.tables.products, 'sku');
        for (const [streamId, events] of streams) {
          if (parkedStreams.has(streamId)) continue;
          const isOrder = streamId.startsWith('order-');
          const projection = isOrder ? asAny(ordersProjection) : asAny(productsProjection);
          const { view, version } = await catchUp(projection, streamId, { view: undefined, version: 0 }, events, () =>
            Promise.resolve([]),
          );
          const key = Object.values(projection.key(streamId))[0] ?? '';
          const stored = (isOrder ? orders : products).get(key);
          expect(stored, streamId).toEqual({ ...view, version });
        }
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });
});
