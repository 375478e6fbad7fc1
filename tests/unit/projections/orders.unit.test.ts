import { describe, expect, it } from 'vitest';
import type { OrderEvent, RejectionReason } from '../../../domain/order/index.js';
import { OrderView, ordersProjection } from '../../../projections/index.js';
import { PENDING_SHARDS, pendingShardOf, publicView } from '../../../projections/orders.js';
import { eur, mugAndTea, orderPlaced } from '../../support/orderEvents.js';
import { at, foldView, givenView, stored } from './givenView.js';

const orderId = 'o-1';
const streamId = `order-${orderId}`;
const paymentToken = 'tok_secret_4242';
const lines = mugAndTea;
const placed = orderPlaced(orderId, paymentToken);
const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { orderId } };
const rejected = (reason: RejectionReason): OrderEvent => ({ type: 'OrderRejected', data: { orderId, reason } });
const cancelled = (previousStatus: 'PENDING' | 'CONFIRMED'): OrderEvent => ({
  type: 'OrderCancelled',
  data: { orderId, previousStatus },
});

/** The view right after OrderPlaced, at version 1. */
const pending: OrderView = {
  orderId,
  customerId: 'customer-1',
  status: 'PENDING',
  lines,
  total: eur(3997),
  placedAt: at(1),
  updatedAt: at(1),
};

/** The keys of the sparse pending index, which the stored item carries while the order is PENDING. */
const pendingIndex = { pendingShard: pendingShardOf(orderId), pendingSince: at(1) };

const spec = givenView(ordersProjection, streamId);

describe('orders projection', () => {
  it('reads order streams and keys each view by order id', () => {
    expect(ordersProjection.name).toBe('orders');
    expect(ordersProjection.streamPrefix).toBe('order-');
    expect(ordersProjection.key('order-3f2a-order-b')).toEqual({ orderId: '3f2a-order-b' });
  });

  describe('OrderPlaced', () => {
    it('creates a pending view with the lines, total and placement time, in the pending index', () => {
      spec([])
        .when(placed)
        .then({ ...pending, ...pendingIndex });
    });

    it('never copies the payment token into the view', () => {
      const view = spec([])
        .when(placed)
        .then({ ...pending, ...pendingIndex });
      expect(JSON.stringify(view)).not.toContain(paymentToken);
      expect(view).not.toHaveProperty('paymentToken');
    });

    it('throws when the stream already has a view: one OrderPlaced per stream, a second one is corruption', () => {
      spec([placed])
        .when(placed)
        .thenThrows(/order-o-1: OrderPlaced at version 2 again/);
    });
  });

  describe('OrderConfirmed', () => {
    it('confirms the order and records when', () => {
      spec([placed])
        .when(confirmed)
        .then({ ...pending, status: 'CONFIRMED', confirmedAt: at(2), updatedAt: at(2) });
    });

    it('takes when the saga confirmed it, which the cancellation window counts from, where the event says', () => {
      const confirmedAt = '2026-12-03T09:00:00.000Z';
      spec([placed])
        .when({ type: 'OrderConfirmed', data: { orderId, confirmedAt } })
        .then({ ...pending, status: 'CONFIRMED', confirmedAt, updatedAt: at(2) });
    });
  });

  describe('OrderRejected', () => {
    it.each(['OUT_OF_STOCK', 'PAYMENT_DECLINED', 'PAYMENT_UNAVAILABLE', 'UNAVAILABLE'] as const)(
      'rejects the order with its reason (%s)',
      (reason) => {
        spec([placed])
          .when(rejected(reason))
          .then({ ...pending, status: 'REJECTED', rejectionReason: reason, rejectedAt: at(2), updatedAt: at(2) });
      },
    );

    it('shows which of its lines were short, when the rejection says', () => {
      const [line] = pending.lines;
      const outOfStock = [line?.sku ?? ''];
      spec([placed])
        .when({ type: 'OrderRejected', data: { orderId, reason: 'OUT_OF_STOCK', outOfStock } })
        .then({
          ...pending,
          status: 'REJECTED',
          rejectionReason: 'OUT_OF_STOCK',
          outOfStock,
          rejectedAt: at(2),
          updatedAt: at(2),
        });
    });
  });

  describe('PaymentAwaited', () => {
    const until = '2026-11-30T10:03:00.000Z';
    const awaited: OrderEvent = { type: 'PaymentAwaited', data: { orderId, since: at(1), until } };

    it('says why the order is still PENDING, and until when at most, keeping it in the pending index', () => {
      spec([placed])
        .when(awaited)
        .then({
          ...pending,
          ...pendingIndex,
          pendingReason: 'AWAITING_PAYMENT',
          awaitingPaymentUntil: until,
          updatedAt: at(2),
        });
    });

    it('leaves a settled order as it is when a late one comes (a stream written before the rule, or replayed)', () => {
      spec([placed, confirmed])
        .when(awaited)
        .then({ ...pending, status: 'CONFIRMED', confirmedAt: at(2), updatedAt: at(2) });
    });

    it('drops the reason once the order settles', () => {
      spec([placed, awaited])
        .when(confirmed)
        .then({ ...pending, status: 'CONFIRMED', confirmedAt: at(3), updatedAt: at(3) });
      spec([placed, awaited])
        .when(rejected('PAYMENT_UNAVAILABLE'))
        .then({
          ...pending,
          status: 'REJECTED',
          rejectionReason: 'PAYMENT_UNAVAILABLE',
          rejectedAt: at(3),
          updatedAt: at(3),
        });
    });
  });

  describe('OrderCancelled', () => {
    it('cancels a pending order', () => {
      spec([placed])
        .when(cancelled('PENDING'))
        .then({ ...pending, status: 'CANCELLED', cancelledAt: at(2), updatedAt: at(2) });
    });

    it('cancels a confirmed order and keeps when it was confirmed', () => {
      spec([placed, confirmed])
        .when(cancelled('CONFIRMED'))
        .then({ ...pending, status: 'CANCELLED', confirmedAt: at(2), cancelledAt: at(3), updatedAt: at(3) });
    });
  });

  describe('an event before OrderPlaced (out of order, or a poison stream)', () => {
    it.each([
      ['OrderConfirmed', confirmed],
      ['OrderRejected', rejected('OUT_OF_STOCK')],
      ['OrderCancelled', cancelled('PENDING')],
    ])('throws on %s instead of inventing a view', (type, event) => {
      spec([])
        .when(event)
        .thenThrows(new RegExp(`^order-o-1: ${type} at version 1 before OrderPlaced$`));
    });
  });

  describe('OrderView schema', () => {
    const history = stored(streamId, [placed, confirmed, cancelled('CONFIRMED')]);
    const views = history.map((_, n) => foldView(ordersProjection, history.slice(0, n + 1)));

    it('accepts every view the projection builds, less the pending index keys', () => {
      for (const view of views) {
        if (!view) throw new Error('no view');
        expect(OrderView.parse(view)).toStrictEqual(publicView(view));
      }
    });

    it('keeps the pending index keys while PENDING only, so the sparse index holds nothing settled', () => {
      expect(views.map((view) => view && 'pendingSince' in view)).toEqual([true, false, false]);
      for (const settled of [confirmed, rejected('UNAVAILABLE'), cancelled('PENDING')]) {
        const view = foldView(ordersProjection, stored(streamId, [placed, settled]));
        expect(view).not.toHaveProperty('pendingSince');
        expect(view).not.toHaveProperty('pendingShard');
      }
    });

    it('spreads pending orders over every shard of the index, the same shard for the same order', () => {
      const shards = new Set(Array.from({ length: 200 }, (_, i) => pendingShardOf(`order-${i}`)));
      expect([...shards].sort()).toEqual(Array.from({ length: PENDING_SHARDS }, (_, i) => String(i)));
      expect(pendingShardOf(orderId)).toBe(pendingShardOf(orderId));
    });

    it('strips whatever else a stored item carries, a stray payment token included', () => {
      const item = { ...pending, version: 1, paymentToken };
      expect(OrderView.parse(item)).toStrictEqual(pending);
    });
  });
});

describe('the view a client sees', () => {
  it('lists its fields in the schema’s order, as a read of the table parses them: one ETag, one body, to the byte', () => {
    const folded = foldView(ordersProjection, stored(streamId, [placed, rejected('OUT_OF_STOCK')]));
    if (!folded) throw new Error('no view folded');
    const readBack = OrderView.parse(JSON.parse(JSON.stringify(folded)));
    expect(JSON.stringify(publicView(folded))).toBe(JSON.stringify(readBack));
    expect(Object.keys(publicView(folded))).not.toContain('pendingShard');
  });
});
