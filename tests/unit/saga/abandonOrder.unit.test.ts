import { describe, expect, it } from 'vitest';
import { cancelOrder } from '../../../application/orders.js';
import type { PaymentGateway } from '../../../application/paymentGateway.js';
import { readStock } from '../../../application/products.js';
import { retryParkedCompensation } from '../../../application/compensation.js';
import {
  abandonOrder,
  authorizePayment,
  confirmOrder,
  type PaymentWaitPolicy,
  voidParked,
} from '../../../application/saga.js';
import { type PendingOrders, type SagaExecutions, sweepPendingOrders } from '../../../application/sweeper.js';
import { memoryGateway } from '../../support/memoryGateway.js';
import { memoryParking } from '../../support/memoryParking.js';
import { memoryStore, testContext } from '../../support/memoryStore.js';
import { twoMugsPlaced } from '../../support/shop.js';

const given = async () => {
  const store = memoryStore();
  const context = testContext(store);
  const { gateway, calls, keys, down, up } = memoryGateway();
  // Placed, the order holds its 2 mugs reserved (ADR 0014).
  const orderId = await twoMugsPlaced(context);
  const stock = async () => (await readStock(store, 'MUG-1')).stock;
  const types = async (streamId: string) => (await store.readStream(streamId)).map((e) => e.type);
  return { store, context, gateway, calls, keys, down, up, orderId, stock, types, ...memoryParking() };
};

describe('abandonOrder: the catch-all compensation', () => {
  it('gives back reserved stock, refunds a recorded authorization, and rejects the order UNAVAILABLE', async () => {
    const { context, gateway, calls, orderId, stock, types, parking } = await given();
    await authorizePayment(orderId, context, gateway);

    expect(await stock()).toEqual({ available: 8, reserved: 2, sold: 0 });
    expect(await abandonOrder(orderId, context, gateway, parking)).toEqual({
      outcome: 'REJECTED',
      payment: 'REFUNDED',
    });
    expect(await types(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(calls.filter((c) => c.startsWith('refund'))).toHaveLength(1);
  });

  it('voids at the gateway an authorization whose answer was lost, and records it as authorized and refunded', async () => {
    const { context, gateway, keys, orderId, types, parking } = await given();
    await gateway.authorize({ idempotencyKey: orderId, token: 'tok_visa', amount: { amount: 2500, currency: 'EUR' } });

    expect(await abandonOrder(orderId, context, gateway, parking)).toEqual({
      outcome: 'REJECTED',
      payment: 'REFUNDED',
    });
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(keys.get(orderId)).toMatchObject({ refunded: true, voided: true });
  });

  it('bars the key when nothing was authorized, so a late authorize is declined, and refunds nothing', async () => {
    const { context, gateway, calls, orderId, stock, types, parking } = await given();
    expect(await abandonOrder(orderId, context, gateway, parking)).toEqual({ outcome: 'REJECTED', payment: 'NOTHING' });
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(calls).toEqual([`void ${orderId}`]);
    expect(await types(`payment-${orderId}`)).toEqual([]);
    expect(
      await gateway.authorize({ idempotencyKey: orderId, token: 'tok_visa', amount: { amount: 1, currency: 'EUR' } }),
    ).toEqual({ outcome: 'DECLINED', reason: 'voided' });
  });

  it('never touches a CONFIRMED order, even when ConfirmOrder committed and then failed', async () => {
    const { store, context, gateway, calls, orderId, stock, parking, parked } = await given();
    await authorizePayment(orderId, context, gateway);
    await confirmOrder(orderId, context);
    const before = store.readAll().length;

    const untouched = await abandonOrder(orderId, context, gateway, parking);
    expect(untouched).toEqual({ outcome: 'NOT_PENDING', status: 'CONFIRMED' });
    expect(store.readAll()).toHaveLength(before);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(calls).toEqual([`authorize ${orderId}`]);
    // No void parked for it either: one would be a Step Functions execution per sweep, for nothing.
    expect(parked).toEqual([]);
  });

  it('leaves a CANCELLED order to its cancellation', async () => {
    const { store, context, gateway, calls, orderId, parking, parked } = await given();
    await cancelOrder({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, context);
    const before = store.readAll().length;
    expect(await abandonOrder(orderId, context, gateway, parking)).toEqual({
      outcome: 'NOT_PENDING',
      status: 'CANCELLED',
    });
    expect(store.readAll()).toHaveLength(before);
    expect(calls).toEqual([]);
    expect(parked).toEqual([]);
  });

  it('claims the order before it touches the payment: a confirmation that lands first keeps its payment and stock', async () => {
    const { context, gateway, calls, orderId, stock, types, parked } = await given();
    await authorizePayment(orderId, context, gateway);
    // A saga that started late (or a second EXPRESS execution) confirms the order while the give-up parks its void.
    const racing = {
      park: async (request: { orderId: string; correlationId: string; kind: 'GIVE_UP' | 'CANCELLATION' }) => {
        await confirmOrder(orderId, context);
        parked.push(request);
        return true;
      },
    };

    expect(await abandonOrder(orderId, context, gateway, racing)).toEqual({
      outcome: 'NOT_PENDING',
      status: 'CONFIRMED',
    });
    expect(await types(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized']);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(calls).toEqual([`authorize ${orderId}`]);
  });

  it('lets no confirmation land once it has rejected: the step loses its version condition and stops', async () => {
    const { context, gateway, calls, orderId, stock, types, parking } = await given();
    await authorizePayment(orderId, context, gateway);
    // The confirmation comes while the give-up voids, after its rejection.
    const racing: PaymentGateway = {
      ...gateway,
      refund: async (request) => {
        const answer = await gateway.refund(request);
        expect(await confirmOrder(orderId, context)).toBe('STOP');
        return answer;
      },
    };

    expect(await abandonOrder(orderId, context, racing, parking)).toEqual({ outcome: 'REJECTED', payment: 'REFUNDED' });
    expect(await types(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(calls).toEqual([`authorize ${orderId}`, `refund ${orderId}`]);
  });

  it('does nothing the second time', async () => {
    const { store, context, gateway, calls, orderId, parking, parked } = await given();
    await authorizePayment(orderId, context, gateway);
    await abandonOrder(orderId, context, gateway, parking);
    const [events, gatewayCalls, parkedBefore] = [store.readAll().length, calls.length, parked.length];
    expect(await abandonOrder(orderId, context, gateway, parking)).toEqual({
      outcome: 'NOT_PENDING',
      status: 'REJECTED',
    });
    expect(store.readAll()).toHaveLength(events);
    expect(calls).toHaveLength(gatewayCalls);
    expect(parked).toHaveLength(parkedBefore);
  });
});

describe('abandonOrder while the payment gateway is unavailable', () => {
  const policy: PaymentWaitPolicy = { firstWaitSeconds: 5, maxWaitSeconds: 300, boundSeconds: 3600 };
  const parkedAt = new Date('2026-11-30T10:00:00.000Z');
  const retry = (
    orderId: string,
    seconds: number,
    context: Parameters<typeof retryParkedCompensation>[2],
    gateway: PaymentGateway,
  ) =>
    retryParkedCompensation(
      orderId,
      { parkedAt, now: new Date(parkedAt.getTime() + seconds * 1000), policy },
      context,
      gateway,
    );

  it('parks the void and rejects the order at once, its stock back; once the gateway answers, the parked void refunds the approval', async () => {
    const { context, gateway, keys, down, up, parking, parked, orderId, stock, types } = await given();
    await authorizePayment(orderId, context, gateway);
    down();

    expect(await abandonOrder(orderId, context, gateway, parking, 'PAYMENT_UNAVAILABLE')).toEqual({
      outcome: 'REJECTED',
      payment: 'PARKED',
    });
    expect(parked).toEqual([{ orderId, correlationId: context.metadata.correlationId, kind: 'GIVE_UP' }]);
    expect(await types(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized']);

    expect(await retry(orderId, 0, context, gateway)).toMatchObject({
      outcome: 'WAIT',
      waitSeconds: 5,
      waitingFor: 'GATEWAY',
    });
    // The give-up run again (a retry, or the sweeper) finds its void parked already.
    expect(await abandonOrder(orderId, context, gateway, parking, 'PAYMENT_UNAVAILABLE')).toEqual({
      outcome: 'NOT_PENDING',
      status: 'REJECTED',
    });
    up();
    expect(await retry(orderId, 5, context, gateway)).toEqual({ outcome: 'COMPENSATED', payment: 'REFUNDED' });
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(keys.get(orderId)).toMatchObject({ refunded: true });
    // Done: run again, it refunds nothing more.
    expect(await retry(orderId, 6, context, gateway)).toEqual({ outcome: 'COMPENSATED', payment: 'NOTHING' });
  });

  it('bars the key of an order with nothing authorized once the gateway answers, so a late authorize is declined', async () => {
    const { context, gateway, down, up, parking, orderId } = await given();
    down();
    expect(await abandonOrder(orderId, context, gateway, parking)).toEqual({ outcome: 'REJECTED', payment: 'PARKED' });
    up();
    expect(await retry(orderId, 5, context, gateway)).toEqual({ outcome: 'COMPENSATED', payment: 'NOTHING' });
    expect(
      await gateway.authorize({ idempotencyKey: orderId, token: 'tok_visa', amount: { amount: 1, currency: 'EUR' } }),
    ).toEqual({ outcome: 'DECLINED', reason: 'voided' });
  });

  it('parks before it rejects: a parked void that finds the order still PENDING waits for the rejection', async () => {
    const { context, gateway, down, up, orderId, calls } = await given();
    // The give-up parked the void, then failed before its rejection was appended.
    const failing = { park: async () => Promise.reject(new Error('state machine unreachable')) };
    down();
    await expect(abandonOrder(orderId, context, gateway, failing)).rejects.toThrow('state machine unreachable');
    up();
    expect(await retry(orderId, 5, context, gateway)).toMatchObject({ outcome: 'WAIT', waitingFor: 'REJECTION' });
    // Never rejected (the sweeper has not come): at the bound it is left to an operator, saying what it waited for.
    expect(await retry(orderId, 3600, context, gateway)).toEqual({ outcome: 'GIVE_UP', waitingFor: 'REJECTION' });
    expect(calls).toEqual([]);
  });

  it('says a void was parked already when a give-up is run again after failing between parking and rejecting', async () => {
    const { context, gateway, down, parking, parked, orderId, stock } = await given();
    down();
    // The first give-up parks, then fails before its rejection is appended (its function timed out, say).
    const parksThenFails = {
      park: async (request: Parameters<typeof parking.park>[0]) => {
        await parking.park(request);
        throw new Error('timed out after parking');
      },
    };
    await expect(abandonOrder(orderId, context, gateway, parksThenFails)).rejects.toThrow('timed out after parking');
    expect(await abandonOrder(orderId, context, gateway, parking)).toEqual({
      outcome: 'REJECTED',
      payment: 'ALREADY_PARKED',
    });
    expect(parked).toHaveLength(1);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('fails the step when the void fails for another reason, the order rejected and its void left to the parked one', async () => {
    const { context, gateway, parking, parked, orderId, stock, types } = await given();
    const broken: PaymentGateway = { ...gateway, voidAuthorization: () => Promise.reject(new Error('bad request')) };
    await expect(abandonOrder(orderId, context, broken, parking)).rejects.toThrow('bad request');
    expect(parked).toEqual([{ orderId, correlationId: context.metadata.correlationId, kind: 'GIVE_UP' }]);
    expect(await types(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    // The parked void runs once the order is settled, as any parked one does.
    expect(
      await retryParkedCompensation(
        orderId,
        {
          parkedAt: new Date(),
          now: new Date(),
          policy: { firstWaitSeconds: 5, maxWaitSeconds: 300, boundSeconds: 3600 },
        },
        context,
        gateway,
      ),
    ).toEqual({ outcome: 'COMPENSATED', payment: 'NOTHING' });
  });

  it('keeps the payment of an order a step confirmed as it was given up', async () => {
    const { context, gateway, calls, down, up, orderId, stock } = await given();
    await authorizePayment(orderId, context, gateway);
    let confirmedMeanwhile = false;
    const parking = {
      park: async () => {
        // ConfirmOrder commits between the parking and the rejection, which loses the race and stops.
        await confirmOrder(orderId, context);
        confirmedMeanwhile = true;
        return true;
      },
    };
    down();
    const abandonment = await abandonOrder(orderId, context, gateway, parking);
    expect(abandonment).toEqual({ outcome: 'NOT_PENDING', status: 'CONFIRMED' });
    expect(confirmedMeanwhile).toBe(true);
    expect(voidParked(abandonment)).toBe(false);
    up();
    expect(await retry(orderId, 5, context, gateway)).toEqual({ outcome: 'COMPENSATED', payment: 'NOTHING' });
    expect(calls).toEqual([`authorize ${orderId}`]);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
  });
});

/** These orders as the index lists them, oldest first; `taken` counts those read. */
const listed = (orderIds: string[]) => {
  const read = { taken: 0 };
  const pending: PendingOrders = {
    async *placedBefore() {
      for (const orderId of orderIds) {
        read.taken++;
        yield orderId;
      }
    },
  };
  return { pending, read };
};

/** A sweep now, of every PENDING order (the one `given` placed), its saga running or not as `running` says. */
const sweepNow = async ({ context, gateway, parking, orderId }: Awaited<ReturnType<typeof given>>, running?: boolean) =>
  (
    await sweepPendingOrders({
      now: new Date(),
      pendingAfterMs: 0,
      limit: 10,
      concurrency: 1,
      pending: listed([orderId]).pending,
      executions: { running: async () => running },
      contextFor: async () => context,
      gateway,
      parking,
    })
  ).swept;

describe('sweepPendingOrders', () => {
  it('gives up stale orders whose saga is not running, leaves running ones, and goes on past a failure', async () => {
    const { context, gateway, orderId, parking } = await given();
    const asked: string[] = [];
    const pending: PendingOrders = {
      async *placedBefore(cutoff) {
        asked.push(cutoff);
        yield* ['broken', 'running', orderId];
      },
    };
    const executions: SagaExecutions = {
      running: async (id) => {
        if (id === 'broken') throw new Error('describe failed');
        return id === 'running';
      },
    };
    const { swept, cutShort } = await sweepPendingOrders({
      now: new Date('2026-11-29T12:00:00.000Z'),
      pendingAfterMs: 900_000,
      limit: 50,
      concurrency: 2,
      pending,
      executions,
      contextFor: async () => context,
      gateway,
      parking,
    });
    expect(asked).toEqual(['2026-11-29T11:45:00.000Z']);
    expect(swept.map(({ orderId: id, action }) => [id, action])).toEqual([
      ['broken', 'FAILED'],
      ['running', 'LEFT_RUNNING'],
      [orderId, 'ABANDONED'],
    ]);
    expect(cutShort).toBe(false);
  });

  /** A sweep of `orderIds`, none of whose sagas runs any more; `running` also counts how many are in hand at once. */
  const sweepOf = (orderIds: string[], options: { limit?: number; concurrency?: number; hasTime?: () => boolean }) => {
    const { pending, read } = listed(orderIds);
    const inHand = { now: 0, most: 0 };
    const sweep = sweepPendingOrders({
      now: new Date(),
      pendingAfterMs: 0,
      limit: options.limit ?? 1000,
      concurrency: options.concurrency ?? 4,
      ...(options.hasTime ? { hasTime: options.hasTime } : {}),
      pending,
      executions: {
        running: async () => {
          inHand.most = Math.max(inHand.most, ++inHand.now);
          await new Promise((resolve) => setTimeout(resolve, 2));
          inHand.now--;
          // Every order here is one no stream holds: giving it up fails, as a poison order's would.
          return false;
        },
      },
      contextFor: async () => {
        throw new Error('no such order');
      },
      gateway: memoryGateway().gateway,
      parking: memoryParking().parking,
    });
    return { sweep, read, inHand };
  };
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `order-${i}`);

  it('goes on past orders that keep failing, however many: a few hundred of them starve none behind them', async () => {
    const { sweep, inHand } = sweepOf(ids(600), { concurrency: 4 });
    const { swept, cutShort } = await sweep;
    expect(swept.map((s) => s.orderId)).toEqual(ids(600));
    expect(swept.every((s) => s.action === 'FAILED')).toBe(true);
    expect(cutShort).toBe(false);
    expect(inHand.most).toBe(4);
  });

  it('takes no new order once its time is nearly spent, reads no further, and says the next sweep has more', async () => {
    let asked = 0;
    const { sweep, read } = sweepOf(ids(100), { concurrency: 3, hasTime: () => ++asked <= 10 });
    const { swept, cutShort } = await sweep;
    expect(swept.map((s) => s.orderId)).toEqual(ids(10));
    expect(cutShort).toBe(true);
    // The one it read to know there was more, and no other.
    expect(read.taken).toBe(11);
  });

  it('finishes the orders it took when the index cannot be read further, and says why it stopped', async () => {
    const throttled = new Error('ProvisionedThroughputExceededException');
    const { swept, cutShort, readError } = await sweepPendingOrders({
      now: new Date(),
      pendingAfterMs: 0,
      limit: 100,
      concurrency: 2,
      pending: {
        async *placedBefore() {
          yield* ['a', 'b', 'c'];
          throw throttled;
        },
      },
      executions: { running: async () => true },
      contextFor: async () => {
        throw new Error('not reached: every saga here is running');
      },
      gateway: memoryGateway().gateway,
      parking: memoryParking().parking,
    });
    expect(swept).toEqual(['a', 'b', 'c'].map((orderId) => ({ orderId, action: 'LEFT_RUNNING' })));
    expect(cutShort).toBe(true);
    expect(readError).toBe(throttled);
  });

  it('stops at its limit, with more to take', async () => {
    const { sweep } = sweepOf(ids(30), { limit: 20, concurrency: 1 });
    const { swept, cutShort } = await sweep;
    expect(swept).toHaveLength(20);
    expect(cutShort).toBe(true);
  });

  it('is not cut short when it took the last order at its limit', async () => {
    const { sweep } = sweepOf(ids(20), { limit: 20 });
    expect((await sweep).cutShort).toBe(false);
  });

  it('takes an order it cannot tell about (EXPRESS) as ended, and one settled meanwhile as settled', async () => {
    const shop = await given();
    const sweep = () => sweepNow(shop, undefined);
    expect((await sweep()).map((s) => s.action)).toEqual(['ABANDONED']);
    // The index follows the projection, so it may still list the order: the order's own stream decides.
    expect((await sweep()).map((s) => s.action)).toEqual(['ALREADY_SETTLED']);
  });

  it('rejects a stale order while the gateway is down, its void parked', async () => {
    const shop = await given();
    const { down, parked, orderId, stock } = shop;
    down();
    const [swept] = await sweepNow(shop, false);
    expect(swept).toMatchObject({ action: 'ABANDONED', abandonment: { outcome: 'REJECTED', payment: 'PARKED' } });
    expect(parked.map((p) => p.orderId)).toEqual([orderId]);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
  });
});
