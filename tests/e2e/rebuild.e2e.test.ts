import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { OrderPage, ProductPage } from '../../api/responses.js';
import { type EventItem, storedItemEvents } from '../../eventstore/eventItems.js';
import type { StoredEvent } from '../../eventstore/types.js';
import { dropReadModelVersion, rollbackReadModel, runRebuild } from '../../projections/replay/rebuildJob.js';
import { stageClients, type StageClients } from '../../ops/stage.js';
import { ordersProjection } from '../../projections/orders.js';
import { catchUp } from '../../projections/projection.js';
import type { Slot } from '../../projections/readModelVersions.js';
import { eventually as until } from '../support/eventually.js';
import { eventually, givenOrder, givenProduct, uniqueCustomer, useTestApi } from './http.js';

const { call } = useTestApi();
let clients: StageClients;

beforeAll(async () => {
  clients = await stageClients('test', { dynamoEndpoint: inject('dynamoEndpoint') });
});

const scanAll = async (table: string): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: clients.client }, { TableName: table, ConsistentRead: true })) {
    items.push(...(page.Items ?? []));
  }
  return items;
};

/**
 * Every order stream the projection can fold, against the view in one slot's table: they must be equal, version
 * included. Streams other tests left unfoldable on purpose (a poison event) are left out, as the rebuild parks them.
 */
const expectSlotEqualsFreshFold = async (slot: Slot): Promise<number> => {
  const streams = new Map<string, StoredEvent[]>();
  for (const item of (await scanAll(clients.tables.events)) as EventItem[]) {
    if (!item.streamId.startsWith(ordersProjection.streamPrefix)) continue;
    streams.set(item.streamId, [...(streams.get(item.streamId) ?? []), ...storedItemEvents(item)]);
  }
  const views = new Map((await scanAll(clients.slots.orders[slot])).map((item) => [String(item.orderId), item]));
  let compared = 0;
  for (const [streamId, events] of streams) {
    events.sort((a, b) => a.version - b.version);
    const fresh = await catchUp(ordersProjection, streamId, { view: undefined, version: 0 }, events, () =>
      Promise.resolve([]),
    ).catch(() => undefined);
    if (!fresh?.view) continue;
    expect(views.get(fresh.view.orderId), `${streamId} in ${slot}`).toEqual({ ...fresh.view, version: fresh.version });
    compared++;
  }
  return compared;
};

describe('a blue-green rebuild of the orders read model while orders are read and placed', () => {
  it('serves every existing order throughout, switches to a version equal to a fresh fold, and rolls back', async () => {
    const sku = await givenProduct(call, { stock: 10_000 });
    const customers = [uniqueCustomer(), uniqueCustomer(), uniqueCustomer()];
    const existing: { orderId: string; customer: string }[] = [];
    for (let i = 0; i < 24; i++) {
      const customer = customers[i % customers.length] ?? '';
      existing.push({ orderId: await givenOrder(call, customer, sku), customer });
    }
    // Before: every order in the read model, settled by its saga; the versions readers see now are the floor.
    const before = new Map<string, number>();
    for (const { orderId, customer } of existing) {
      const answer = await eventually(
        () => call('GET', `/orders/${orderId}`, { as: customer }),
        (a) => {
          expect(a.status, a.text).toBe(200);
          expect(a.json.status).not.toBe('PENDING');
        },
        { timeoutMs: 30_000 },
      );
      before.set(orderId, Number(answer.json.version));
    }
    // What a client holds before the rebuild: one settled order's ETag, and the ETag of a customer's list.
    const [first] = existing;
    if (!first) throw new Error('no orders placed');
    const tagOf = async (path: string, as: string) => {
      const answer = await call('GET', path, { as });
      expect(answer.status, answer.text).toBe(200);
      return answer.headers.get('etag') ?? '';
    };
    const held = {
      order: await tagOf(`/orders/${first.orderId}`, first.customer),
      list: await tagOf('/orders?limit=100', first.customer),
    };
    const pointerBefore = await clients.pointers.get('orders');
    expect(pointerBefore.previous).toBeUndefined();
    expect(pointerBefore.building).toBeUndefined();

    // Readers and buyers keep going for the whole rebuild, switch included.
    let running = true;
    const reads = { orders: 0, lists: 0 };
    const placed: { orderId: string; customer: string }[] = [];
    const readers = (async () => {
      while (running) {
        for (const { orderId, customer } of existing) {
          const answer = await call('GET', `/orders/${orderId}`, { as: customer });
          expect(answer.status, `${orderId}: ${answer.text}`).toBe(200);
          expect(Number(answer.json.version), orderId).toBeGreaterThanOrEqual(before.get(orderId) ?? Infinity);
          reads.orders++;
        }
        for (const customer of customers) {
          const answer = await call('GET', '/orders?limit=100', { as: customer });
          expect(answer.status, answer.text).toBe(200);
          const listed = new Set(OrderPage.parse(answer.json).orders.map((o) => o.orderId));
          for (const order of existing.filter((o) => o.customer === customer)) {
            expect(listed.has(order.orderId), `${order.orderId} listed`).toBe(true);
          }
          reads.lists++;
        }
        // A breath between rounds: two cores run the stack, the rebuild and these readers.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const buyers = (async () => {
      for (let i = 0; running; i++) {
        const customer = customers[i % customers.length] ?? '';
        placed.push({ orderId: await givenOrder(call, customer, sku), customer });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const phases: string[] = [];
    let summary: Awaited<ReturnType<typeof runRebuild>>;
    try {
      summary = await runRebuild({
        clients,
        projection: 'orders',
        segments: 3,
        pageSize: 40,
        sample: 100,
        onProgress: ({ phase }) => {
          if (phases.at(-1) !== phase) phases.push(phase);
        },
      });
      // A moment on the new version, readers and buyers still going.
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      running = false;
      await Promise.all([readers, buyers]);
    }

    expect(phases).toEqual(['scan', 'catchup', 'ready', 'switched']);
    expect(summary.switched).toBe(true);
    expect(summary.parity.mismatches).toEqual([]);
    expect(summary.parity.sampled).toBeGreaterThan(0);
    // Streams appended to while the bulk writes ran were noted by the live projection and caught up.
    expect(summary.caughtUp).toBeGreaterThan(0);
    expect(summary.pointer.live).toEqual({ slot: 'green', version: pointerBefore.lastVersion + 1 });
    expect(summary.pointer.previous).toEqual(pointerBefore.live);
    // Traffic overlapped the whole rebuild.
    expect(placed.length).toBeGreaterThan(5);
    expect(reads.orders).toBeGreaterThan(existing.length);
    expect(reads.lists).toBeGreaterThan(0);

    // After the switch: readers are on green, and every order, those placed during the rebuild included, is served.
    for (const { orderId, customer } of placed) {
      await eventually(
        () => call('GET', `/orders/${orderId}`, { as: customer }),
        (a) => expect(a.status, a.text).toBe(200),
        { timeoutMs: 15_000 },
      );
    }
    // Another version of the read model answers now: the same order, at the same stream version, has another ETag,
    // so a client's If-None-Match gets the view as the new version has it, not a 304. Its list's ETag moves too.
    const [orderOnGreen, listOnGreen] = await Promise.all([
      tagOf(`/orders/${first.orderId}`, first.customer),
      tagOf('/orders?limit=100', first.customer),
    ]);
    expect(orderOnGreen).not.toBe(held.order);
    expect(listOnGreen).not.toBe(held.list);
    const revalidated = await call('GET', `/orders/${first.orderId}`, {
      as: first.customer,
      headers: { 'if-none-match': held.order },
    });
    expect(revalidated.status).toBe(200);
    expect(Number(revalidated.json.version)).toBe(before.get(first.orderId));

    // The new version equals a fresh fold of every stream; the old one, still written, too.
    await until(async () => expect(await expectSlotEqualsFreshFold('green')).toBeGreaterThanOrEqual(existing.length), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    await until(async () => expect(await expectSlotEqualsFreshFold('blue')).toBeGreaterThanOrEqual(existing.length), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });

    // Rollback: the old version is live again, with the orders placed since it was replaced.
    const rolledBack = await rollbackReadModel(clients, 'orders');
    expect(rolledBack.live).toEqual(pointerBefore.live);
    expect(rolledBack.previous?.slot).toBe('green');
    const after = await givenOrder(call, customers[0] ?? '', sku);
    for (const { orderId, customer } of [...existing, ...placed, { orderId: after, customer: customers[0] ?? '' }]) {
      await eventually(
        () => call('GET', `/orders/${orderId}`, { as: customer }),
        (a) => expect(a.status, a.text).toBe(200),
        { timeoutMs: 15_000 },
      );
    }
    await until(async () => expect(await expectSlotEqualsFreshFold('blue')).toBeGreaterThan(existing.length), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });

    // Finalize drops the version rolled back from; the stack is left as it was found.
    const finalized = await dropReadModelVersion(clients, 'orders', 'finalize');
    expect(finalized.slot).toBe('green');
    expect(finalized.deleted).toBeGreaterThan(existing.length);
    expect(finalized.pointer.previous).toBeUndefined();
    expect(await scanAll(clients.slots.orders.green)).toEqual([]);
    const answer = await call('GET', `/orders/${after}`, { as: customers[0] ?? '' });
    expect(answer.status, answer.text).toBe(200);
  });
});

describe('the products listing across a blue-green switch of the products read model', () => {
  it('refuses a cursor of the version it replaced (start again), lists every product on the new one, and moves its ETags', async () => {
    const skus = [await givenProduct(call), await givenProduct(call), await givenProduct(call)];
    const customer = uniqueCustomer();
    /** Every product the listing holds now, `limit` 2 at a time. */
    const walk = async () => {
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const answer = await call('GET', `/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { as: customer });
        expect(answer.status, answer.text).toBe(200);
        const page = ProductPage.parse(answer.json);
        listed.push(...page.products.map((p) => p.sku));
        cursor = page.nextCursor;
      } while (cursor);
      return listed;
    };
    await eventually(
      walk,
      (listed) => {
        expect(listed).toEqual(expect.arrayContaining(skus));
        expect(listed).toEqual([...listed].sort());
      },
      { timeoutMs: 15_000 },
    );
    const first = await call('GET', '/products?limit=1', { as: customer });
    expect(first.status, first.text).toBe(200);
    const held = { cursor: ProductPage.parse(first.json).nextCursor ?? '', etag: first.headers.get('etag') ?? '' };
    expect(held.cursor).not.toBe('');

    const pointerBefore = await clients.pointers.get('products');
    const summary = await runRebuild({ clients, projection: 'products', segments: 1, sample: 50 });
    expect(summary.switched).toBe(true);
    expect(summary.pointer.live.version).toBe(pointerBefore.lastVersion + 1);
    try {
      // Once readers have the new pointer: the held cursor names the version replaced.
      const refused = await eventually(
        () => call('GET', `/products?limit=1&cursor=${held.cursor}`, { as: customer }),
        (a) => expect(a.status, a.text).toBe(422),
        { timeoutMs: 15_000 },
      );
      expect(refused.json).toMatchObject({ type: 'urn:orderflow:problem:invalid-cursor' });
      expect(String(refused.json.detail)).toContain('start again');
      // The rebuilt table's views carry the listing's key, as the live projection's do: all listed, in SKU order.
      const listed = await walk();
      expect(listed).toEqual(expect.arrayContaining(skus));
      expect(listed).toEqual([...listed].sort());
      expect(new Set(listed).size).toBe(listed.length);
      const again = await call('GET', '/products?limit=1', { as: customer, headers: { 'if-none-match': held.etag } });
      expect(again.status).toBe(200);
    } finally {
      // The stack as it was found: the old version live again, the rebuilt one dropped.
      await rollbackReadModel(clients, 'products');
      await dropReadModelVersion(clients, 'products', 'finalize');
    }
  });
});
