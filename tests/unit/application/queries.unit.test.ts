import { describe, expect, it, vi } from 'vitest';
import {
  type CatalogueCache,
  CATALOGUE_FRESH_MS,
  currentProduct,
  productForPricing,
  registerProduct,
  repriceProduct,
} from '../../../application/products.js';
import {
  type OrderPageQuery,
  type ReadModels,
  cancellableUntil,
  getOrder,
  getProduct,
  InvalidCursorError,
  ListingForbiddenError,
  listOrders,
  listProducts,
} from '../../../application/queries.js';
import type { EventStore } from '../../../eventstore/types.js';
import { recordingReads, testContext } from '../../support/memoryStore.js';
import { eventSchemas } from '../../../composition/schemas.js';
import { type OrderEvent, orderStreamId } from '../../../domain/order/index.js';
import { OrderNotFoundError } from '../../../domain/shared/errors.js';
import { memoryEventStore } from '../../../eventstore/memoryEventStore.js';
import { type OrderView, ordersProjection } from '../../../projections/orders.js';
import { orderPlaced, orderStockReserved } from '../../support/orderEvents.js';
import { testMetadata } from '../../support/metadata.js';
import { stored } from '../projections/givenView.js';

const orderId = '00000000-0000-4000-8000-0000000000aa';
const customer = { sub: 'customer-1', isAdmin: false };

/** MUG-1 registered at 100 EUR cents: version 1 of its stream. */
const registeredMug = async () => {
  const store = memoryEventStore({ schemas: eventSchemas });
  await registerProduct(
    { sku: 'MUG-1', name: 'Mug', price: { amount: 100, currency: 'EUR' }, stock: 1 },
    testContext(store),
  );
  return store;
};

/** A read model that has seen none of the orders (the projection behind, as in a burst), or the one given. */
const readModels = (view?: Awaited<ReturnType<ReadModels['order']>>, live?: number): ReadModels => ({
  order: async () => view,
  ordersOf: async () => ({ orders: [] }),
  product: async () => undefined,
  productsPage: async () => ({ products: [] }),
  liveVersion: async () => live,
});

const placed = async () => {
  const store = memoryEventStore({ schemas: eventSchemas });
  await store.append(
    [
      {
        streamId: orderStreamId(orderId),
        expectedVersion: 0,
        events: [orderPlaced(orderId), orderStockReserved(orderId)],
      },
    ],
    testMetadata(),
  );
  return store;
};

/** The order placed, then confirmed: version 3 in its stream. */
const confirmed = async () => {
  const store = await placed();
  const events: OrderEvent[] = [{ type: 'OrderConfirmed', data: { orderId } }];
  await store.append([{ streamId: orderStreamId(orderId), expectedVersion: 2, events }], testMetadata());
  return store;
};

/** The confirmed order's view as the read model (version 2) stores it, at its stream's version 3. */
const confirmedViewOf = async (store: EventStore) => {
  const view = (await store.readStream(orderStreamId(orderId))).reduce<
    ReturnType<typeof ordersProjection.evolve> | undefined
  >((folded, event) => ordersProjection.evolve(folded, event as never), undefined);
  if (!view) throw new Error('no view folded');
  return { view, version: 3, readModel: 2 };
};

describe('GET /orders/{id} (getOrder)', () => {
  it('answers an order the read model has not seen yet from its stream: what the client just placed, it reads', async () => {
    const order = await getOrder({ orderId, caller: customer }, readModels(), await placed());
    expect(order).toMatchObject({ version: 2, view: { orderId, customerId: 'customer-1', status: 'PENDING' } });
    expect(order.readModel).toBeUndefined();
  });

  it('names a folded answer by the live read model’s version, the ETag its view will have', async () => {
    const order = await getOrder({ orderId, caller: customer }, readModels(undefined, 2), await placed());
    expect(order).toMatchObject({ version: 2, readModel: 2 });
  });

  it('answers the read model’s view once it shows the order settled', async () => {
    const store = await confirmed();
    const events = await store.readStream(orderStreamId(orderId));
    const settled = events.reduce<ReturnType<typeof ordersProjection.evolve> | undefined>(
      (view, event) => ordersProjection.evolve(view, event as never),
      undefined,
    );
    const view = { view: settled as NonNullable<typeof settled>, version: 3, readModel: 2 };
    expect(await getOrder({ orderId, caller: customer }, readModels(view), store)).toBe(view);
  });

  it('folds a view still PENDING from the stream, so a poll never goes back from settled to PENDING', async () => {
    const store = await confirmed();
    // The lagging read model has only the placement.
    const [first] = stored(orderStreamId(orderId), [orderPlaced(orderId)]);
    const behind = { view: ordersProjection.evolve(undefined, first as never), version: 1, readModel: 2 };
    expect(await getOrder({ orderId, caller: customer }, readModels(behind), store)).toMatchObject({
      version: 3,
      view: { status: 'CONFIRMED' },
      // The read model's version, as the view at version 3 will carry it: the same ETag for the same answer.
      readModel: 2,
    });
  });

  it('folds a CONFIRMED view whose stream has gone on, so a poll never goes back from CANCELLED to CONFIRMED', async () => {
    const store = await confirmed();
    const lagging = await confirmedViewOf(store);
    // Nothing after the view: the view answers as it is.
    expect(await getOrder({ orderId, caller: customer }, readModels(lagging), store)).toBe(lagging);
    // Cancelled since, the view not showing it yet: the stream answers, at the cancellation's version.
    const cancel: OrderEvent[] = [{ type: 'OrderCancelled', data: { orderId, previousStatus: 'CONFIRMED' } }];
    await store.append([{ streamId: orderStreamId(orderId), expectedVersion: 3, events: cancel }], testMetadata());
    expect(await getOrder({ orderId, caller: customer }, readModels(lagging), store)).toMatchObject({
      version: 4,
      view: { status: 'CANCELLED' },
      readModel: 2,
    });
  });

  it('answers the view of an order whose stream cannot be read past it, where its projection parked it; a throttle fails', async () => {
    const store = await confirmed();
    const parkedAt = await confirmedViewOf(store);
    // An upcaster throws on the event after the view (its projection parked the stream there).
    const unreadable: EventStore = {
      ...store,
      readStream: async () => {
        throw new TypeError('the upcaster cannot read this OrderCancelled');
      },
    };
    expect(await getOrder({ orderId, caller: customer }, readModels(parkedAt), unreadable)).toBe(parkedAt);
    // No view to answer instead, or a read that may pass: the failure is the answer.
    await expect(getOrder({ orderId, caller: customer }, readModels(), unreadable)).rejects.toThrow(TypeError);
    const throttled: EventStore = {
      ...store,
      readStream: async () => {
        throw Object.assign(new Error('Rate exceeded'), { $retryable: { throttling: true } });
      },
    };
    await expect(getOrder({ orderId, caller: customer }, readModels(parkedAt), throttled)).rejects.toThrow('Rate');
  });

  it('is not found for another customer, either way, nor for an order never placed', async () => {
    const stranger = { sub: 'customer-2', isAdmin: false };
    await expect(getOrder({ orderId, caller: stranger }, readModels(), await placed())).rejects.toThrow(
      OrderNotFoundError,
    );
    const never = memoryEventStore({ schemas: eventSchemas });
    await expect(getOrder({ orderId, caller: customer }, readModels(), never)).rejects.toThrow(OrderNotFoundError);
    // Someone else's order, found in the read model, costs the stream read a missing one costs: the time taken does not
    // tell them apart. One whose stream cannot be read is as missing.
    const { store: recorded, reads } = recordingReads(await placed());
    const theirs = await confirmedViewOf(recorded);
    reads.stream.length = 0;
    await expect(getOrder({ orderId, caller: stranger }, readModels(theirs), recorded)).rejects.toThrow(
      OrderNotFoundError,
    );
    const { store: recordedNever, reads: neverReads } = recordingReads(never);
    await expect(getOrder({ orderId, caller: stranger }, readModels(), recordedNever)).rejects.toThrow(
      OrderNotFoundError,
    );
    expect(reads.stream).toEqual(neverReads.stream);
    expect(reads.stream).toHaveLength(1);
    const unreadable: EventStore = {
      ...recorded,
      readStream: async () => {
        throw new TypeError('the upcaster cannot read this OrderPlaced');
      },
    };
    await expect(getOrder({ orderId, caller: stranger }, readModels(theirs), unreadable)).rejects.toThrow(
      OrderNotFoundError,
    );
    // An admin reads anyone's.
    const admin = { sub: 'ops', isAdmin: true };
    expect((await getOrder({ orderId, caller: admin }, readModels(), await placed())).view.status).toBe('PENDING');
  });
});

describe('GET /products/{sku} (getProduct)', () => {
  const registered = async () => {
    const store = memoryEventStore({ schemas: eventSchemas });
    const price = { amount: 1250, currency: 'EUR' };
    await registerProduct({ sku: 'MUG-1', name: 'Mug', price, stock: 7 }, testContext(store));
    return store;
  };

  it('answers a product the read model has not seen from its registration, its stock read consistently', async () => {
    const { store: recorded, reads } = recordingReads(await registered());
    const answer = await getProduct('MUG-1', readModels(undefined, 3), recorded);
    expect(answer).toEqual({
      product: {
        sku: 'MUG-1',
        name: 'Mug',
        price: { amount: 1250, currency: 'EUR' },
        stock: { available: 7, reserved: 0, sold: 0 },
        version: 1,
        discontinued: false,
      },
      // The live read model's version, as the view will carry it: one ETag for one representation.
      readModel: 3,
    });
    // Registered a moment ago: the balance written with it is read again, strongly consistently.
    expect(reads.balance).toEqual([false, true]);
  });

  it('is not found for a SKU never registered', async () => {
    await expect(getProduct('NONE-1', readModels(), await registered())).rejects.toThrow(/NONE-1/);
  });
});

describe('a product as it stands (currentProduct)', () => {
  it('is read eventually consistently, and strongly only when that found nothing', async () => {
    const { store: recorded, reads } = recordingReads(await registeredMug());
    expect((await currentProduct(recorded, 'MUG-1'))?.product.name).toBe('Mug');
    expect(reads.stream).toEqual([false]);
    // A replica that has not seen the registration yet: the strong read finds it.
    const stale: EventStore = {
      ...recorded,
      readStream: (streamId, options) =>
        options?.consistent === false ? Promise.resolve([]) : recorded.readStream(streamId, options),
    };
    reads.stream.length = 0;
    expect((await currentProduct(stale, 'MUG-1'))?.product.name).toBe('Mug');
    expect(reads.stream).toEqual([true]);
    expect(await currentProduct(recorded, 'NONE-1')).toBeUndefined();
  });

  it('has the latest price it was given, and its stream’s version', async () => {
    const store = await registeredMug();
    await repriceProduct({ sku: 'MUG-1', price: { amount: 250, currency: 'EUR' } }, testContext(store));
    expect(await currentProduct(store, 'MUG-1')).toMatchObject({
      product: { name: 'Mug', unitPrice: { amount: 250, currency: 'EUR' } },
      version: 2,
    });
  });
});

describe('a product as placement prices it (productForPricing)', () => {
  const price = async (store: EventStore, cache: CatalogueCache, at: number) =>
    (await productForPricing(store, 'MUG-1', cache, at))?.unitPrice.amount;

  it('is read once a second at most per instance, then only its events after the version it had', async () => {
    const store = await registeredMug();
    const { store: recorded, reads } = recordingReads(store);
    const readStream = vi.spyOn(recorded, 'readStream');
    const cache: CatalogueCache = new Map();
    expect(await price(recorded, cache, 10_000)).toBe(100);
    expect(reads.stream).toEqual([false]);

    await repriceProduct({ sku: 'MUG-1', price: { amount: 250, currency: 'EUR' } }, testContext(store));
    // Within the second: the price read before, and no read.
    expect(await price(recorded, cache, 10_000 + CATALOGUE_FRESH_MS - 1)).toBe(100);
    expect(reads.stream).toEqual([false]);
    // Past it: the events after version 1, eventually consistently, and the new price.
    expect(await price(recorded, cache, 10_000 + CATALOGUE_FRESH_MS)).toBe(250);
    expect(reads.stream).toEqual([false, false]);
    expect(readStream).toHaveBeenLastCalledWith('product-MUG-1', {
      afterVersion: 1,
      afterAnAppend: true,
      consistent: false,
    });
    // Fresh again from the read that found the new price, for a second from it; then the next read is after version 2.
    expect(await price(recorded, cache, 10_000 + 2 * CATALOGUE_FRESH_MS - 1)).toBe(250);
    expect(reads.stream).toEqual([false, false]);
    expect(await price(recorded, cache, 10_000 + 2 * CATALOGUE_FRESH_MS)).toBe(250);
    expect(readStream).toHaveBeenLastCalledWith('product-MUG-1', {
      afterVersion: 2,
      afterAnAppend: true,
      consistent: false,
    });
  });

  it('keeps the products read latest, dropping the one read longest ago', async () => {
    const store = memoryEventStore({ schemas: eventSchemas });
    for (const sku of ['A-1', 'B-1', 'C-1']) {
      await registerProduct({ sku, name: sku, price: { amount: 1, currency: 'EUR' }, stock: 1 }, testContext(store));
    }
    const cache: CatalogueCache = new Map();
    const read = (sku: string, at: number) => productForPricing(store, sku, cache, at, 2);
    await read('A-1', 0);
    await read('B-1', 0);
    // A-1 read again (stale): the latest read now, so B-1 is the oldest when C-1 comes.
    await read('A-1', CATALOGUE_FRESH_MS);
    await read('C-1', CATALOGUE_FRESH_MS);
    expect([...cache.keys()]).toEqual(['A-1', 'C-1']);
  });

  it('reads every time without a cache, and finds nothing for a SKU never registered', async () => {
    const { store, reads } = recordingReads(await registeredMug());
    expect(await productForPricing(store, 'MUG-1', undefined, 0)).toMatchObject({ unitPrice: { amount: 100 } });
    expect(await productForPricing(store, 'MUG-1', undefined, 0)).toMatchObject({ unitPrice: { amount: 100 } });
    expect(reads.stream).toEqual([false, false]);
    const cache: CatalogueCache = new Map();
    expect(await productForPricing(store, 'NONE-1', cache, 0)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('GET /products (listProducts)', () => {
  const view = (sku: string) => ({
    sku,
    name: sku,
    price: { amount: 100, currency: 'EUR' },
    supplied: 5,
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  /** Read models whose products table answers `skus`, read from read model `version`, with more after them. */
  const listing = (skus: string[], version: number): ReadModels => ({
    ...readModels(),
    productsPage: async () => ({ products: skus.map(view), next: { sku: skus.at(-1) }, readModel: version }),
    // What a pointer read before the page would have said: a switch came between the two.
    liveVersion: async () => version - 1,
  });

  it('gives each product its balance’s figures, and a cursor naming the version its page was read from', async () => {
    const store = memoryEventStore({ schemas: eventSchemas });
    await registerProduct(
      { sku: 'MUG-1', name: 'Mug', price: { amount: 100, currency: 'EUR' }, stock: 7 },
      testContext(store),
    );
    const page = await listProducts({ limit: 2 }, listing(['MUG-1', 'CAP-1'], 3), store);
    expect(page.products).toEqual([
      {
        sku: 'MUG-1',
        name: 'MUG-1',
        price: { amount: 100, currency: 'EUR' },
        stock: { available: 7, reserved: 0, sold: 0 },
        version: 1,
        discontinued: false,
      },
      // No balance (nothing ever moved its stock): zero figures, version 0, as a single product read gives them.
      {
        sku: 'CAP-1',
        name: 'CAP-1',
        price: { amount: 100, currency: 'EUR' },
        stock: { available: 0, reserved: 0, sold: 0 },
        version: 0,
        discontinued: false,
      },
    ]);
    expect(JSON.parse(Buffer.from(page.nextCursor ?? '', 'base64url').toString())).toEqual({
      sku: 'CAP-1',
      v: 3,
      by: 'sku',
    });
    expect(page.readModel).toBe(3);

    // Its cursor holds for a page of the same version, and not for one read from the next, even if the pointer read
    // first still named its own.
    expect(
      (await listProducts({ limit: 2, cursor: page.nextCursor }, listing(['TEE-1'], 3), store)).products,
    ).toHaveLength(1);
    const switched = listProducts({ limit: 2, cursor: page.nextCursor }, listing(['TEE-1'], 4), store);
    await expect(switched).rejects.toThrow(InvalidCursorError);
    await expect(switched).rejects.toThrow('start again');
  });

  it('refuses a cursor of the unsorted listing that came before, which names no order: it would skip products', async () => {
    const store = memoryEventStore({ schemas: eventSchemas });
    const unsorted = Buffer.from(JSON.stringify({ sku: 'CAP-1', v: 3 })).toString('base64url');
    const sorted = Buffer.from(JSON.stringify({ sku: 'CAP-1', v: 3, by: 'sku' })).toString('base64url');
    await expect(listProducts({ limit: 2, cursor: unsorted }, listing(['TEE-1'], 3), store)).rejects.toThrow(
      InvalidCursorError,
    );
    expect((await listProducts({ limit: 2, cursor: sorted }, listing(['TEE-1'], 3), store)).products).toHaveLength(1);
  });
});

describe('GET /orders (listOrders)', () => {
  it('lists the caller’s own orders, or for an admin any customer’s; a customer naming another is refused', async () => {
    const asked: string[] = [];
    const models: ReadModels = {
      ...readModels(),
      ordersOf: async ({ customerId }) => {
        asked.push(customerId);
        return { orders: [] };
      },
    };
    const customer = { sub: 'customer-1', isAdmin: false };
    const admin = { sub: 'ops', isAdmin: true };
    await listOrders({ caller: customer, limit: 5 }, models);
    await listOrders({ caller: customer, limit: 5, customerId: 'customer-1' }, models);
    await listOrders({ caller: admin, limit: 5, customerId: 'customer-2' }, models);
    expect(asked).toEqual(['customer-1', 'customer-1', 'customer-2']);
    await expect(listOrders({ caller: customer, limit: 5, customerId: 'customer-2' }, models)).rejects.toThrow(
      ListingForbiddenError,
    );
    expect(asked).toHaveLength(3);
  });
});

describe('GET /orders?placedFrom=&placedBefore= (listOrders)', () => {
  const caller = { sub: 'customer-1', isAdmin: false };
  const asking = () => {
    const asked: OrderPageQuery[] = [];
    const models: ReadModels = {
      ...readModels(),
      ordersOf: async (query) => {
        asked.push(query);
        return { orders: [] };
      },
    };
    return { asked, models };
  };

  it('asks for placedAt from placedFrom to the millisecond before placedBefore, as views write it', async () => {
    const { asked, models } = asking();
    await listOrders(
      {
        caller,
        limit: 5,
        placedFrom: new Date('2026-12-01T01:00:00+01:00'),
        placedBefore: new Date('2026-12-02T00:00:00Z'),
      },
      models,
    );
    await listOrders({ caller, limit: 5, placedBefore: new Date('2026-12-02T00:00:00Z') }, models);
    await listOrders({ caller, limit: 5 }, models);
    expect(asked.map((query) => query.placed)).toEqual([
      { from: '2026-12-01T00:00:00.000Z', to: '2026-12-01T23:59:59.999Z' },
      { to: '2026-12-01T23:59:59.999Z' },
      undefined,
    ]);
  });

  it('holds a date past the years a placedAt names to the last it names, which no order has', async () => {
    const { asked, models } = asking();
    await listOrders(
      { caller, limit: 5, placedFrom: new Date(Date.UTC(10_000, 0, 1)), placedBefore: new Date(Date.UTC(10_001, 0)) },
      models,
    );
    expect(asked[0]?.placed).toEqual({ from: '9999-12-31T23:59:59.999Z', to: '9999-12-31T23:59:59.999Z' });
  });

  it('reads nothing for a range with nothing in it', async () => {
    const { asked, models } = asking();
    const at = new Date('2026-12-01T00:00:00Z');
    expect(await listOrders({ caller, limit: 5, placedFrom: at, placedBefore: at }, models)).toEqual({ orders: [] });
    expect(asked).toEqual([]);
  });
});

describe('until when a customer may cancel an order (ADR 0029)', () => {
  const view: OrderView = {
    orderId: 'o-1',
    customerId: 'customer-1',
    status: 'PENDING',
    lines: [{ sku: 'MUG-1', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }],
    total: { amount: 100, currency: 'EUR' },
    placedAt: '2026-12-03T09:00:00.000Z',
    updatedAt: '2026-12-03T09:00:00.000Z',
  };

  it('is the confirmation plus the window for a confirmed order, and nothing for any other or without a window', () => {
    const confirmed = { ...view, status: 'CONFIRMED' as const, confirmedAt: '2026-12-03T10:00:00.000Z' };
    expect(cancellableUntil(confirmed, 24 * 3600_000)).toEqual({ cancellableUntil: '2026-12-04T10:00:00.000Z' });
    expect(cancellableUntil(confirmed, undefined)).toEqual({});
    expect(cancellableUntil(view, 24 * 3600_000)).toEqual({});
  });
});
