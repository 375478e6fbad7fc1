import { describe, expect, it, vi } from 'vitest';
import { orderAggregate } from '../../../application/aggregates.js';
import { UnknownSkuError, UnrecordableEventError } from '../../../application/errors.js';
import { decision, handleCommands } from '../../../application/handleCommand.js';
import { cancelOrder, placeOrder, STOCK_HINTS_KEPT } from '../../../application/orders.js';
import { confirmOrder } from '../../../application/saga.js';
import {
  type CatalogueCache,
  discontinueProduct,
  readStock,
  registerProduct,
  renameProduct,
  repriceProduct,
  restockProduct,
  writeOffStock,
} from '../../../application/products.js';
import { productStreamId } from '../../../domain/inventory/index.js';
import { RESTOCKS_REMEMBERED } from '../../../domain/inventory/state.js';
import { STOCK_LEVEL_MAX } from '../../../domain/shared/limits.js';
import { type OrderLine, order as orders, orderStreamId } from '../../../domain/order/index.js';
import {
  InvalidOrderTransitionError,
  OrderAlreadyPlacedError,
  OrderNotFoundError,
  ProductAlreadyRegisteredError,
  ProductDiscontinuedError,
  ProductNotFoundError,
} from '../../../domain/shared/errors.js';
import type { EventStore } from '../../../eventstore/types.js';
import { givenShop, withWriteBetween } from '../../support/shop.js';
import { recordingReads } from '../../support/memoryStore.js';

/**
 * The commands behind the HTTP API (application/orders.ts, products.ts) and handleCommands across several streams,
 * on the in-memory event store: given a shop, when a command runs, then these events and this stock.
 */
const order = (items: Record<string, number>, idempotencyKey?: string) => ({
  customerId: 'customer-1',
  items: Object.entries(items).map(([sku, quantity]) => ({ sku, quantity })),
  paymentToken: 'tok_visa',
  ...(idempotencyKey ? { idempotencyKey } : {}),
});

describe('placing an order at a product’s current price (ADR 0022)', () => {
  it('reads a product once for the orders a warm function places within a second, then its new price', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const catalogue: CatalogueCache = new Map();
    const { store, reads } = recordingReads(shop.store);
    const at = (ms: number) => ({ ...shop.context, store, catalogue, now: new Date(Date.UTC(2026, 11, 1, 12) + ms) });
    const totalOf = async (orderId: string) => (await shop.store.readStream(orderStreamId(orderId)))[0]?.data.total;

    const first = await placeOrder(order({ 'MUG-1': 1 }), at(0));
    const readsAfterFirst = reads.stream.length;
    await repriceProduct({ sku: 'MUG-1', price: { amount: 800, currency: 'EUR' } }, shop.context);
    const second = await placeOrder(order({ 'MUG-1': 1 }), at(999));
    // The product was not read again: the second order has the price the first read.
    expect(reads.stream.length - readsAfterFirst).toBe(0);
    expect(await totalOf(first.orderId)).toEqual({ amount: 1000, currency: 'EUR' });
    expect(await totalOf(second.orderId)).toEqual({ amount: 1000, currency: 'EUR' });
    const third = await placeOrder(order({ 'MUG-1': 1 }), at(1000));
    expect(await totalOf(third.orderId)).toEqual({ amount: 800, currency: 'EUR' });
  });

  it('names each line as the product was named when placed: a new name is for the orders placed after it', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const catalogue: CatalogueCache = new Map();
    const at = (ms: number) => ({ ...shop.context, catalogue, now: new Date(Date.UTC(2026, 11, 1, 12) + ms) });
    const namesOf = async (orderId: string) => {
      const [placed] = await shop.store.readStream(orderStreamId(orderId));
      return (placed?.data as { lines: OrderLine[] }).lines.map((line) => line.name);
    };

    const first = await placeOrder(order({ 'MUG-1': 1 }, 'checkout-1'), at(0));
    await renameProduct({ sku: 'MUG-1', name: 'Cobalt mug' }, shop.context);
    const second = await placeOrder(order({ 'MUG-1': 1 }), at(1000));
    expect(await namesOf(first.orderId)).toEqual(['MUG-1']);
    expect(await namesOf(second.orderId)).toEqual(['Cobalt mug']);
    // A keyed retry after the rename is still the first order, with the name it was placed under.
    expect(await placeOrder(order({ 'MUG-1': 1 }, 'checkout-1'), at(2000))).toEqual(first);
    expect(await namesOf(first.orderId)).toEqual(['MUG-1']);
  });

  it('moves no stock for a new price: the balance and its version stay', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const before = await readStock(shop.store, 'MUG-1', { consistent: true });
    await repriceProduct({ sku: 'MUG-1', price: { amount: 800, currency: 'EUR' } }, shop.context);
    expect(await readStock(shop.store, 'MUG-1', { consistent: true })).toEqual(before);
  });
});

describe('placing an order', () => {
  it('prices each line at its product’s registered price, totals it, and reserves its units in the same write', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    await registerProduct(
      { sku: 'TEA-1', name: 'Tea', price: { amount: 450, currency: 'EUR' }, stock: 3 },
      shop.context,
    );

    const { orderId, status } = await placeOrder(order({ 'MUG-1': 2, 'TEA-1': 3 }), shop.context);

    expect(status).toBe('PENDING');
    expect(await shop.store.readStream(orderStreamId(orderId))).toMatchObject([
      {
        type: 'OrderPlaced',
        version: 1,
        data: {
          orderId,
          customerId: 'customer-1',
          lines: [
            { sku: 'MUG-1', name: 'MUG-1', quantity: 2, unitPrice: { amount: 1000, currency: 'EUR' } },
            { sku: 'TEA-1', name: 'Tea', quantity: 3, unitPrice: { amount: 450, currency: 'EUR' } },
          ],
          total: { amount: 3350, currency: 'EUR' },
        },
      },
      {
        type: 'StockReserved',
        version: 2,
        data: {
          orderId,
          lines: [
            { sku: 'MUG-1', quantity: 2 },
            { sku: 'TEA-1', quantity: 3 },
          ],
        },
      },
    ]);
    // Placement settles the stock (ADR 0014): every line's units are held, the last of the tea included.
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 2, sold: 0 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 0, reserved: 3, sold: 0 });
  });

  it('rejects the whole order OUT_OF_STOCK when one line’s SKU is short, holding nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 2 });

    const answer = await placeOrder(order({ 'MUG-1': 2, 'TEA-1': 3 }), shop.context);
    const { orderId } = answer;

    // The answer says which line was short, as the event records it: the tea, not the mugs.
    // And what the order was: its lines as priced and named here, and its total.
    expect(answer).toEqual({
      orderId,
      status: 'REJECTED',
      rejectionReason: 'OUT_OF_STOCK',
      outOfStock: ['TEA-1'],
      lines: [
        { sku: 'MUG-1', name: 'MUG-1', quantity: 2, unitPrice: { amount: 1000, currency: 'EUR' } },
        { sku: 'TEA-1', name: 'TEA-1', quantity: 3, unitPrice: { amount: 1000, currency: 'EUR' } },
      ],
      total: { amount: 5000, currency: 'EUR' },
    });
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'OrderRejected']);
    const [, rejected] = await shop.store.readStream(orderStreamId(orderId));
    expect(rejected?.data).toEqual({ orderId, reason: 'OUT_OF_STOCK', outOfStock: ['TEA-1'] });
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 2, reserved: 0, sold: 0 });
  });

  it('given a hint that one line is short, then it reads the others before rejecting, and names every short line', async () => {
    // A probe's order: this process had seen the cups short, and knew nothing of the kettles, also short.
    const shop = await givenShop({ 'KETTLE-1': 1, 'CUP-1': 1, 'MUG-1': 10 });
    const stockHints = new Map([['CUP-1', 1]]);
    const counted = recordingReads(shop.store);

    const answer = await placeOrder(order({ 'KETTLE-1': 5, 'CUP-1': 2, 'MUG-1': 1 }), {
      ...shop.context,
      store: counted.store,
      stockHints,
    });

    expect(answer).toMatchObject({ status: 'REJECTED', outOfStock: ['KETTLE-1', 'CUP-1'] });
    const [, rejected] = await shop.store.readStream(orderStreamId(answer.orderId));
    expect(rejected?.data).toMatchObject({ outOfStock: ['KETTLE-1', 'CUP-1'] });
    // The two lines it had no figure for, each read once, consistently; the short one's hint was not read again.
    expect(counted.reads.balance).toEqual([true, true]);
    expect(stockHints.get('KETTLE-1')).toBe(1);
    expect(await shop.stock('KETTLE-1')).toEqual({ available: 1, reserved: 0, sold: 0 });
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('given every line known short, then it rejects without reading any stock', async () => {
    const shop = await givenShop({ 'KETTLE-1': 1, 'CUP-1': 1 });
    const stockHints = new Map([
      ['KETTLE-1', 1],
      ['CUP-1', 1],
    ]);
    const counted = recordingReads(shop.store);

    const answer = await placeOrder(order({ 'KETTLE-1': 5, 'CUP-1': 2 }), {
      ...shop.context,
      store: counted.store,
      stockHints,
    });

    expect(answer).toMatchObject({ status: 'REJECTED', outOfStock: ['KETTLE-1', 'CUP-1'] });
    expect(counted.reads.balance).toEqual([]);
  });

  it('given a hint that says “short”, when the stock is in fact there, then it reserves rather than rejects', async () => {
    const shop = await givenShop({ 'MUG-1': 1 });
    // This process last saw 1 left; a restock since has made it 6.
    const stockHints = new Map([['MUG-1', 1]]);
    await restockProduct({ sku: 'MUG-1', quantity: 5 }, shop.context);
    const counted = recordingReads(shop.store);

    const { orderId, status } = await placeOrder(order({ 'MUG-1': 2 }), {
      ...shop.context,
      store: counted.store,
      stockHints,
    });

    expect(status).toBe('PENDING');
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved']);
    expect(await shop.stock('MUG-1')).toEqual({ available: 4, reserved: 2, sold: 0 });
    // The rejection was held to the stock still being short; it was not, so the stock was read, consistently, and
    // the hint follows the reservation.
    expect(counted.reads.balance).toEqual([true]);
    expect(stockHints.get('MUG-1')).toBe(4);
  });

  it('given no hint, when the SKU is sold out, then the refused reservation teaches it, and the next order is rejected in one write', async () => {
    const shop = await givenShop({ 'MUG-1': 1 });
    await shop.placed({ 'MUG-1': 1 });
    const stockHints = new Map<string, number>();
    const counted = recordingReads(shop.store);
    const appends: string[][] = [];
    const store: EventStore = {
      ...counted.store,
      append: (streams, metadata, options) => {
        appends.push(streams.flatMap((s) => s.events.map((e) => e.type)));
        return counted.store.append(streams, metadata, options);
      },
    };
    const context = { ...shop.context, store, stockHints };

    const first = await placeOrder(order({ 'MUG-1': 1 }), context);
    const second = await placeOrder(order({ 'MUG-1': 1 }), context);

    for (const { orderId, status } of [first, second]) {
      expect(status).toBe('REJECTED');
      const [, rejected] = await shop.store.readStream(orderStreamId(orderId));
      expect(rejected?.data).toEqual({ orderId, reason: 'OUT_OF_STOCK', outOfStock: ['MUG-1'] });
    }
    // The first tried to reserve, was refused with the balance as it stood, and was rejected; the second knew.
    expect(appends).toEqual([
      ['OrderPlaced', 'StockReserved'],
      ['OrderPlaced', 'OrderRejected'],
      ['OrderPlaced', 'OrderRejected'],
    ]);
    expect(counted.reads.balance).toEqual([]);
    expect(stockHints.get('MUG-1')).toBe(0);
    expect(await shop.stock('MUG-1')).toEqual({ available: 0, reserved: 1, sold: 0 });
  });

  it('keeps the hints of the SKUs it learned of last, so a warm instance that meets a million SKUs does not grow', async () => {
    const shop = await givenShop({ 'MUG-1': 1 });
    await shop.placed({ 'MUG-1': 1 });
    const stockHints = new Map<string, number>(Array.from({ length: STOCK_HINTS_KEPT }, (_, i) => [`OLD-${i}`, 5]));

    await placeOrder(order({ 'MUG-1': 1 }), { ...shop.context, stockHints });

    expect(stockHints.size).toBe(STOCK_HINTS_KEPT);
    expect(stockHints.get('MUG-1')).toBe(0);
    expect(stockHints.has('OLD-0')).toBe(false);
    expect(stockHints.get('OLD-1')).toBe(5);
  });

  it('given a hint of exactly what the order asks, then it reserves the last units in one write', async () => {
    const shop = await givenShop({ 'MUG-1': 3 });
    // This process learned that 3 are left (a refused order told it so): an order for all 3 is not short.
    const stockHints = new Map([['MUG-1', 3]]);
    const counted = recordingReads(shop.store);

    const { status } = await placeOrder(order({ 'MUG-1': 3 }), { ...shop.context, store: counted.store, stockHints });

    expect(status).toBe('PENDING');
    expect(await shop.stock('MUG-1')).toEqual({ available: 0, reserved: 3, sold: 0 });
    expect(counted.reads.balance).toEqual([]);
    expect(stockHints.get('MUG-1')).toBe(0);
  });

  it('placed again under the same key while the hint says short, answers the order as placed and settles nothing again', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const first = await placeOrder(order({ 'MUG-1': 2 }, 'checkout-44'), shop.context);
    const events = shop.count();
    // Since then this process learned that the SKU is sold out: the repeat must not reject the order it placed.
    const stockHints = new Map([['MUG-1', 0]]);

    expect(await placeOrder(order({ 'MUG-1': 2 }, 'checkout-44'), { ...shop.context, stockHints })).toEqual(first);

    expect(first.status).toBe('PENDING');
    expect(shop.count()).toBe(events);
    expect(await shop.types(orderStreamId(first.orderId))).toEqual(['OrderPlaced', 'StockReserved']);
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 2, sold: 0 });
  });

  it('placed again under the same key, answers the same order and appends nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const first = await placeOrder(order({ 'MUG-1': 2 }, 'checkout-42'), shop.context);
    const events = shop.count();
    expect(await placeOrder(order({ 'MUG-1': 2 }, 'checkout-42'), shop.context)).toEqual(first);
    expect(shop.count()).toBe(events);
    expect(shop.conflicts).toEqual([[orderStreamId(first.orderId)]]);
    // The stock was reserved once, by the first placement.
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 2, sold: 0 });
  });

  it('placed again under the same key, reads the order at once: a stream already created is no race to back off from', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const first = await placeOrder(order({ 'MUG-1': 2 }, 'checkout-43'), shop.context);
    // A backoff would wait almost ten minutes: the test would time out.
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const patient = { ...shop.context, retry: { attempts: 3, baseDelayMs: 600_000, maxDelayMs: 600_000 } };
    try {
      expect(await placeOrder(order({ 'MUG-1': 2 }, 'checkout-43'), patient)).toEqual(first);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('given an order rejected out of stock, when its key is placed again (stock now there), then it answers the same rejected order and writes nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 1 });
    const first = await placeOrder(order({ 'MUG-1': 2 }, 'checkout-7'), shop.context);
    expect(first.status).toBe('REJECTED');
    await restockProduct({ sku: 'MUG-1', quantity: 5 }, shop.context);
    const events = shop.count();

    expect(await placeOrder(order({ 'MUG-1': 2 }, 'checkout-7'), shop.context)).toEqual(first);

    expect(shop.count()).toBe(events);
    expect(await shop.types(orderStreamId(first.orderId))).toEqual(['OrderPlaced', 'OrderRejected']);
    // A settled order stays settled: the repeat does not reserve the stock that came back.
    expect(await shop.stock('MUG-1')).toEqual({ available: 6, reserved: 0, sold: 0 });
  });

  it('refuses the same key for other contents, appending nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const { orderId } = await placeOrder(order({ 'MUG-1': 2 }, 'checkout-42'), shop.context);
    const events = shop.count();
    const error: unknown = await placeOrder(order({ 'MUG-1': 3 }, 'checkout-42'), shop.context).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OrderAlreadyPlacedError);
    expect(error).toMatchObject({ orderId });
    expect(shop.count()).toBe(events);
  });

  it('two identical placements at once (a client retry racing its original) place one order and reserve its stock once', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const [one, two] = await Promise.all([
      placeOrder(order({ 'MUG-1': 1 }, 'double-click'), shop.context),
      placeOrder(order({ 'MUG-1': 1 }, 'double-click'), shop.context),
    ]);
    expect(one).toEqual(two);
    expect(one.status).toBe('PENDING');
    expect(await shop.types(orderStreamId(one.orderId))).toEqual(['OrderPlaced', 'StockReserved']);
    expect(shop.conflicts).toHaveLength(1);
    expect(await shop.stock('MUG-1')).toEqual({ available: 9, reserved: 1, sold: 0 });
  });

  it('refuses an order naming SKUs never registered, naming all of them, appending nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const events = shop.count();
    const error: unknown = await placeOrder(order({ 'MUG-1': 1, 'NOPE-1': 1, 'NOPE-2': 2 }), shop.context).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnknownSkuError);
    expect(error).toMatchObject({ skus: ['NOPE-1', 'NOPE-2'], kind: 'unprocessable' });
    expect((error as Error).message).toBe('No product with SKUs NOPE-1, NOPE-2.');
    // One unknown SKU is named in the singular.
    const one: unknown = await placeOrder(order({ 'NOPE-1': 1 }), shop.context).catch((e: unknown) => e);
    expect((one as Error).message).toBe('No product with SKU NOPE-1.');
    expect(shop.count()).toBe(events);
  });
});

describe('cancelling an order', () => {
  it('cancels the customer’s own order once, however often asked', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 1 });
    const caller = { sub: 'customer-1', isAdmin: false };
    const cancelled = {
      orderId,
      status: 'CANCELLED',
      lines: [{ sku: 'MUG-1', name: 'MUG-1', quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }],
      total: { amount: 1000, currency: 'EUR' },
    };
    expect(await cancelOrder({ orderId, caller }, shop.context)).toEqual(cancelled);
    expect(await cancelOrder({ orderId, caller }, shop.context)).toEqual(cancelled);
    const [, , event] = await shop.store.readStream(orderStreamId(orderId));
    expect(event).toMatchObject({ type: 'OrderCancelled', data: { orderId, previousStatus: 'PENDING' } });
    expect(await shop.types(orderStreamId(orderId))).toHaveLength(3);
    // The cancellation gave back the unit placement reserved, once.
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('lets a customer cancel a confirmed order only within the window after its confirmation; an admin at any time', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const day = 24 * 3600_000;
    const confirmedAt = new Date(Date.UTC(2026, 11, 1, 12));
    const at = (ms: number) => ({ ...shop.context, now: new Date(confirmedAt.getTime() + ms) });
    const confirmed = async () => {
      const orderId = await shop.placed({ 'MUG-1': 1 });
      await confirmOrder(orderId, at(0));
      return orderId;
    };
    const customer = { sub: 'customer-1', isAdmin: false };
    const within = await confirmed();
    const [, , confirmation] = await shop.store.readStream(orderStreamId(within));
    expect(confirmation).toMatchObject({ type: 'OrderConfirmed', data: { confirmedAt: confirmedAt.toISOString() } });
    expect(await cancelOrder({ orderId: within, caller: customer, cancellationWindowMs: day }, at(day))).toMatchObject({
      status: 'CANCELLED',
    });

    const late = await confirmed();
    const events = shop.count();
    await expect(
      cancelOrder({ orderId: late, caller: customer, cancellationWindowMs: day }, at(day + 1)),
    ).rejects.toMatchObject({
      name: 'CancellationWindowClosedError',
      code: 'CANCELLATION_WINDOW_CLOSED',
      kind: 'conflict',
      closedAt: new Date(confirmedAt.getTime() + day).toISOString(),
    });
    expect(shop.count()).toBe(events);
    // Support may; and without a window (a stage that sets none) so may the customer.
    const admin = { sub: 'ops', isAdmin: true };
    expect(await cancelOrder({ orderId: late, caller: admin, cancellationWindowMs: day }, at(30 * day))).toMatchObject({
      status: 'CANCELLED',
    });
    const unbounded = await confirmed();
    expect(await cancelOrder({ orderId: unbounded, caller: customer }, at(30 * day))).toMatchObject({
      status: 'CANCELLED',
    });
    // A PENDING order has no window: it is not confirmed yet.
    const pending = await shop.placed({ 'MUG-1': 1 });
    expect(
      await cancelOrder({ orderId: pending, caller: customer, cancellationWindowMs: day }, at(30 * day)),
    ).toMatchObject({ status: 'CANCELLED' });
  });

  it('treats someone else’s order as not found, and lets an admin cancel it', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 1 });
    await expect(
      cancelOrder({ orderId, caller: { sub: 'customer-2', isAdmin: false } }, shop.context),
    ).rejects.toBeInstanceOf(OrderNotFoundError);
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved']);
    expect(await cancelOrder({ orderId, caller: { sub: 'ops', isAdmin: true } }, shop.context)).toMatchObject({
      status: 'CANCELLED',
    });
  });
});

describe('products and their stock', () => {
  it('registers a product with its stock balance in the same write, once', async () => {
    const shop = await givenShop({});
    const input = { sku: 'MUG-1', name: 'Mug', price: { amount: 1250, currency: 'EUR' }, stock: 7 };
    expect(await registerProduct(input, shop.context)).toEqual({
      ...input,
      stock: { available: 7, reserved: 0, sold: 0 },
      version: 1,
      discontinued: false,
    });
    expect(await readStock(shop.store, 'MUG-1', { consistent: true })).toEqual({
      stock: { available: 7, reserved: 0, sold: 0 },
      version: 1,
    });
    await expect(registerProduct({ ...input, stock: 100 }, shop.context)).rejects.toBeInstanceOf(
      ProductAlreadyRegisteredError,
    );
    expect(await shop.stock('MUG-1')).toEqual({ available: 7, reserved: 0, sold: 0 });
  });

  it('answers a late keyed retry of a registration with the product as it is now, and records nothing (ADR 0026)', async () => {
    const shop = await givenShop({});
    const eur = (amount: number) => ({ amount, currency: 'EUR' });
    const input = { sku: 'MUG-1', name: 'Mug', price: eur(1250), stock: 7, registrationId: 'catalogue-1/MUG-1' };
    await registerProduct(input, shop.context);
    await repriceProduct({ sku: 'MUG-1', price: eur(990) }, shop.context);
    await shop.placed({ 'MUG-1': 2 });
    const events = shop.count();
    expect(await registerProduct(input, shop.context)).toEqual({
      sku: 'MUG-1',
      name: 'Mug',
      price: eur(990),
      stock: { available: 5, reserved: 2, sold: 0 },
      version: 2,
      discontinued: false,
    });
    await expect(registerProduct({ ...input, stock: 8 }, shop.context)).rejects.toMatchObject({
      name: 'RegistrationKeyReusedError',
      sku: 'MUG-1',
    });
    await expect(
      registerProduct({ ...input, registrationId: 'catalogue-2/MUG-1' }, shop.context),
    ).rejects.toBeInstanceOf(ProductAlreadyRegisteredError);
    expect(shop.count()).toBe(events);
  });

  it('restocks on top of what orders hold, and answers the figures as they now are', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    await shop.placed({ 'MUG-1': 4 });
    expect(await restockProduct({ sku: 'MUG-1', quantity: 5 }, shop.context)).toEqual({
      sku: 'MUG-1',
      name: 'MUG-1',
      price: { amount: 1000, currency: 'EUR' },
      stock: { available: 11, reserved: 4, sold: 0 },
      version: 3,
      discontinued: false,
    });
  });

  it('adds a keyed restock or write-off once, however many keyed ones came between it and its retry (ADR 0024)', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    await restockProduct({ sku: 'MUG-1', quantity: 5, restockId: 'po-1' }, shop.context);
    await writeOffStock({ sku: 'MUG-1', quantity: 2, writeOffId: 'broken-1' }, shop.context);
    // More than the product remembers of each (RESTOCKS_REMEMBERED): only the claims hold the first keys now.
    for (let i = 0; i < RESTOCKS_REMEMBERED + 5; i++) {
      await restockProduct({ sku: 'MUG-1', quantity: 1, restockId: `po-later-${i}` }, shop.context);
      await writeOffStock({ sku: 'MUG-1', quantity: 1, writeOffId: `broken-later-${i}` }, shop.context);
    }
    const before = await shop.stock('MUG-1');
    const events = shop.count();
    expect((await restockProduct({ sku: 'MUG-1', quantity: 5, restockId: 'po-1' }, shop.context)).stock).toEqual(
      before,
    );
    expect((await writeOffStock({ sku: 'MUG-1', quantity: 2, writeOffId: 'broken-1' }, shop.context)).stock).toEqual(
      before,
    );
    await expect(restockProduct({ sku: 'MUG-1', quantity: 6, restockId: 'po-1' }, shop.context)).rejects.toMatchObject({
      name: 'RestockKeyReusedError',
      quantity: 5,
    });
    await expect(
      writeOffStock({ sku: 'MUG-1', quantity: 3, writeOffId: 'broken-1' }, shop.context),
    ).rejects.toMatchObject({ name: 'WriteOffKeyReusedError', quantity: 2 });
    expect(shop.count()).toBe(events);
    expect(await shop.stock('MUG-1')).toEqual(before);
    // A key is the product's own, and a restock's own: the same key elsewhere is another command.
    await restockProduct({ sku: 'MUG-1', quantity: 1, restockId: 'broken-1' }, shop.context);
    expect(shop.count()).toBe(events + 1);
  });

  it('keeps a later price from a late keyed retry of a new price, and refuses its key for another (ADR 0025)', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const eur = (amount: number) => ({ amount, currency: 'EUR' });
    await repriceProduct({ sku: 'MUG-1', price: eur(800), repriceId: 'list-1' }, shop.context);
    await repriceProduct({ sku: 'MUG-1', price: eur(650) }, shop.context);
    const events = shop.count();
    expect(await repriceProduct({ sku: 'MUG-1', price: eur(800), repriceId: 'list-1' }, shop.context)).toMatchObject({
      price: eur(650),
    });
    await expect(
      repriceProduct({ sku: 'MUG-1', price: { amount: 800, currency: 'USD' }, repriceId: 'list-1' }, shop.context),
    ).rejects.toMatchObject({ name: 'RepriceKeyReusedError', price: eur(800) });
    expect(shop.count()).toBe(events);
    // A key is the product's own, and a new price's own: a restock's key of the same name is another command.
    await restockProduct({ sku: 'MUG-1', quantity: 1, restockId: 'list-1' }, shop.context);
    expect(shop.count()).toBe(events + 1);
  });

  it('renames a product, keeps a later name from a late keyed retry, and refuses its key for another name (ADR 0027)', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const price = { amount: 1000, currency: 'EUR' };
    expect(await renameProduct({ sku: 'MUG-1', name: 'Cobalt mug', renameId: 'names-1' }, shop.context)).toEqual({
      sku: 'MUG-1',
      name: 'Cobalt mug',
      price,
      discontinued: false,
    });
    await renameProduct({ sku: 'MUG-1', name: 'Navy mug' }, shop.context);
    const events = shop.count();
    // Unkeyed, the name it has records nothing; keyed and late, the retry answers the product as it is now.
    expect(await renameProduct({ sku: 'MUG-1', name: 'Navy mug' }, shop.context)).toMatchObject({ name: 'Navy mug' });
    expect(await renameProduct({ sku: 'MUG-1', name: 'Cobalt mug', renameId: 'names-1' }, shop.context)).toMatchObject({
      name: 'Navy mug',
    });
    await expect(
      renameProduct({ sku: 'MUG-1', name: 'Teal mug', renameId: 'names-1' }, shop.context),
    ).rejects.toMatchObject({ name: 'RenameKeyReusedError', sku: 'MUG-1', earlierName: 'Cobalt mug' });
    expect(shop.count()).toBe(events);
    // Its stock is as it was: a name moves none.
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    // A key is the product's own, and a new name's own: a new price's key of the same name is another command.
    await repriceProduct({ sku: 'MUG-1', price: { amount: 900, currency: 'EUR' }, repriceId: 'names-1' }, shop.context);
    expect(shop.count()).toBe(events + 1);
    await expect(renameProduct({ sku: 'NOPE-1', name: 'Mug' }, shop.context)).rejects.toBeInstanceOf(
      ProductNotFoundError,
    );
  });

  it('discontinues a product for good: new orders and restocks refused, orders placed before answered, stock left to write off (ADR 0028)', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'CUP-1': 10 });
    const before = await shop.placed({ 'MUG-1': 2 }, 'checkout-1');
    await restockProduct({ sku: 'MUG-1', quantity: 5, restockId: 'po-1' }, shop.context);
    const price = { amount: 1000, currency: 'EUR' };
    expect(await discontinueProduct({ sku: 'MUG-1' }, shop.context)).toEqual({
      sku: 'MUG-1',
      name: 'MUG-1',
      price,
      discontinued: true,
    });
    expect(await shop.types(productStreamId('MUG-1'))).toEqual([
      'ProductRegistered',
      'ProductRestocked',
      'ProductDiscontinued',
    ]);
    const events = shop.count();
    // Again, however late: nothing more is recorded, and the answer is the same.
    expect(await discontinueProduct({ sku: 'MUG-1' }, shop.context)).toMatchObject({ discontinued: true });
    // A new order naming it is refused, whatever else it holds, and writes nothing.
    await expect(placeOrder(order({ 'CUP-1': 1, 'MUG-1': 1 }), shop.context)).rejects.toMatchObject({
      name: 'ProductDiscontinuedError',
      skus: ['MUG-1'],
    });
    // The order placed before it, sent again under its key, is answered as it stands.
    expect(await placeOrder(order({ 'MUG-1': 2 }, 'checkout-1'), shop.context)).toMatchObject({
      orderId: before,
      status: 'PENDING',
    });
    // No restock, unless it is the retry of one recorded before.
    await expect(restockProduct({ sku: 'MUG-1', quantity: 5 }, shop.context)).rejects.toBeInstanceOf(
      ProductDiscontinuedError,
    );
    expect((await restockProduct({ sku: 'MUG-1', quantity: 5, restockId: 'po-1' }, shop.context)).discontinued).toBe(
      true,
    );
    expect(shop.count()).toBe(events);
    // What is left is written off; the order in flight keeps what it holds.
    await writeOffStock({ sku: 'MUG-1', quantity: 13 }, shop.context);
    expect(await shop.stock('MUG-1')).toEqual({ available: 0, reserved: 2, sold: 0 });
    await expect(discontinueProduct({ sku: 'NOPE-1' }, shop.context)).rejects.toBeInstanceOf(ProductNotFoundError);
    expect(await shop.placed({ 'CUP-1': 1 })).toEqual(expect.any(String));
  });

  it('answers a late keyed retry near the supply limit as a retry, not as a restock past the limit', async () => {
    const shop = await givenShop({ 'BIG-1': STOCK_LEVEL_MAX - 1_000 });
    await restockProduct({ sku: 'BIG-1', quantity: 900, restockId: 'po-late' }, shop.context);
    for (let i = 0; i < RESTOCKS_REMEMBERED + 1; i++) {
      await restockProduct({ sku: 'BIG-1', quantity: 1, restockId: `po-between-${i}` }, shop.context);
    }
    const before = await shop.stock('BIG-1');
    // 900 more would pass the limit; the first 900 are in already, which the claim says.
    expect((await restockProduct({ sku: 'BIG-1', quantity: 900, restockId: 'po-late' }, shop.context)).stock).toEqual(
      before,
    );
    await expect(
      restockProduct({ sku: 'BIG-1', quantity: 901, restockId: 'po-late' }, shop.context),
    ).rejects.toMatchObject({ name: 'RestockKeyReusedError', quantity: 900 });
    // A new key past the limit is refused as before.
    await expect(
      restockProduct({ sku: 'BIG-1', quantity: 900, restockId: 'po-new' }, shop.context),
    ).rejects.toMatchObject({ name: 'StockLimitExceededError' });
    expect(await shop.stock('BIG-1')).toEqual(before);
  });

  it('refuses to restock a product never registered, creating no stock', async () => {
    const shop = await givenShop({});
    await expect(restockProduct({ sku: 'NOPE-1', quantity: 5 }, shop.context)).rejects.toBeInstanceOf(
      ProductNotFoundError,
    );
    expect(await shop.store.readBalance('stock-NOPE-1', { consistent: true })).toBeUndefined();
    expect(shop.count()).toBe(0);
  });
});

describe('a command across several streams', () => {
  const confirm = (orderId: string) =>
    decision(orderAggregate, orderStreamId(orderId), (state) =>
      orders.decide({ type: 'ConfirmOrder', data: { orderId } }, state),
    );

  it('writes nothing when a decision yields an event its schema refuses, since it could never be read back', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 1 });
    const events = shop.count();
    const unreadable = decision(orderAggregate, orderStreamId(orderId), () => [
      { type: 'OrderConfirmed' as const, data: { orderId: '' } },
    ]);
    const error: unknown = await handleCommands([unreadable], shop.context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecordableEventError);
    expect(error).toMatchObject({ streamId: orderStreamId(orderId), type: 'OrderConfirmed' });
    expect(shop.count()).toBe(events);
  });

  it('writes nothing to any stream when one decision is refused', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const [first, second] = [await shop.placed({ 'MUG-1': 1 }, 'first'), await shop.placed({ 'TEA-1': 1 }, 'second')];
    await cancelOrder({ orderId: second, caller: { sub: 'customer-1', isAdmin: false } }, shop.context);
    const events = shop.count();
    // The second order is cancelled, so it cannot be confirmed: the first one's confirmation is not kept either.
    await expect(handleCommands([confirm(first), confirm(second)], shop.context)).rejects.toBeInstanceOf(
      InvalidOrderTransitionError,
    );
    expect(shop.count()).toBe(events);
    expect(await shop.stock('MUG-1')).toEqual({ available: 9, reserved: 1, sold: 0 });
  });

  it('loses a race on one stream, reads every stream again, and commits the decisions it now takes', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const [first, second] = [await shop.placed({ 'MUG-1': 1 }, 'first'), await shop.placed({ 'TEA-1': 1 }, 'second')];
    // Another execution confirms the first order between this one's read and its append.
    const raced = withWriteBetween(shop.store, () => handleCommands([confirm(first)], shop.context));
    const outcomes = await handleCommands([confirm(first), confirm(second)], { ...shop.context, store: raced });
    expect(shop.conflicts).toEqual([[orderStreamId(first)]]);
    // On the second attempt the first order is already confirmed (nothing to add); the second is confirmed now.
    expect(outcomes.map((o) => [o.streamId, o.version, o.events.length])).toEqual([
      [orderStreamId(first), 3, 0],
      [orderStreamId(second), 3, 1],
    ]);
    // Each sold once.
    expect(await shop.stock('MUG-1')).toEqual({ available: 9, reserved: 0, sold: 1 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 4, reserved: 0, sold: 1 });
  });
});
