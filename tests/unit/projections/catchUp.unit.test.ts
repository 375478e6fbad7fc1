import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ZodError } from 'zod';
import { product, type ProductCommand, type ProductEvent } from '../../../domain/inventory/index.js';
import { order, type OrderCommand, type OrderEvent } from '../../../domain/order/index.js';
import type { Decider } from '../../../domain/shared/decider.js';
import { DomainError } from '../../../domain/shared/errors.js';
import type { DomainEvent, StoredEvent } from '../../../eventstore/types.js';
import {
  catchUp,
  ProjectionApplyError,
  productsProjection,
  ordersProjection,
  type StoredProductView,
  type Projection,
  type ReadRange,
  type Versioned,
} from '../../../projections/index.js';
import { foldView, stored } from './givenView.js';

const numRuns = 300;

// ---------------------------------------------------------------------------------------------------------------
// Streams that could exist: whatever the deciders append for random commands, refusals skipped.

const decided = <State, Command, Event>(decider: Decider<State, Command, Event>, commands: Command[]): Event[] => {
  let state = decider.initialState();
  const events: Event[] = [];
  for (const command of commands) {
    let appended: Event[];
    try {
      appended = decider.decide(command, state);
    } catch (error) {
      if (error instanceof DomainError) continue;
      throw error;
    }
    events.push(...appended);
    state = appended.reduce(decider.evolve, state);
  }
  return events;
};

const orderId = 'o-1';
const orderStreamId = `order-${orderId}`;
const placeOrder: OrderCommand = {
  type: 'PlaceOrder',
  data: {
    orderId,
    customerId: 'customer-1',
    lines: [{ sku: 'MUG-1', quantity: 2, unitPrice: { amount: 1250, currency: 'EUR' } }],
    paymentToken: 'tok_approve',
  },
};
/** OrderPlaced, then whatever confirming, rejecting and cancelling leave: one to three events. */
const orderEvents: fc.Arbitrary<OrderEvent[]> = fc
  .array(
    fc.oneof(
      fc.constant<OrderCommand>({ type: 'ConfirmOrder', data: { orderId } }),
      fc
        .constantFrom('OUT_OF_STOCK' as const, 'PAYMENT_DECLINED' as const)
        .map((reason): OrderCommand => ({ type: 'RejectOrder', data: { orderId, reason } })),
      fc.constant<OrderCommand>({ type: 'CancelOrder', data: { orderId } }),
    ),
    { maxLength: 6 },
  )
  .map((commands) => decided(order, [placeOrder, ...commands]));

const sku = 'MUG-1';
const skuStreamId = `product-${sku}`;
const registerProduct: ProductCommand = {
  type: 'RegisterProduct',
  data: { sku, name: 'Stoneware mug', unitPrice: { amount: 1250, currency: 'EUR' }, initialStock: 12 },
};
/** ProductRegistered, then up to 40 restocks: a product stream holds nothing else. */
const productEvents: fc.Arbitrary<ProductEvent[]> = fc
  .array(
    fc.integer({ min: 1, max: 8 }).map((q): ProductCommand => ({ type: 'RestockProduct', data: { sku, quantity: q } })),
    { maxLength: 40 },
  )
  .map((commands) => decided(product, [registerProduct, ...commands]));

// ---------------------------------------------------------------------------------------------------------------
// Deliveries as Kinesis may make them: batches of record indexes, duplicated, reordered, with gaps.

/** One delivered copy of a record: `shift` moves it to an earlier or later batch than its turn, `rank` sorts a batch. */
const copy = fc.record({
  shift: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) }),
  rank: fc.nat(),
});
/** Most records are delivered once; some never (a gap until the store fills it), some several times. */
const copies = fc.oneof(
  { weight: 6, arbitrary: copy.map((one) => [one]) },
  { weight: 2, arbitrary: fc.constant([]) },
  { weight: 2, arbitrary: fc.array(copy, { minLength: 2, maxLength: 3 }) },
);
const maxBatches = 8;

/** Splits records `0..n-1` into batches in stream order, then perturbs them; some batches are redelivered whole. */
const delivery = (n: number): fc.Arbitrary<number[][]> =>
  fc
    .record({
      batchCount: fc.integer({ min: 1, max: maxBatches }),
      copies: fc.array(copies, { minLength: n, maxLength: n }),
      redelivered: fc.array(
        fc.integer({ min: 0, max: 3 }).map((draw) => draw === 0),
        { minLength: maxBatches, maxLength: maxBatches },
      ),
    })
    .map(({ batchCount, copies, redelivered }) => {
      const batches = Array.from({ length: batchCount }, (): { index: number; rank: number }[] => []);
      copies.forEach((placements, index) => {
        const turn = Math.floor((index * batchCount) / n);
        for (const { shift, rank } of placements) {
          batches[Math.min(batchCount - 1, Math.max(0, turn + shift))]?.push({ index, rank });
        }
      });
      const indexes = batches.map((batch) => batch.sort((a, b) => a.rank - b.rank).map(({ index }) => index));
      // A consumer that fails is handed the same batch again.
      return indexes.flatMap((batch, i) => (redelivered[i] ? [batch, batch] : [batch]));
    });

// ---------------------------------------------------------------------------------------------------------------

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};

const recordAt = <E>(stream: E[], index: number): E => {
  const record = stream[index];
  if (record === undefined) throw new Error(`no record at index ${index}`);
  return record;
};

/** The event store, as far as `catchUp` sees it: the whole stream in memory, and a log of what was asked. */
const storeOf = (stream: StoredEvent[]) =>
  vi.fn<ReadRange>(async (streamId, after, to) =>
    stream.filter((event) => event.streamId === streamId && event.version > after && event.version <= to),
  );

/** How often each path ran, so a passing property is not a vacuous one. */
type Paths = { fromBatch: number; fromStore: number; duplicatesOnly: number; streamsWithGaps: number };

/**
 * Delivers `events` batch by batch, then one last batch with the final record, carrying the view between calls as
 * the runner does. After every batch the view is the ordered fold up to the highest version seen; at the end it is
 * the fold of the whole stream.
 */
const deliver = async <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  streamId: string,
  events: Event[],
  batches: number[][],
  paths: Paths,
): Promise<void> => {
  // Frozen, so an evolve that mutates an event or the previous view throws instead of passing by luck.
  const stream = deepFreeze(stored(streamId, events));
  const n = stream.length;
  const delivered = new Set(batches.flat());
  if (delivered.size < n) paths.streamsWithGaps++;

  let current: Versioned<View | undefined> = { view: undefined, version: 0 };
  for (const indexes of [...batches, [n - 1]]) {
    const records = indexes.map((index) => recordAt(stream, index));
    const target = Math.max(current.version, ...records.map((record) => record.version));
    const covered = new Set(records.map((record) => record.version).filter((version) => version > current.version));
    const readRange = storeOf(stream);

    const result = await catchUp(projection, streamId, current, records, readRange);

    // The store is asked at most once, only within (current.version, target], and only when the batch has a gap.
    expect(readRange.mock.calls.length).toBeLessThanOrEqual(1);
    for (const [id, after, to] of readRange.mock.calls) {
      expect(id).toBe(streamId);
      expect(after).toBeGreaterThanOrEqual(current.version);
      expect(to).toBeLessThanOrEqual(target);
      expect(after).toBeLessThan(to);
    }
    expect(result.readFromStore).toBe(readRange.mock.calls.length === 1);
    expect(result.readFromStore).toBe(covered.size < target - current.version);

    expect(result.version).toBe(target);
    expect(result.applied).toBe(target - current.version);
    expect(result.view).toStrictEqual(foldView(projection, stream.slice(0, target)));
    if (target === current.version) {
      expect(readRange).not.toHaveBeenCalled();
      expect(result.view).toBe(current.view);
      if (records.length > 0) paths.duplicatesOnly++;
    } else if (result.readFromStore) paths.fromStore++;
    else paths.fromBatch++;

    current = { view: deepFreeze(result.view), version: result.version };
  }
  expect(current.version).toBe(n);
  expect(current.view).toStrictEqual(foldView(projection, stream));
};

const checkCatchUp = async <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  streamId: string,
  streams: fc.Arbitrary<Event[]>,
): Promise<void> => {
  const paths: Paths = { fromBatch: 0, fromStore: 0, duplicatesOnly: 0, streamsWithGaps: 0 };
  const scenario = streams.chain((events) => delivery(events.length).map((batches) => ({ events, batches })));
  await fc.assert(
    fc.asyncProperty(scenario, ({ events, batches }) => deliver(projection, streamId, events, batches, paths)),
    { numRuns },
  );
  // Not vacuous: batches were applied as delivered and through the store, duplicates were skipped, gaps were met.
  for (const [path, count] of Object.entries(paths)) expect(count, path).toBeGreaterThan(20);
};

describe('catchUp', () => {
  describe('delivered duplicated, reordered and with gaps, ends where the ordered fold ends', () => {
    it('for order streams', async () => {
      await checkCatchUp(ordersProjection, orderStreamId, orderEvents);
    });

    it('for product streams', async () => {
      await checkCatchUp(productsProjection, skuStreamId, productEvents);
    });
  });

  describe('examples', () => {
    const stream = stored<ProductEvent>(skuStreamId, [
      { type: 'ProductRegistered', data: { ...registerProduct.data, initialStock: 12 } },
      { type: 'ProductRestocked', data: { sku, quantity: 3 } },
      { type: 'ProductRestocked', data: { sku, quantity: 2 } },
      { type: 'ProductRestocked', data: { sku, quantity: 4 } },
      { type: 'ProductRestocked', data: { sku, quantity: 1 } },
    ]);
    /** The record at a version. */
    const v = (version: number) => recordAt(stream, version - 1);
    /** The view as stored after `version`. */
    const upTo = (version: number): Versioned<StoredProductView | undefined> => ({
      view: foldView(productsProjection, stream.slice(0, version)),
      version,
    });

    it('applies a contiguous batch in version order without reading the store', async () => {
      const readRange = storeOf(stream);
      const result = await catchUp(productsProjection, skuStreamId, upTo(1), [v(4), v(2), v(3), v(2)], readRange);
      expect(result).toStrictEqual({ ...upTo(4), applied: 3, readFromStore: false });
      expect(readRange).not.toHaveBeenCalled();
    });

    it('fills a gap from the store, asking for exactly the missing range', async () => {
      const readRange = storeOf(stream);
      const result = await catchUp(productsProjection, skuStreamId, upTo(2), [v(5), v(3)], readRange);
      expect(result).toStrictEqual({ ...upTo(5), applied: 3, readFromStore: true });
      expect(readRange.mock.calls).toEqual([[skuStreamId, 2, 5]]);
    });

    it.each([
      ['pure duplicates', () => [v(3), v(1), v(2), v(3)]],
      ['an empty batch', () => []],
    ])('returns the view unchanged with applied 0, without reading the store, for %s', async (_, batch) => {
      const readRange = storeOf(stream);
      const current = upTo(3);
      const result = await catchUp(productsProjection, skuStreamId, current, batch(), readRange);
      expect(result).toStrictEqual({ ...current, applied: 0, readFromStore: false });
      expect(result.view).toBe(current.view);
      expect(readRange).not.toHaveBeenCalled();
    });

    it.each([
      ['nothing', []],
      ['a short answer', [2, 3, 5]],
      ['a hole filled with a duplicate', [2, 3, 3, 5]],
      ['versions out of order', [2, 4, 3, 5]],
      ['more than was asked for', [1, 2, 3, 4, 5]],
    ])('refuses to skip a gap when the store answers %s', async (_, versions) => {
      const readRange = vi.fn<ReadRange>(async () => versions.map(v));
      await expect(catchUp(productsProjection, skuStreamId, upTo(1), [v(5)], readRange)).rejects.toThrow(
        new Error(`${skuStreamId}: expected versions 2..5 from the store`),
      );
      expect(readRange.mock.calls).toEqual([[skuStreamId, 1, 5]]);
    });

    it("rejects a record that does not parse as one of the projection's events: a poison event", async () => {
      const foreign: StoredEvent = { ...v(2), type: 'PaymentAuthorized' };
      const error = await catchUp(productsProjection, skuStreamId, upTo(1), [foreign], storeOf(stream)).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProjectionApplyError);
      expect(error).toMatchObject({ projection: 'products', streamId: skuStreamId, version: 2, applied: upTo(1) });
      expect((error as Error).cause).toBeInstanceOf(ZodError);
    });

    it('reports how far it got before the poison event, so the runner keeps that progress', async () => {
      const [first, second] = stream;
      if (!first || !second) throw new Error('the stream is too short');
      const poison: StoredEvent = { ...v(3), type: 'PaymentAuthorized' };
      const error = await catchUp(
        productsProjection,
        skuStreamId,
        upTo(0),
        [first, second, poison],
        storeOf(stream),
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ version: 3, applied: upTo(2) });
    });

    it('throws when the first event of a stream does not create the view', async () => {
      const confirmed = stored<OrderEvent>(orderStreamId, [{ type: 'OrderConfirmed', data: { orderId } }]);
      const first = { view: undefined, version: 0 };
      const error = await catchUp(ordersProjection, orderStreamId, first, confirmed, storeOf(confirmed)).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: 'ProjectionApplyError', version: 1, applied: first });
      expect((error as Error).cause).toEqual(
        new Error(`${orderStreamId}: OrderConfirmed at version 1 before OrderPlaced`),
      );
    });
  });
});
