import { describe, expect, it } from 'vitest';

import { cancelOrder } from '../../../application/orders.js';
import { readStock } from '../../../application/products.js';
import { abandonOrder, awaitPayment, nextPaymentWait, type PaymentWaitPolicy } from '../../../application/saga.js';
import type { PaymentGateway } from '../../../application/paymentGateway.js';
import { memoryParking } from '../../support/memoryParking.js';
import { memoryStore, testContext } from '../../support/memoryStore.js';
import { twoMugsPlaced } from '../../support/shop.js';

const policy: PaymentWaitPolicy = { firstWaitSeconds: 5, maxWaitSeconds: 30, boundSeconds: 180 };
const startedAt = new Date('2026-11-30T10:00:00.000Z');
const at = (seconds: number) => new Date(startedAt.getTime() + seconds * 1000);

describe('nextPaymentWait: how long a parked payment step waits', () => {
  it('waits as long as it has waited so far, at least the first wait and at most the max', () => {
    const since = at(2);
    const waits = [2, 7, 12, 22, 42, 72, 102].map(
      (now) => nextPaymentWait({ startedAt, since, now: at(now), policy }) as { waitSeconds: number },
    );
    expect(waits.map((w) => w.waitSeconds)).toEqual([5, 5, 10, 20, 30, 30, 30]);
  });

  it('never waits past the bound, and gives up at it', () => {
    expect(nextPaymentWait({ startedAt, since: at(2), now: at(170), policy })).toEqual({
      outcome: 'WAIT',
      waitSeconds: 10,
    });
    expect(nextPaymentWait({ startedAt, since: at(2), now: at(179.5), policy })).toEqual({
      outcome: 'WAIT',
      waitSeconds: 1,
    });
    expect(nextPaymentWait({ startedAt, since: at(2), now: at(180), policy })).toEqual({ outcome: 'GIVE_UP' });
  });
});

/** A gateway that is down: every call fails, and nothing is ever authorized. */
const deadGateway: PaymentGateway = {
  authorize: () => Promise.reject(new Error('down')),
  refund: () => Promise.reject(new Error('down')),
  voidAuthorization: async () => ({ outcome: 'NOTHING_AUTHORIZED' }),
};

const given = async () => {
  const store = memoryStore();
  const context = testContext(store);
  // Placed with its stock reserved, as is every order whose saga runs (ADR 0014).
  const orderId = await twoMugsPlaced(context);
  const types = async () => (await store.readStream(`order-${orderId}`)).map((e) => e.type);
  const stock = async () => (await readStock(store, 'MUG-1')).stock;
  return { store, context, orderId, types, stock };
};

describe('awaitPayment: the parked payment step', () => {
  it('records once that the order awaits payment until the bound, and keeps its stock reserved', async () => {
    const { context, orderId, types, stock } = await given();
    expect(await awaitPayment(orderId, { startedAt, now: at(3), policy }, context)).toEqual({
      outcome: 'WAIT',
      waitSeconds: 5,
      until: at(180).toISOString(),
    });
    expect(await awaitPayment(orderId, { startedAt, now: at(13), policy }, context)).toEqual({
      outcome: 'WAIT',
      waitSeconds: 10,
      until: at(180).toISOString(),
    });
    expect(await types()).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAwaited']);
    expect(await stock()).toEqual({ available: 8, reserved: 2, sold: 0 });
  });

  it('gives up past the bound; giving up rejects the order PAYMENT_UNAVAILABLE with its stock back', async () => {
    const { context, orderId, types, stock } = await given();
    await awaitPayment(orderId, { startedAt, now: at(3), policy }, context);
    expect(await awaitPayment(orderId, { startedAt, now: at(181), policy }, context)).toEqual({ outcome: 'GIVE_UP' });

    expect(await abandonOrder(orderId, context, deadGateway, memoryParking().parking, 'PAYMENT_UNAVAILABLE')).toEqual({
      outcome: 'REJECTED',
      payment: 'NOTHING',
    });
    expect(await types()).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAwaited', 'OrderRejected']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('keeps the bound the order recorded when its saga is started again: it gives up when the order said', async () => {
    const { context, orderId } = await given();
    await awaitPayment(orderId, { startedAt, now: at(3), policy }, context);
    // Its saga ended (a restart, an abort); one started by hand 100 s later counts from the first, not from itself.
    const restartedAt = at(100);
    expect(await awaitPayment(orderId, { startedAt: restartedAt, now: at(101), policy }, context)).toMatchObject({
      outcome: 'WAIT',
      until: at(180).toISOString(),
    });
    expect(await awaitPayment(orderId, { startedAt: restartedAt, now: at(181), policy }, context)).toEqual({
      outcome: 'GIVE_UP',
    });
  });

  it('stops once the order was cancelled while it waited', async () => {
    const { context, orderId } = await given();
    await awaitPayment(orderId, { startedAt, now: at(3), policy }, context);
    await cancelOrder({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, context);
    expect(await awaitPayment(orderId, { startedAt, now: at(8), policy }, context)).toEqual({ outcome: 'STOP' });
  });
});
