import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../../application/handleCommand.js';
import { cancelOrder, placeOrder } from '../../../application/orders.js';
import { registerProduct } from '../../../application/products.js';
import { awaitPayment, carried, confirmOrder, rejectOrder } from '../../../application/saga.js';
import { orderStreamId, type PlacedOrder } from '../../../domain/order/index.js';
import type { EventStore } from '../../../eventstore/types.js';
import { createLogger, tapLogs } from '../../../functions/observability/logger.js';
import { metrics } from '../../../functions/observability/metrics.js';
import { observedStore, onConflict } from '../../../functions/observability/telemetry.js';
import { ConcurrencyError } from '../../../eventstore/errors.js';
import { unitEnvironment } from '../../support/lambdaEvents.js';
import { memoryStore } from '../../support/memoryStore.js';

const environment = unitEnvironment;

let documents: Record<string, unknown>[] = [];
let untap: () => void;
beforeAll(() => {
  Object.assign(process.env, environment);
  // Outside Lambda the documents go to the taps only.
  untap = tapLogs((line) => {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if ('_aws' in parsed) documents.push(parsed);
  });
});
afterAll(() => untap());
beforeEach(() => {
  metrics().flush();
  documents = [];
});

/** Every value recorded for `name` since the last flush, with the document's extra dimensions. */
const recorded = (name: string): { value: number; dimensions: Record<string, unknown> }[] => {
  metrics().flush();
  return documents.flatMap((doc) => {
    const value = doc[name];
    if (value === undefined) return [];
    const { _aws: _, stage, ...rest } = doc;
    expect(stage).toBe('unit');
    const dimensions = Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v === 'string'));
    return (Array.isArray(value) ? value : [value]).map((v: number) => ({ value: v, dimensions }));
  });
};

const logger = createLogger({ level: 'silent' });
const contextOn = (store: EventStore): CommandContext => ({
  store: observedStore(store),
  metadata: { correlationId: 'c-1', causationId: 'cause-1', commandId: 'command-1', actor: 'test' },
  retry: { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
  onConflict: onConflict(logger),
});

const product = { sku: 'SKU-1', name: 'One', price: { amount: 100, currency: 'EUR' }, stock: 5 };
/** Places an order for `quantity` of SKU-1 under `idempotencyKey`: reserved with it, or rejected out of stock. */
const placeAgain = (context: CommandContext, idempotencyKey = 'key-1', quantity = 1) =>
  placeOrder(
    { customerId: 'customer-1', items: [{ sku: 'SKU-1', quantity }], paymentToken: 'tok_visa', idempotencyKey },
    context,
  );
const givenOrder = async (context: CommandContext) => {
  await registerProduct(product, context);
  return placeAgain(context);
};

describe('order metrics from commands', () => {
  it('counts a placed order once, however often the same placement is replayed', async () => {
    const context = contextOn(memoryStore());
    const { orderId } = await givenOrder(context);
    expect((await placeAgain(context)).orderId).toBe(orderId);
    expect(recorded('OrdersPlaced')).toEqual([{ value: 1, dimensions: {} }]);
  });

  it('counts no conflict and no retry for a placement sent again: its stream exists, which is no contention', async () => {
    const context = contextOn(memoryStore());
    await givenOrder(context);
    metrics().flush();
    documents = [];
    await placeAgain(context);
    await placeAgain(context);
    expect(recorded('CommandConflicts')).toEqual([]);
    expect(recorded('CommandRetries')).toEqual([]);
  });

  it('counts an order rejected out of stock at placement as placed and rejected, once each however often replayed', async () => {
    const context = contextOn(memoryStore());
    await registerProduct(product, context);
    const rejected = await placeAgain(context, 'too-many', product.stock + 1);
    expect(rejected.status).toBe('REJECTED');
    expect(await placeAgain(context, 'too-many', product.stock + 1)).toEqual(rejected);
    expect(recorded('OrdersPlaced')).toEqual([{ value: 1, dimensions: {} }]);
    expect(recorded('OrdersRejected')).toEqual([{ value: 1, dimensions: { reason: 'OUT_OF_STOCK' } }]);
  });

  it('counts a confirmation once when the step runs twice', async () => {
    const context = contextOn(memoryStore());
    const { orderId } = await givenOrder(context);
    await confirmOrder(orderId, context);
    await confirmOrder(orderId, context);
    expect(recorded('OrdersConfirmed')).toEqual([{ value: 1, dimensions: {} }]);
  });

  it('counts a rejection once, by its reason', async () => {
    const context = contextOn(memoryStore());
    const { orderId } = await givenOrder(context);
    await rejectOrder(orderId, 'PAYMENT_DECLINED', context);
    await rejectOrder(orderId, 'PAYMENT_DECLINED', context);
    expect(recorded('OrdersRejected')).toEqual([{ value: 1, dimensions: { reason: 'PAYMENT_DECLINED' } }]);
  });

  it('counts a cancellation once, and nothing for a step that finds the order settled', async () => {
    const context = contextOn(memoryStore());
    const { orderId } = await givenOrder(context);
    const caller = { sub: 'customer-1', isAdmin: false };
    await cancelOrder({ orderId, caller }, context);
    await cancelOrder({ orderId, caller }, context);
    expect(await confirmOrder(orderId, context)).toBe('STOP');
    expect(recorded('OrdersCancelled')).toEqual([{ value: 1, dimensions: {} }]);
    expect(recorded('OrdersConfirmed')).toEqual([]);
  });

  it('counts no conflict when a saga step finds the order moved on from the one it carries (an awaited payment)', async () => {
    const store = memoryStore();
    const context = contextOn(store);
    const { orderId } = await givenOrder(context);
    const [placedEvent] = await store.readStream(orderStreamId(orderId));
    const now = new Date('2026-12-01T12:00:00.000Z');
    const policy = { firstWaitSeconds: 5, maxWaitSeconds: 60, boundSeconds: 900 };
    await awaitPayment(orderId, { startedAt: now, now, policy }, context);
    metrics().flush();
    documents = [];
    expect(await confirmOrder(orderId, context, carried(placedEvent?.data as PlacedOrder))).toBe('PROCEED');
    expect(recorded('CommandConflicts')).toEqual([]);
    expect(recorded('CommandRetries')).toEqual([]);
    expect(recorded('OrdersConfirmed')).toEqual([{ value: 1, dimensions: {} }]);
  });

  it('counts every lost race, the retries after them, and the outcome only once it commits', async () => {
    const store = memoryStore();
    const { orderId } = await givenOrder(contextOn(store));
    metrics().flush();
    documents = [];
    // The first two appends lose their race; the third commits.
    let losses = 2;
    const racing: EventStore = {
      ...store,
      append: (...args) =>
        losses-- > 0 ? Promise.reject(new ConcurrencyError([`order-${orderId}`])) : store.append(...args),
    };
    await confirmOrder(orderId, contextOn(racing));
    metrics().flush();
    const count = (name: string) => recorded(name).reduce((sum, { value }) => sum + value, 0);
    expect(count('CommandConflicts')).toBe(2);
    expect(count('CommandRetries')).toBe(2);
    expect(count('OrdersConfirmed')).toBe(1);
  });

  it('counts a race the command gives up on as a conflict without a retry', async () => {
    const store = memoryStore();
    const { orderId } = await givenOrder(contextOn(store));
    metrics().flush();
    documents = [];
    const losing: EventStore = { ...store, append: () => Promise.reject(new ConcurrencyError([`order-${orderId}`])) };
    await expect(confirmOrder(orderId, contextOn(losing))).rejects.toThrow(ConcurrencyError);
    const count = (name: string) => recorded(name).reduce((sum, { value }) => sum + value, 0);
    // Three attempts: three lost races, two retries, no confirmation.
    expect(count('CommandConflicts')).toBe(3);
    expect(count('CommandRetries')).toBe(2);
    expect(count('OrdersConfirmed')).toBe(0);
  });
});
