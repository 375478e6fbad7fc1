import { describe, expect, it } from 'vitest';
import { cancelOrder, placeOrder } from '../../../application/orders.js';
import { registerProduct } from '../../../application/products.js';
import type { PaymentGateway } from '../../../application/paymentGateway.js';
import {
  authorizePayment,
  compensateCancellation,
  confirmOrder,
  PaymentDeclinedError,
  rejectOrder,
} from '../../../application/saga.js';
import { orderStreamId } from '../../../domain/order/index.js';
import { paymentStreamId } from '../../../domain/payment/index.js';
import { givenShop, withWriteBetween } from '../../support/shop.js';

/**
 * The order saga's steps (application/saga.ts), run as statemachines/order-saga.asl.json runs them, on the in-memory
 * event store: each test is given a shop, places an order (which reserves its stock, or rejects it out of stock: ADR
 * 0014), runs steps, and checks the streams, the stock and the gateway's calls. Without the order the execution
 * carries (tests/unit/saga/carriedOrder.unit.test.ts covers that), so every step reads what it needs.
 */
const customer = { sub: 'customer-1', isAdmin: false };

/** The placement `shop.placed` makes, for a test that needs its status too. */
const orderOf = (items: Record<string, number>, idempotencyKey: string) => ({
  customerId: 'customer-1',
  items: Object.entries(items).map(([sku, quantity]) => ({ sku, quantity })),
  paymentToken: 'tok_visa',
  idempotencyKey,
});

describe('the order saga, step by step', () => {
  it('placed with its stock reserved → authorize → confirm, selling that stock: CONFIRMED, its stock sold, its total authorized', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const orderId = await shop.placed({ 'MUG-1': 2, 'TEA-1': 1 });

    // Placement reserved the units in the write that placed the order: the saga starts from there.
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 2, sold: 0 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 4, reserved: 1, sold: 0 });
    expect(await authorizePayment(orderId, shop.context, shop.gateway)).toBe('PROCEED');
    expect(await confirmOrder(orderId, shop.context)).toBe('PROCEED');

    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    const [, reserved] = await shop.store.readStream(orderStreamId(orderId));
    expect(reserved?.data).toEqual({
      orderId,
      lines: [
        { sku: 'MUG-1', quantity: 2 },
        { sku: 'TEA-1', quantity: 1 },
      ],
    });
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 4, reserved: 0, sold: 1 });
    const [authorized] = await shop.store.readStream(paymentStreamId(orderId));
    expect(authorized).toMatchObject({
      type: 'PaymentAuthorized',
      data: { orderId, amount: { amount: 3000, currency: 'EUR' }, gatewayReference: `auth-${orderId}` },
    });
    expect(shop.calls).toEqual([`authorize ${orderId}`]);
    expect(shop.conflicts).toEqual([]);
  });

  it('a free order (every line priced 0) is confirmed without asking the gateway for anything, and records no payment', async () => {
    const shop = await givenShop({});
    const free = { amount: 0, currency: 'EUR' };
    await registerProduct({ sku: 'SAMPLE-1', name: 'Sample', price: free, stock: 5 }, shop.context);
    const orderId = await shop.placed({ 'SAMPLE-1': 2 });
    expect(await authorizePayment(orderId, shop.context, shop.gateway)).toBe('PROCEED');
    expect(await confirmOrder(orderId, shop.context)).toBe('PROCEED');
    expect(shop.calls).toEqual([]);
    expect(await shop.types(paymentStreamId(orderId))).toEqual([]);
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    expect(await shop.stock('SAMPLE-1')).toEqual({ available: 3, reserved: 0, sold: 2 });
  });

  it('out of stock: one short line rejects the whole order at placement, holding nothing, and a step run on it stops', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 1 });
    const placement = orderOf({ 'MUG-1': 2, 'TEA-1': 2 }, 'short-tea');

    const { orderId, status } = await placeOrder(placement, shop.context);
    expect(status).toBe('REJECTED');
    const [, rejected, ...more] = await shop.store.readStream(orderStreamId(orderId));
    expect(rejected).toMatchObject({ type: 'OrderRejected', data: { orderId, reason: 'OUT_OF_STOCK' } });
    expect(more).toEqual([]);
    // All or nothing: the mug that was in stock is not held either, and the short tea holds nothing.
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 1, reserved: 0, sold: 0 });

    // Placed again (a client retry): the order is settled, so nothing more is appended.
    const before = shop.count();
    expect(await placeOrder(placement, shop.context)).toMatchObject({
      orderId,
      status: 'REJECTED',
      rejectionReason: 'OUT_OF_STOCK',
      outOfStock: ['TEA-1'],
    });
    expect(shop.count()).toBe(before);
    // No saga starts for it (it has no StockReserved); a step run on it anyway stops without asking the gateway.
    expect(await authorizePayment(orderId, shop.context, shop.gateway)).toBe('STOP');
    expect(await confirmOrder(orderId, shop.context)).toBe('STOP');
    expect(shop.count()).toBe(before);
    expect(shop.calls).toEqual([]);
  });

  it('an order cancelled before the saga’s first step has its stock back; the step asks the gateway nothing and stops', async () => {
    const shop = await givenShop({ 'MUG-1': 2 });
    const orderId = await shop.placed({ 'MUG-1': 2 });
    await cancelOrder({ orderId, caller: customer }, shop.context);
    expect(await shop.stock('MUG-1')).toEqual({ available: 2, reserved: 0, sold: 0 });

    const before = shop.count();
    expect(await authorizePayment(orderId, shop.context, shop.gateway)).toBe('STOP');
    expect(shop.count()).toBe(before);
    expect(shop.calls).toEqual([]);
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled']);
  });

  it('a declined payment is recorded once; run again, the step declines from the record without asking the gateway', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 3 });
    const asked: string[] = [];
    const declining: PaymentGateway = {
      ...shop.gateway,
      authorize: async ({ idempotencyKey }) => {
        asked.push(idempotencyKey);
        return { outcome: 'DECLINED', reason: 'insufficient_funds' };
      },
    };

    for (let run = 0; run < 2; run++) {
      const error: unknown = await authorizePayment(orderId, shop.context, declining).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PaymentDeclinedError);
      expect(error).toMatchObject({ orderId, reason: 'insufficient_funds' });
    }
    expect(asked).toEqual([orderId]);
    expect(await shop.store.readStream(paymentStreamId(orderId))).toMatchObject([
      {
        type: 'PaymentDeclined',
        data: { orderId, amount: { amount: 3000, currency: 'EUR' }, reason: 'insufficient_funds' },
      },
    ]);

    // The saga's catch: the order rejected, which gives its stock back in the same write.
    await rejectOrder(orderId, 'PAYMENT_DECLINED', shop.context);
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('every step retried (Lambda and Step Functions retry) appends nothing the second time and moves no stock twice', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const orderId = await shop.placed({ 'MUG-1': 2, 'TEA-1': 1 });
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 2, sold: 0 });
    const steps = [
      () => authorizePayment(orderId, shop.context, shop.gateway),
      () => confirmOrder(orderId, shop.context),
    ];
    for (const step of steps) {
      expect(await step()).toBe('PROCEED');
      const events = shop.count();
      expect(await step()).toBe('PROCEED');
      expect(shop.count()).toBe(events);
    }
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 4, reserved: 0, sold: 1 });
    // The payment was read as recorded the second time: the gateway was asked once.
    expect(shop.calls).toEqual([`authorize ${orderId}`]);
  });

  it('rejecting run twice gives the stock back once', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 4 });
    expect(await shop.stock('MUG-1')).toEqual({ available: 6, reserved: 4, sold: 0 });
    for (let run = 0; run < 2; run++) await rejectOrder(orderId, 'PAYMENT_DECLINED', shop.context);
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
  });
});

describe('the order saga racing itself and its customer', () => {
  it('two executions at once (an EXPRESS workflow started twice): each step commits once, the other loses the race, reads again and appends nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const orderId = await shop.placed({ 'MUG-1': 2, 'TEA-1': 1 });

    const twice = <T>(step: () => Promise<T>) => Promise.all([step(), step()]);
    expect(await twice(() => authorizePayment(orderId, shop.context, shop.gateway))).toEqual(['PROCEED', 'PROCEED']);
    expect(await twice(() => confirmOrder(orderId, shop.context))).toEqual(['PROCEED', 'PROCEED']);
    expect(shop.conflicts).toContainEqual([orderStreamId(orderId)]);
    expect(await shop.types(paymentStreamId(orderId))).toEqual(['PaymentAuthorized']);
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    // Sold once: the losing confirmation moved no stock.
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it('the last unit goes to one of two orders placed at once; the other is rejected out of stock, and only the first is sold it', async () => {
    const shop = await givenShop({ 'MUG-1': 1 });

    const placements = await Promise.all([
      placeOrder(orderOf({ 'MUG-1': 1 }, 'first'), shop.context),
      placeOrder(orderOf({ 'MUG-1': 1 }, 'second'), shop.context),
    ]);
    expect(placements.map((p) => p.status).sort()).toEqual(['PENDING', 'REJECTED']);
    const holder = placements.find((p) => p.status === 'PENDING')?.orderId ?? '';
    const rejected = placements.find((p) => p.status === 'REJECTED')?.orderId ?? '';
    expect(await shop.types(orderStreamId(holder))).toEqual(['OrderPlaced', 'StockReserved']);
    expect(await shop.types(orderStreamId(rejected))).toEqual(['OrderPlaced', 'OrderRejected']);
    // Never oversold: the one unit is held once.
    expect(await shop.stock('MUG-1')).toEqual({ available: 0, reserved: 1, sold: 0 });

    expect(await authorizePayment(holder, shop.context, shop.gateway)).toBe('PROCEED');
    expect(await confirmOrder(holder, shop.context)).toBe('PROCEED');
    expect(await shop.stock('MUG-1')).toEqual({ available: 0, reserved: 0, sold: 1 });
  });

  it('confirming an order whose cancellation was already compensated stops, selling nothing', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 2 });
    await authorizePayment(orderId, shop.context, shop.gateway);
    await cancelOrder({ orderId, caller: customer }, shop.context);
    expect(await compensateCancellation(orderId, shop.context, shop.gateway)).toBe('REFUNDED');

    // The order is no longer PENDING: the step stops.
    expect(await confirmOrder(orderId, shop.context)).toBe('STOP');
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled']);
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('a cancellation landing between a step’s read and its append: the step loses the race, reads again and stops', async () => {
    const shop = await givenShop({ 'MUG-1': 10 });
    const orderId = await shop.placed({ 'MUG-1': 2 });
    await authorizePayment(orderId, shop.context, shop.gateway);
    const cancelled = withWriteBetween(shop.store, () => cancelOrder({ orderId, caller: customer }, shop.context));

    expect(await confirmOrder(orderId, { ...shop.context, store: cancelled })).toBe('STOP');
    expect(shop.conflicts).toEqual([[orderStreamId(orderId)]]);
    // Nothing was sold to a cancelled order, it stays cancelled, and its cancellation gave the stock back.
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await shop.types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled']);

    // The cancellation's compensation refunds the payment.
    expect(await compensateCancellation(orderId, shop.context, shop.gateway)).toBe('REFUNDED');
    expect(await shop.types(paymentStreamId(orderId))).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
  });
});

describe('cancellation compensation', () => {
  it('a confirmed order’s cancellation gives back every unit on each SKU, and its compensation refunds it; run again, it does nothing more', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const orderId = await shop.placed({ 'MUG-1': 2, 'TEA-1': 1 });
    await authorizePayment(orderId, shop.context, shop.gateway);
    await confirmOrder(orderId, shop.context);
    expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 0, sold: 2 });
    await cancelOrder({ orderId, caller: customer }, shop.context);
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 5, reserved: 0, sold: 0 });

    expect(await compensateCancellation(orderId, shop.context, shop.gateway)).toBe('REFUNDED');
    expect(await shop.types(paymentStreamId(orderId))).toEqual(['PaymentAuthorized', 'PaymentRefunded']);

    const [events, calls] = [shop.count(), shop.calls.length];
    expect(await compensateCancellation(orderId, shop.context, shop.gateway)).toBe('NOTHING');
    expect(shop.count()).toBe(events);
    expect(shop.calls).toHaveLength(calls);
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('does nothing for an order not cancelled; cancelled while PENDING, its stock is back and its key voided', async () => {
    const shop = await givenShop({ 'MUG-1': 10, 'TEA-1': 5 });
    const orderId = await shop.placed({ 'MUG-1': 2, 'TEA-1': 1 });
    const before = shop.count();
    expect(await compensateCancellation(orderId, shop.context, shop.gateway)).toBe('NOTHING');
    expect(shop.count()).toBe(before);

    await cancelOrder({ orderId, caller: customer }, shop.context);
    expect(await compensateCancellation(orderId, shop.context, shop.gateway)).toBe('NOTHING');
    expect(await shop.stock('MUG-1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await shop.stock('TEA-1')).toEqual({ available: 5, reserved: 0, sold: 0 });
    // Nothing was authorized, so the order's key is voided at the gateway.
    expect(shop.calls).toEqual([`void ${orderId}`]);
  });
});
