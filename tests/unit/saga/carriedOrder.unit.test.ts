import { describe, expect, it } from 'vitest';
import { handleCommand } from '../../../application/handleCommand.js';
import { cancelOrder } from '../../../application/orders.js';
import { readStock } from '../../../application/products.js';
import {
  authorizePayment,
  awaitPayment,
  compensateCancellation,
  carried,
  confirmOrder,
  rejectOrder,
} from '../../../application/saga.js';
import { orderAggregate } from '../../../application/aggregates.js';
import { order, orderStreamId, type PlacedOrder } from '../../../domain/order/index.js';
import type { EventStore, ReadOptions } from '../../../eventstore/types.js';
import type { PaymentGateway } from '../../../application/paymentGateway.js';
import { memoryGateway } from '../../support/memoryGateway.js';
import { memoryStore, testContext } from '../../support/memoryStore.js';
import { twoMugsPlaced } from '../../support/shop.js';

/**
 * A store that counts its reads, and whose eventually consistent reads can be made stale: they then answer the
 * stream as it was before its last `stale` events, as a replica that has not caught up would.
 */
const observedStore = (store: EventStore) => {
  const reads: { streamId: string; consistent: boolean }[] = [];
  let stale = 0;
  const observed: EventStore = {
    ...store,
    async readStream(streamId, options: ReadOptions = {}) {
      const consistent = options.consistent ?? true;
      reads.push({ streamId, consistent });
      const events = await store.readStream(streamId, options);
      return consistent ? events : events.slice(0, Math.max(0, events.length - stale));
    },
  };
  return {
    store: observed,
    reads,
    staleBy: (n: number) => {
      stale = n;
    },
  };
};

const NOW = '2026-11-29T12:00:00.000Z';

const given = async () => {
  const base = memoryStore();
  const observed = observedStore(base);
  const context = testContext(observed.store);
  const { gateway: memory, calls } = memoryGateway();
  // The tokens the gateway was asked to authorize with.
  const tokens: string[] = [];
  const gateway: PaymentGateway = {
    ...memory,
    authorize: (request) => {
      tokens.push(request.token);
      return memory.authorize(request);
    },
  };
  const orderId = await twoMugsPlaced(context);
  // Placement reserved the order's stock with it (ADR 0014): the saga starts from version 2, as its steps assume.
  const [placedEvent] = await base.readStream(orderStreamId(orderId));
  const placed = carried(placedEvent?.data as PlacedOrder);
  observed.reads.length = 0;
  const types = async (streamId: string) => (await base.readStream(streamId)).map((e) => e.type);
  const stock = async () => (await readStock(base, 'MUG-1')).stock;
  return { ...observed, context, gateway, calls, tokens, orderId, placed, types, stock };
};

describe('saga steps with the order the execution carries', () => {
  it('confirms an order that awaited its payment, reading it once, and tells of no lost race: nothing raced it', async () => {
    const { context, orderId, placed, reads, types } = await given();
    const policy = { firstWaitSeconds: 5, maxWaitSeconds: 60, boundSeconds: 900 };
    await awaitPayment(orderId, { startedAt: new Date(NOW), now: new Date(NOW), policy }, context);
    reads.length = 0;
    const told: { retrying: boolean; assumed: boolean }[] = [];
    const confirmed = await confirmOrder(
      orderId,
      { ...context, onConflict: (_error, _attempt, how) => told.push(how) },
      placed,
    );
    expect(confirmed).toBe('PROCEED');
    // The carried order is at version 2 and the stream at 3: its condition refuses it, and the step reads the order.
    expect(told).toEqual([{ retrying: true, assumed: true }]);
    expect(reads).toEqual([{ streamId: orderStreamId(orderId), consistent: true }]);
    expect((await types(orderStreamId(orderId))).at(-1)).toBe('OrderConfirmed');
  });

  it('confirms the order placement left reserved and sells its stock, without reading a stream', async () => {
    const { context, orderId, placed, reads, types, stock } = await given();
    expect(await stock()).toEqual({ available: 8, reserved: 2, sold: 0 });
    expect(await confirmOrder(orderId, context, placed)).toBe('PROCEED');
    expect(reads).toEqual([]);
    expect(await types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
  });

  it('authorize reads the order for the token the execution does not carry, in one eventually consistent read', async () => {
    const { context, gateway, tokens, orderId, placed, reads, types } = await given();
    expect(placed).not.toHaveProperty('paymentToken');
    expect(await authorizePayment(orderId, context, gateway, placed)).toBe('PROCEED');
    expect(reads).toEqual([{ streamId: orderStreamId(orderId), consistent: false }]);
    expect(tokens).toEqual(['tok_visa']);
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized']);
  });

  it('a step run again finds its assumption stale, reads, and appends nothing more', async () => {
    const { context, gateway, calls, orderId, placed, reads, types, stock } = await given();
    await authorizePayment(orderId, context, gateway, placed);
    await authorizePayment(orderId, context, gateway, placed);
    expect(calls).toEqual([`authorize ${orderId}`, `authorize ${orderId}`]);
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized']);

    reads.length = 0;
    expect(await confirmOrder(orderId, context, placed)).toBe('PROCEED');
    expect(reads).toEqual([]);
    // The order is at version 3 now, not the assumed 2: the append's condition fails, and the step reads it.
    expect(await confirmOrder(orderId, context, placed)).toBe('PROCEED');
    expect(reads).toEqual([{ streamId: orderStreamId(orderId), consistent: true }]);
    expect(await types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
  });

  it('a cancellation made before authorize: the card is never charged, and the next step stops too', async () => {
    const { context, gateway, calls, orderId, placed, types, stock } = await given();
    await cancelOrder({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, context);
    expect(await authorizePayment(orderId, context, gateway, placed)).toBe('STOP');
    expect(calls).toEqual([]);
    expect(await confirmOrder(orderId, context, placed)).toBe('STOP');
    expect(await types(`payment-${orderId}`)).toEqual([]);
    expect(await types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled']);
    // The cancellation gave the reserved units back as it was appended.
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('a cancellation the replica has not shown yet is charged, and the compensation refunds it (ADR 0015)', async () => {
    const { context, gateway, calls, orderId, placed, types, staleBy } = await given();
    await cancelOrder({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, context);
    // As a cancellation landing while the gateway answers: the step sees the order PENDING.
    staleBy(1);
    expect(await authorizePayment(orderId, context, gateway, placed)).toBe('PROCEED');
    expect(calls).toEqual([`authorize ${orderId}`]);
    expect(await confirmOrder(orderId, context, placed)).toBe('STOP');
    expect(await compensateCancellation(orderId, context, gateway)).toBe('REFUNDED');
    expect(calls).toEqual([`authorize ${orderId}`, `refund ${orderId}`]);
    expect(await types(`payment-${orderId}`)).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
  });

  it('a payment awaited meanwhile makes the assumed order stale too: the step reads it and still confirms', async () => {
    const { context, orderId, placed, reads, types, stock } = await given();
    const policy = { firstWaitSeconds: 5, maxWaitSeconds: 30, boundSeconds: 180 };
    await awaitPayment(orderId, { startedAt: new Date(NOW), now: new Date(NOW), policy }, context);
    reads.length = 0;
    expect(await confirmOrder(orderId, context, placed)).toBe('PROCEED');
    expect(reads).toEqual([{ streamId: orderStreamId(orderId), consistent: true }]);
    expect(await types(orderStreamId(orderId))).toEqual([
      'OrderPlaced',
      'StockReserved',
      'PaymentAwaited',
      'OrderConfirmed',
    ]);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
  });

  it('rejects a declined order and gives its reserved stock back, without reading a stream', async () => {
    const { context, orderId, placed, reads, types, stock } = await given();
    expect(await rejectOrder(orderId, 'PAYMENT_DECLINED', context, placed)).toBe('PROCEED');
    expect(reads).toEqual([]);
    expect(await types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
  });
});

describe('reads that are not strongly consistent', () => {
  it('a stale read that would append nothing is read again strongly consistently before it is believed', async () => {
    const { context, orderId, staleBy, reads, types } = await given();
    // The replica has not seen the reservation yet: on it alone, this decision (act only on reserved stock) is nothing.
    staleBy(1);
    await handleCommand(
      orderAggregate,
      orderStreamId(orderId),
      (current) =>
        current.status === 'PENDING' && current.stockReserved
          ? order.decide({ type: 'AwaitPayment', data: { orderId, since: NOW, until: NOW } }, current)
          : [],
      context,
    );
    expect(reads.map((r) => r.consistent)).toEqual([false, true]);
    expect(await types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAwaited']);
  });

  it('authorize reads the token strongly consistently when the replica has not seen the order yet', async () => {
    const { context, gateway, tokens, orderId, placed, staleBy, reads } = await given();
    // A step run moments after placement: the replica has nothing of the order. Believed, the step would find no
    // order and the saga would give a healthy one up.
    staleBy(2);
    expect(await authorizePayment(orderId, context, gateway, placed)).toBe('PROCEED');
    expect(reads).toEqual([
      { streamId: orderStreamId(orderId), consistent: false },
      { streamId: orderStreamId(orderId), consistent: true },
    ]);
    expect(tokens).toEqual(['tok_visa']);
  });

  it('a stale read that appends loses the version condition and decides again on a consistent read', async () => {
    const { context, orderId, staleBy, reads, types, stock } = await given();
    // Stale, the order holds nothing, so rejecting it would give nothing back: the append's condition refuses that.
    staleBy(1);
    await rejectOrder(orderId, 'PAYMENT_DECLINED', context);
    expect(reads.map((r) => r.consistent)).toEqual([false, true]);
    expect(await types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
  });

  it('a refusal on a stale read is taken again on a consistent one', async () => {
    const { context, orderId, staleBy, types, stock } = await given();
    staleBy(1);
    // Stale, the order holds no reserved stock and cannot be confirmed; consistently read, it does.
    await handleCommand(
      orderAggregate,
      orderStreamId(orderId),
      (current) => order.decide({ type: 'ConfirmOrder', data: { orderId } }, current),
      context,
    );
    expect(await types(orderStreamId(orderId))).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    expect(await stock()).toEqual({ available: 8, reserved: 0, sold: 2 });
  });
});
