import { describe, expect, it } from 'vitest';
import { orderAggregate } from '../../../application/aggregates.js';
import { UnknownSkuError } from '../../../application/errors.js';
import { decision, handleCommands } from '../../../application/handleCommand.js';
import { cancelOrder, placeOrder } from '../../../application/orders.js';
import { readStock, registerProduct, restockProduct } from '../../../application/products.js';
import { reserveStock } from '../../../application/saga.js';
import { order as orders, orderStreamId } from '../../../domain/order/index.js';
import {
  OrderAlreadyPlacedError,
  OrderNotFoundError,
  ProductAlreadyRegisteredError,
  ProductNotFoundError,
  StockNotReservedError,
} from '../../../domain/shared/errors.js';
import { givenShop, withWriteBetween } from '../../support/shop.js';

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

describe('placing an order', () => {
  it('prices each line at its product’s registered price and totals it', async () => {
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
            { sku: 'MUG-1', quantity: 2, unitPrice: { amount: 1000, currency: 'EUR' } },
            { sku: 'TEA-1', quantity: 3, unitPrice: { amount: 450, currency: 'EUR' } },
          ],
          total: { amount: 3350, currency: 'EUR' },
        },
      },
    ]);
    // Placing reserves nothing: that is the saga's first step.
    expect(await shop.stock('TEA-1')).toEqual({ available: 3, reserved: 0, sold: 0 });
  });

  it('placed again under the same key, answers the same order and appends nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const first = await placeOrder(order({ 'MUG-1': 2 }, 'checkout-42'), shop.context);
    const events = shop.count();
    expect(await placeOrder(order({ 'MUG-1': 2 }, 'checkout-42'), shop.context)).toEqual(first);
    expect(shop.count()).toBe(events);
    expect(shop.conflicts).toEqual([[orderStreamId(first.orderId)]]);
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

  it('two identical placements at once (a client retry racing its original) place one order', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const [one, two] = await Promise.all([
      placeOrder(order({ 'MUG-1': 1 }, 'double-click'), shop.context),
      placeOrder(order({ 'MUG-1': 1 }, 'double-click'), shop.context),
    ]);
    expect(one).toEqual(two);
    expect(await shop.types(orderStreamId(one.orderId))).toEqual(['OrderPlaced']);
    expect(shop.conflicts).toHaveLength(1);
  });

  it('refuses an order naming SKUs never registered, naming all of them, appending nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const events = shop.count();
    const error: unknown = await placeOrder(order({ 'MUG-1': 1, 'NOPE-1': 1, 'NOPE-2': 2 }), shop.context).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnknownSkuError);
    expect(error).toMatchObject({ skus: ['NOPE-1', 'NOPE-2'], kind: 'unprocessable' });
    expect(shop.count()).toBe(events);
  });
});

describe('cancelling an order', () => {
  it('cancels the customer’s own order once, however often asked', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 1 });
    const caller = { sub: 'customer-1', isAdmin: false };
    expect(await cancelOrder({ orderId, caller }, shop.context)).toEqual({ orderId, status: 'CANCELLED' });
    expect(await cancelOrder({ orderId, caller }, shop.context)).toEqual({ orderId, status: 'CANCELLED' });
    const [, cancelled] = await shop.store.readStream(orderStreamId(orderId));
    expect(cancelled).toMatchObject({ type: 'OrderCancelled', data: { orderId, previousStatus: 'PENDING' } });
    expect(await shop.types(orderStreamId(orderId))).toHaveLength(2);
  });

  it('treats someone else’s order as not found, and lets an admin cancel it', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 1 });
    await expect(
      cancelOrder({ orderId, caller: { sub: 'customer-2', isAdmin: false } }, shop.context),
    ).rejects.toBeInstanceOf(OrderNotFoundError);
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced']);
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

  it('restocks on top of what orders hold, and answers the figures as they now are', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    await reserveStock(await shop.placed({ 'MUG-1': 4 }), shop.context);
    expect(await restockProduct({ sku: 'MUG-1', quantity: 5 }, shop.context)).toEqual({
      sku: 'MUG-1',
      name: 'MUG-1',
      price: { amount: 1000, currency: 'EUR' },
      stock: { available: 11, reserved: 4, sold: 0 },
      version: 3,
    });
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
  const onOrder = (orderId: string, type: 'ReserveStock' | 'ConfirmOrder') =>
    decision(orderAggregate, orderStreamId(orderId), (state) => orders.decide({ type, data: { orderId } }, state));

  it('writes nothing to any stream when one decision is refused', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const [first, second] = [await shop.placed({ 'MUG-1': 1 }, 'first'), await shop.placed({ 'TEA-1': 1 }, 'second')];
    const events = shop.count();
    // The second order holds no reserved stock, so it cannot be confirmed: the first one's reservation is not kept.
    await expect(
      handleCommands([onOrder(first, 'ReserveStock'), onOrder(second, 'ConfirmOrder')], shop.context),
    ).rejects.toBeInstanceOf(StockNotReservedError);
    expect(shop.count()).toBe(events);
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('loses a race on one stream, reads every stream again, and commits the decisions it now takes', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const [first, second] = [await shop.placed({ 'MUG-1': 1 }, 'first'), await shop.placed({ 'TEA-1': 1 }, 'second')];
    // Another execution reserves the first order's stock between this one's read and its append.
    const raced = withWriteBetween(shop.store, () => handleCommands([onOrder(first, 'ReserveStock')], shop.context));
    const outcomes = await handleCommands([onOrder(first, 'ReserveStock'), onOrder(second, 'ReserveStock')], {
      ...shop.context,
      store: raced,
    });
    expect(shop.conflicts).toEqual([[orderStreamId(first)]]);
    // On the second attempt the first order is already reserved (nothing to add); the second is reserved now.
    expect(outcomes.map((o) => [o.streamId, o.version, o.events.length])).toEqual([
      [orderStreamId(first), 2, 0],
      [orderStreamId(second), 2, 1],
    ]);
    expect(await shop.stock('MUG-1')).toEqual({ available: 9, reserved: 1, sold: 0 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 4, reserved: 1, sold: 0 });
  });
});
