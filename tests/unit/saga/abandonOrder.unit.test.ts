import { describe, expect, it } from 'vitest';
import { cancelOrder, placeOrder } from '../../../application/orders.js';
import type { PaymentGateway } from '../../../application/paymentGateway.js';
import { readStock, registerProduct } from '../../../application/products.js';
import { abandonOrder, authorizePayment, confirmOrder } from '../../../application/saga.js';
import { type PendingOrders, type SagaExecutions, sweepPendingOrders } from '../../../application/sweeper.js';
import { memoryGateway } from '../../support/memoryGateway.js';
import { memoryStore, testContext } from '../../support/memoryStore.js';

const given = async () => {
  const store = memoryStore();
  const context = testContext(store);
  const { gateway, calls, keys } = memoryGateway();
  await registerProduct({ sku: 'MUG-1', name: 'Mug', price: { amount: 1250, currency: 'EUR' }, stock: 10 }, context);
  // Placed, the order holds its 2 mugs reserved (ADR 0014).
  const { orderId } = await placeOrder(
    { customerId: 'customer-1', items: [{ sku: 'MUG-1', quantity: 2 }], paymentToken: 'tok_visa' },
    context,
  );
  const stock = async () => (await readStock(store, 'MUG-1')).stock;
  const types = async (streamId: string) => (await store.readStream(streamId)).map((e) => e.type);
  return { store, context, gateway, calls, keys, orderId, stock, types };
};

describe('abandonOrder: the catch-all compensation', () => {
  it('gives back reserved stock, refunds a recorded authorization, and rejects the order UNAVAILABLE', async () => {
    const { context, gateway, calls, orderId, stock, types } = await given();
    await authorizePayment(orderId, context, gateway);

    expect(await stock()).toEqual({ available: 8, reserved: 2, sold: 0 });
    expect(await abandonOrder(orderId, context, gateway)).toEqual({ outcome: 'REJECTED', payment: 'REFUNDED' });
    expect(await types(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(calls.filter((c) => c.startsWith('refund'))).toHaveLength(1);
  });

  it('voids at the gateway an authorization whose answer was lost, and records it as authorized and refunded', async () => {
    const { context, gateway, keys, orderId, types } = await given();
    await gateway.authorize({ idempotencyKey: orderId, token: 'tok_visa', amount: { amount: 2500, currency: 'EUR' } });

    expect(await abandonOrder(orderId, context, gateway)).toEqual({ outcome: 'REJECTED', payment: 'REFUNDED' });
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(keys.get(orderId)).toMatchObject({ refunded: true, voided: true });
  });

  it('bars the key when nothing was authorized, so a late authorize is declined, and refunds nothing', async () => {
    const { context, gateway, calls, orderId, stock, types } = await given();
    expect(await abandonOrder(orderId, context, gateway)).toEqual({ outcome: 'REJECTED', payment: 'NOTHING' });
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(calls).toEqual([`void ${orderId}`]);
    expect(await types(`payment-${orderId}`)).toEqual([]);
    expect(
      await gateway.authorize({ idempotencyKey: orderId, token: 'tok_visa', amount: { amount: 1, currency: 'EUR' } }),
    ).toEqual({ outcome: 'DECLINED', reason: 'voided' });
  });

  it('never touches a CONFIRMED order, even when ConfirmOrder committed and then failed', async () => {
    const { store, context, gateway, calls, orderId, stock } = await given();
    await authorizePayment(orderId, context, gateway);
    await confirmOrder(orderId, context);
    const before = store.readAll().length;

    expect(await abandonOrder(orderId, context, gateway)).toEqual({ outcome: 'NOT_PENDING', status: 'CONFIRMED' });
    expect(store.readAll()).toHaveLength(before);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(calls).toEqual([`authorize ${orderId}`]);
  });

  it('leaves a CANCELLED order to its cancellation', async () => {
    const { store, context, gateway, calls, orderId } = await given();
    await cancelOrder({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, context);
    const before = store.readAll().length;
    expect(await abandonOrder(orderId, context, gateway)).toEqual({ outcome: 'NOT_PENDING', status: 'CANCELLED' });
    expect(store.readAll()).toHaveLength(before);
    expect(calls).toEqual([]);
  });

  it('gives back no stock when the order is confirmed while it voids the payment, and says the payment was refunded', async () => {
    const { store, context, gateway, orderId, stock, types } = await given();
    await authorizePayment(orderId, context, gateway);
    // Another execution confirms the order between the void and the transaction.
    const racing: PaymentGateway = {
      ...gateway,
      refund: async (request) => {
        const answer = await gateway.refund(request);
        await confirmOrder(orderId, context);
        return answer;
      },
    };

    expect(await abandonOrder(orderId, { ...context, store }, racing)).toEqual({
      outcome: 'NOT_PENDING',
      status: 'CONFIRMED',
      payment: 'REFUNDED',
    });
    expect(await types(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
  });

  it('does nothing the second time', async () => {
    const { store, context, gateway, calls, orderId } = await given();
    await authorizePayment(orderId, context, gateway);
    await abandonOrder(orderId, context, gateway);
    const [events, gatewayCalls] = [store.readAll().length, calls.length];
    expect(await abandonOrder(orderId, context, gateway)).toEqual({ outcome: 'NOT_PENDING', status: 'REJECTED' });
    expect(store.readAll()).toHaveLength(events);
    expect(calls).toHaveLength(gatewayCalls);
  });
});

describe('sweepPendingOrders', () => {
  it('gives up stale orders whose saga is not running, leaves running ones, and goes on past a failure', async () => {
    const { context, gateway, orderId } = await given();
    const asked: string[] = [];
    const pending: PendingOrders = {
      placedBefore: async (cutoff, limit) => {
        asked.push(`${cutoff} ${limit}`);
        return ['broken', 'running', orderId];
      },
    };
    const executions: SagaExecutions = {
      running: async (id) => {
        if (id === 'broken') throw new Error('describe failed');
        return id === 'running';
      },
    };
    const swept = await sweepPendingOrders({
      now: new Date('2026-11-29T12:00:00.000Z'),
      pendingAfterMs: 900_000,
      limit: 50,
      pending,
      executions,
      contextFor: async () => context,
      gateway,
    });
    expect(asked).toEqual(['2026-11-29T11:45:00.000Z 50']);
    expect(swept.map(({ orderId: id, action }) => [id, action])).toEqual([
      ['broken', 'FAILED'],
      ['running', 'LEFT_RUNNING'],
      [orderId, 'ABANDONED'],
    ]);
  });

  it('takes an order it cannot tell about (EXPRESS) as ended, and one settled meanwhile as settled', async () => {
    const { context, gateway, orderId } = await given();
    const sweep = () =>
      sweepPendingOrders({
        now: new Date(),
        pendingAfterMs: 0,
        limit: 10,
        pending: { placedBefore: async () => [orderId] },
        executions: { running: async () => undefined },
        contextFor: async () => context,
        gateway,
      });
    expect((await sweep()).map((s) => s.action)).toEqual(['ABANDONED']);
    // The index follows the projection, so it may still list the order: the order's own stream decides.
    expect((await sweep()).map((s) => s.action)).toEqual(['ALREADY_SETTLED']);
  });
});
