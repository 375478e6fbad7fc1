import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { type Aggregate, productAggregate } from '../../application/aggregates.js';
import { decision, handleCommand, handleCommands, load } from '../../application/handleCommand.js';
import { readStock } from '../../application/products.js';
import { product, productStreamId, type ProductState } from '../../domain/inventory/index.js';
import { fold } from '../../domain/shared/decider.js';
import {
  AppendTooLargeError,
  BalanceChangedError,
  BalanceTooLowError,
  ClaimTakenError,
  ConcurrencyError,
  InvalidAppendError,
  StreamVersionsError,
  UpcasterError,
} from '../../eventstore/errors.js';
import type { DomainEvent, EventStore } from '../../eventstore/types.js';
import { type EventSchemaRegistry, eventSchemaRegistry, type Upcaster } from '../../eventstore/upcasting.js';
import { testMetadata, uniqueId } from './metadata.js';

/** How the contract gets at a store: the DynamoDB one on DynamoDB Local, or the in-memory one. */
export type EventStoreHarness = {
  /**
   * A store reading and writing through `schemas`. Every store a harness makes shares one database, as two releases
   * with different registries share a table: what one appends, the others read.
   */
  store(schemas: EventSchemaRegistry): EventStore;
};

const restocked = (quantity: number) => ({ type: 'ProductRestocked', data: { sku: 'X', quantity } });
const randomSuffix = () => Math.random().toString(36).slice(2, 10).toUpperCase();

/**
 * A stock-holding stream of the contract's own: one `UnitsHeld` event, appended once, moving one SKU's balance from
 * available to reserved. Not an order: on DynamoDB Local the stack's saga starts on every `OrderPlaced` it sees, and
 * would go on to sell what the contract holds.
 */
const UnitsHeld = z.strictObject({
  type: z.literal('UnitsHeld'),
  data: z.strictObject({ sku: z.string(), quantity: z.int().min(1) }),
});
type UnitsHeld = z.infer<typeof UnitsHeld>;
const holdAggregate: Aggregate<{ held: boolean }, UnitsHeld['data'], UnitsHeld> = {
  name: 'hold',
  decider: {
    initialState: () => ({ held: false }),
    decide: (data, state) => (state.held ? [] : [{ type: 'UnitsHeld', data }]),
    evolve: () => ({ held: true }),
  },
  events: UnitsHeld,
  moves: ({ data: { sku, quantity } }) => [
    { balanceId: `stock-${sku}`, delta: { available: -quantity, reserved: quantity, sold: 0 } },
  ],
};
const holding = (streamId: string, sku: string, quantity: number) =>
  decision(holdAggregate, streamId, (state) => holdAggregate.decider.decide({ sku, quantity }, state));

/**
 * The event store port's contract: what the application may rely on from any EventStore. Registers its tests in the
 * calling file, once per store: tests/int/eventStore.int.test.ts runs it on DynamoDB Local,
 * tests/unit/eventstore/memoryEventStore.unit.test.ts on the in-memory store. Stream ids are unique per test, so the
 * stores may be shared with other tests.
 */
export const eventStoreContract = (name: string, harness: EventStoreHarness): void => {
  const events = harness.store(eventSchemaRegistry());

  describe(`${name} event store: appends and reads`, () => {
    it('reads back what it appended, in order, inside the full envelope', async () => {
      const streamId = uniqueId('es');
      const metadata = testMetadata({ actor: 'customer-1' });
      const now = new Date('2026-11-23T10:00:00.000Z');
      const result = await events.append(
        [{ streamId, expectedVersion: 0, events: [restocked(1), restocked(2)] }],
        metadata,
        { now },
      );
      expect(result).toEqual([{ streamId, version: 2 }]);

      const read = await events.readStream(streamId);
      expect(read).toHaveLength(2);
      expect(read.map((e) => [e.version, e.type, e.data])).toEqual([
        [1, 'ProductRestocked', { sku: 'X', quantity: 1 }],
        [2, 'ProductRestocked', { sku: 'X', quantity: 2 }],
      ]);
      for (const event of read) {
        expect(event).toMatchObject({ streamId, schemaVersion: 1, recordedAt: now.toISOString(), metadata });
        expect(event.eventId).toMatch(/^[0-9a-f-]{36}$/);
      }
      expect(read[0]?.eventId).not.toEqual(read[1]?.eventId);
      // A read after an append's last version gets the appends after it; one bounded inside an append gets the
      // events up to the bound.
      await events.append([{ streamId, expectedVersion: 2, events: [restocked(3)] }], metadata, { now });
      expect((await events.readStream(streamId, { afterVersion: 2 })).map((e) => e.version)).toEqual([3]);
      expect(await events.readStream(streamId, { toVersion: 1 })).toHaveLength(1);
    });

    it('reads the window between afterVersion and toVersion, eventually consistently too, and nothing of a stream never written', async () => {
      const streamId = uniqueId('window');
      await events.append([{ streamId, expectedVersion: 0, events: [restocked(1)] }], testMetadata());
      await events.append([{ streamId, expectedVersion: 1, events: [2, 3, 4].map(restocked) }], testMetadata());
      await events.append([{ streamId, expectedVersion: 4, events: [restocked(5)] }], testMetadata());
      const window = await events.readStream(streamId, { afterVersion: 1, toVersion: 3 });
      expect(window.map((e) => [e.version, e.data.quantity])).toEqual([
        [2, 2],
        [3, 3],
      ]);
      expect((await events.readStream(streamId, { consistent: false })).map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
      expect(await events.readStream(streamId, { afterVersion: 5 })).toEqual([]);
      // A read may start inside an append (versions 2..4 are one): a view a poison event stopped at 2 reads on.
      expect((await events.readStream(streamId, { afterVersion: 2, toVersion: 4 })).map((e) => e.version)).toEqual([
        3, 4,
      ]);
      expect((await events.readStream(streamId, { afterVersion: 3 })).map((e) => e.version)).toEqual([4, 5]);
      // …and so may one inside the stream's last append, with nothing after it.
      const last = uniqueId('last');
      await events.append([{ streamId: last, expectedVersion: 0, events: [1, 2, 3].map(restocked) }], testMetadata());
      expect((await events.readStream(last, { afterVersion: 1 })).map((e) => e.version)).toEqual([2, 3]);
      expect(await events.readStream(last, { afterVersion: 3 })).toEqual([]);
      expect((await events.readStream(streamId, { afterVersion: 3, consistent: false })).map((e) => e.version)).toEqual(
        [4, 5],
      );
      // Told that an append ended where it starts, a read finds what follows, and nothing after the last one.
      for (const [after, versions] of [
        [1, [2, 3, 4, 5]],
        [4, [5]],
        [5, []],
      ] as const) {
        const read = await events.readStream(streamId, { afterVersion: after, afterAnAppend: true, consistent: false });
        expect(read.map((e) => e.version)).toEqual(versions);
      }
      // An empty window is empty, not an error: a reader catching up from where it stands may ask for none.
      expect(await events.readStream(streamId, { afterVersion: 3, toVersion: 3 })).toEqual([]);
      expect(await events.readStream(streamId, { afterVersion: 3, toVersion: 0 })).toEqual([]);
      expect(await events.readStream(uniqueId('never'))).toEqual([]);
    });

    it('lets exactly one of 20 concurrent appends at the same expected version win', async () => {
      const streamId = uniqueId('race');
      await events.append([{ streamId, expectedVersion: 0, events: [restocked(1)] }], testMetadata());

      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          events.append([{ streamId, expectedVersion: 1, events: [restocked(i + 10)] }], testMetadata()),
        ),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(19);
      for (const reason of lost) {
        expect(reason).toBeInstanceOf(ConcurrencyError);
        expect((reason as ConcurrencyError).streamIds).toEqual([streamId]);
        // A race over the stream's history, not over who creates it.
        expect((reason as ConcurrencyError).alreadyCreated).toBe(false);
      }
      expect((await events.readStream(streamId)).map((e) => e.version)).toEqual([1, 2]);
    });

    it('tells a stream created by another writer (a resend) from a race over its history, alone or beside a balance', async () => {
      const created = uniqueId('created');
      await events.append([{ streamId: created, expectedVersion: 0, events: [restocked(1)] }], testMetadata());
      const again = (await events
        .append([{ streamId: created, expectedVersion: 0, events: [restocked(1)] }], testMetadata())
        .catch((e: unknown) => e)) as ConcurrencyError;
      expect(again).toBeInstanceOf(ConcurrencyError);
      expect(again.alreadyCreated).toBe(true);
      // In a transaction with another stream and a balance move, as placement appends.
      const move = { balanceId: `stock-D-${randomSuffix()}`, delta: { available: 1, reserved: 0, sold: 0 } };
      const withMove = (await events
        .append(
          [
            { streamId: uniqueId('other'), expectedVersion: 0, events: [restocked(1)] },
            { streamId: created, expectedVersion: 0, events: [restocked(1)] },
          ],
          testMetadata(),
          { moves: [move] },
        )
        .catch((e: unknown) => e)) as ConcurrencyError;
      expect(withMove).toBeInstanceOf(ConcurrencyError);
      expect(withMove.streamIds).toEqual([created]);
      expect(withMove.alreadyCreated).toBe(true);
      // Expecting the stream at a version it has passed is a lost race, even for the creator's own stream.
      await events.append([{ streamId: created, expectedVersion: 1, events: [restocked(1)] }], testMetadata());
      const stale = (await events
        .append([{ streamId: created, expectedVersion: 1, events: [restocked(1)] }], testMetadata())
        .catch((e: unknown) => e)) as ConcurrencyError;
      expect(stale.alreadyCreated).toBe(false);
    });

    it('writes nothing to any stream when one stream of an atomic append is stale, and names only that one', async () => {
      const fresh = uniqueId('fresh');
      const stale = uniqueId('stale');
      // The stale writer read version 1, before the second append: the version it expects ends an append.
      await events.append([{ streamId: stale, expectedVersion: 0, events: [restocked(1)] }], testMetadata());
      await events.append([{ streamId: stale, expectedVersion: 1, events: [restocked(1)] }], testMetadata());

      const error: unknown = await events
        .append(
          [
            { streamId: fresh, expectedVersion: 0, events: [restocked(5)] },
            { streamId: stale, expectedVersion: 1, events: [restocked(5)] },
          ],
          testMetadata(),
        )
        .catch((e: unknown) => e);
      expect(error).toSatisfy((e) => e instanceof ConcurrencyError && e.streamIds.includes(stale));
      expect((error as ConcurrencyError).streamIds).toEqual([stale]);

      expect(await events.readStream(fresh)).toEqual([]);
      expect((await events.readStream(stale)).map((e) => e.version)).toEqual([1, 2]);
    });

    it('commits several streams atomically when all are current', async () => {
      const a = uniqueId('a');
      const b = uniqueId('b');
      const result = await events.append(
        [
          { streamId: a, expectedVersion: 0, events: [restocked(1)] },
          { streamId: b, expectedVersion: 0, events: [restocked(2), restocked(3)] },
        ],
        testMetadata(),
      );
      expect(result).toEqual([
        { streamId: a, version: 1 },
        { streamId: b, version: 2 },
      ]);
      expect(await events.readStream(b)).toHaveLength(2);
    });

    it('appends nothing, and checks nothing, when no stream has an event to add', async () => {
      const streamId = uniqueId('empty');
      await events.append([{ streamId, expectedVersion: 0, events: [restocked(1)] }], testMetadata());
      // A stale expected version with nothing to append is no conflict: there is nothing to write.
      expect(await events.append([{ streamId, expectedVersion: 0, events: [] }], testMetadata())).toEqual([
        { streamId, version: 0 },
      ]);
      expect(await events.readStream(streamId)).toHaveLength(1);
    });

    it('refuses an append beyond DynamoDB transaction limits before writing anything', async () => {
      // One item per stream (ADR 0016): the limits are on streams, and on each stream's events together.
      const streamId = uniqueId('big');
      const streams = (count: number, event: () => DomainEvent) =>
        Array.from({ length: count }, (_, i) => ({
          streamId: `${streamId}-${i}`,
          expectedVersion: 0,
          events: [event()],
        }));
      await expect(
        events.append(
          streams(101, () => restocked(1)),
          testMetadata(),
        ),
      ).rejects.toThrow(AppendTooLargeError);
      const tooHeavy = [{ type: 'Note', data: { text: 'x'.repeat(401 * 1024) } }];
      await expect(events.append([{ streamId, expectedVersion: 0, events: tooHeavy }], testMetadata())).rejects.toThrow(
        AppendTooLargeError,
      );
      // Each event under 400 KB, together over it: one stream's events are one item.
      const together = Array.from({ length: 2 }, () => ({ type: 'Note', data: { text: 'x'.repeat(250 * 1024) } }));
      await expect(events.append([{ streamId, expectedVersion: 0, events: together }], testMetadata())).rejects.toThrow(
        AppendTooLargeError,
      );
      // Each stream under 400 KB, all of them over 4 MB.
      const tooMuch = streams(11, () => ({ type: 'Note', data: { text: 'x'.repeat(390 * 1024) } }));
      await expect(events.append(tooMuch, testMetadata())).rejects.toThrow(AppendTooLargeError);
      // Balance moves and checks count towards the 100 items too.
      await expect(
        events.append(
          streams(99, () => restocked(1)),
          testMetadata(),
          {
            moves: [{ balanceId: `stock-${uniqueId('limit')}`, delta: { available: 1 } }],
            checks: [{ balanceId: `stock-${uniqueId('limit')}`, below: { available: 1 } }],
          },
        ),
      ).rejects.toThrow(AppendTooLargeError);
      for (const id of [streamId, `${streamId}-0`, `${streamId}-98`]) expect(await events.readStream(id)).toEqual([]);
    });

    it('takes 100 streams, 150 events on one stream, and an event just under 400 KB, in one atomic append', async () => {
      const hundred = uniqueId('hundred');
      expect(
        await events.append(
          Array.from({ length: 100 }, (_, i) => ({
            streamId: `${hundred}-${i}`,
            expectedVersion: 0,
            events: [restocked(i)],
          })),
          testMetadata(),
        ),
      ).toHaveLength(100);
      const many = uniqueId('many');
      expect(
        await events.append(
          [{ streamId: many, expectedVersion: 0, events: Array.from({ length: 150 }, (_, i) => restocked(i)) }],
          testMetadata(),
        ),
      ).toEqual([{ streamId: many, version: 150 }]);
      const heavy = uniqueId('heavy');
      await events.append(
        [{ streamId: heavy, expectedVersion: 0, events: [{ type: 'Note', data: { text: 'x'.repeat(399 * 1024) } }] }],
        testMetadata(),
      );
      expect((await events.readStream(`${hundred}-99`))[0]?.data.quantity).toBe(99);
      const read = await events.readStream(many);
      expect(read.map((e) => [e.version, e.data.quantity])).toEqual(Array.from({ length: 150 }, (_, i) => [i + 1, i]));
      expect(new Set(read.map((e) => e.eventId)).size).toBe(150);
      // A read bounded inside the append's events gets those up to the bound.
      expect((await events.readStream(many, { toVersion: 2 })).map((e) => e.version)).toEqual([1, 2]);
      expect(await events.readStream(many, { afterVersion: 150 })).toEqual([]);
      expect((await events.readStream(heavy))[0]?.data.text).toHaveLength(399 * 1024);
    });

    it('refuses an append that names one stream twice, writing nothing, before anything is sent', async () => {
      // DynamoDB refuses a transaction that names one item twice (ValidationException); DynamoDB Local reports it as
      // a failed condition, a race to retry. Every store refuses it itself, as the caller's defect it is.
      const streamId = uniqueId('twice');
      const other = uniqueId('other');
      await expect(
        events.append(
          [
            { streamId: other, expectedVersion: 0, events: [restocked(1)] },
            { streamId, expectedVersion: 0, events: [restocked(1)] },
            { streamId, expectedVersion: 0, events: [restocked(2)] },
          ],
          testMetadata(),
        ),
      ).rejects.toBeInstanceOf(InvalidAppendError);
      expect(await events.readStream(streamId)).toEqual([]);
      expect(await events.readStream(other)).toEqual([]);
    });

    it('refuses to read a stream whose versions do not run on, rather than fold it', async () => {
      // Only a writer that makes an expected version up can leave one: here, a gap.
      const streamId = uniqueId('gap');
      await events.append([{ streamId, expectedVersion: 0, events: [restocked(1)] }], testMetadata());
      await events.append([{ streamId, expectedVersion: 5, events: [restocked(2)] }], testMetadata());
      const error: unknown = await events.readStream(streamId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StreamVersionsError);
      expect(error).toMatchObject({ streamId, expected: 2, found: 6 });
      await expect(events.readStream(streamId, { afterVersion: 1 })).rejects.toBeInstanceOf(StreamVersionsError);
      expect(await events.readStream(streamId, { toVersion: 1 })).toHaveLength(1);
    });

    it('reads a stream of many appends whole and in order', async () => {
      const streamId = uniqueId('long');
      const total = 300;
      for (let from = 0; from < total; from += 50) {
        const batch = Array.from({ length: 50 }, (_, i) => ({ type: 'Numbered', data: { n: from + i } }));
        await events.append([{ streamId, expectedVersion: from, events: batch }], testMetadata());
      }
      const read = await events.readStream(streamId);
      expect(read.map((e) => e.version)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(read.map((e) => e.data.n)).toEqual(Array.from({ length: total }, (_, i) => i));
    });
  });

  describe(`${name} event store: stored data`, () => {
    it('stores a copy: changing what was appended, or what was read, changes nothing stored', async () => {
      const streamId = uniqueId('copy');
      const data = { sku: 'X', lines: [{ quantity: 1 }] };
      await events.append([{ streamId, expectedVersion: 0, events: [{ type: 'Noted', data }] }], testMetadata());
      data.lines[0] = { quantity: 99 };
      const [first] = await events.readStream(streamId);
      expect(first?.data).toEqual({ sku: 'X', lines: [{ quantity: 1 }] });
      if (first) first.data.sku = 'changed';
      expect((await events.readStream(streamId))[0]?.data).toEqual({ sku: 'X', lines: [{ quantity: 1 }] });
    });

    it('leaves undefined fields out, in objects and in lists, as the document client does', async () => {
      const streamId = uniqueId('undefined');
      const data = { kept: 1, dropped: undefined, nested: { also: undefined, here: true }, list: [1, undefined, 2] };
      await events.append([{ streamId, expectedVersion: 0, events: [{ type: 'Noted', data }] }], testMetadata());
      const [event] = await events.readStream(streamId);
      expect(Object.keys(event?.data ?? {}).sort()).toEqual(['kept', 'list', 'nested']);
      expect(event?.data).toStrictEqual({ kept: 1, nested: { here: true }, list: [1, 2] });
    });

    it.each([
      ['a Date', { at: new Date('2026-01-01') }],
      ['a number past 2^53 - 1', { units: 2 ** 60 }],
      // The item's `data` is its first level: 31 more lists inside it, and a map in the last, make 33.
      [
        'lists and maps nested past 32 levels',
        { deep: Array.from({ length: 30 }).reduce<unknown>((inner) => [inner], { x: 1 }) },
      ],
    ])('refuses data DynamoDB cannot store (%s), writing nothing', async (_, data) => {
      const streamId = uniqueId('unstorable');
      const error: unknown = await events
        .append([{ streamId, expectedVersion: 0, events: [{ type: 'Noted', data }] }], testMetadata())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ConcurrencyError);
      expect(await events.readStream(streamId)).toEqual([]);
    });

    it('stores data nested exactly as deep as DynamoDB allows, in an item’s first event and in those after it', async () => {
      const nested = (levels: number) => ({
        deep: Array.from({ length: levels }).reduce<unknown>((inner) => [inner], { x: 1 }),
      });
      const streamId = uniqueId('deep');
      await events.append(
        [{ streamId, expectedVersion: 0, events: [{ type: 'Noted', data: nested(29) }] }],
        testMetadata(),
      );
      expect((await events.readStream(streamId))[0]?.data).toEqual(nested(29));
      // An append's later events ride in its item's `following` list, each a map: two levels deeper.
      const appendOfTwo = (levels: number) =>
        events.append(
          [
            {
              streamId: uniqueId('deeper'),
              expectedVersion: 0,
              events: [restocked(1), { type: 'Noted', data: nested(levels) }],
            },
          ],
          testMetadata(),
        );
      await expect(appendOfTwo(27)).resolves.toBeDefined();
      const error: unknown = await appendOfTwo(28).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ConcurrencyError);
    });
  });

  describe(`${name} event store: upcasting`, () => {
    // Version 1 of this event kept the price flat; version 2 nests it as Money.
    const flatPrice: Upcaster = ({ priceCents, currency, ...rest }) => ({
      ...rest,
      unitPrice: { amount: priceCents, currency },
    });

    it('brings an event stored in an older shape up to date through its upcaster', async () => {
      const streamId = uniqueId('legacy');
      // Written by a release whose registry knew only version 1.
      const legacy = harness.store(eventSchemaRegistry());
      await legacy.append(
        [
          {
            streamId,
            expectedVersion: 0,
            events: [
              {
                type: 'ProductRegistered',
                data: { sku: 'OLD-1', name: 'Old', priceCents: 250, currency: 'EUR', initialStock: 3 },
              },
            ],
          },
        ],
        testMetadata(),
        { now: new Date('2025-01-01T00:00:00.000Z') },
      );
      const schemas = eventSchemaRegistry({ ProductRegistered: { 1: flatPrice } });
      const [event] = await harness.store(schemas).readStream(streamId);
      expect(event).toMatchObject({
        schemaVersion: 2,
        recordedAt: '2025-01-01T00:00:00.000Z',
        data: { sku: 'OLD-1', name: 'Old', unitPrice: { amount: 250, currency: 'EUR' }, initialStock: 3 },
      });
      expect(event?.data).not.toHaveProperty('priceCents');
      const { state } = await load(harness.store(schemas), { ...productAggregate, snapshot: undefined }, streamId);
      expect(state).toMatchObject({
        status: 'REGISTERED',
        initialStock: 3,
        unitPrice: { amount: 250, currency: 'EUR' },
      });
      // Upcasting is on read: the stored event keeps its shape, and the old release still reads it as written.
      expect((await legacy.readStream(streamId))[0]).toMatchObject({ schemaVersion: 1, data: { priceCents: 250 } });
    });

    it('refuses a read an upcaster throws on with an UpcasterError naming the stream and version, for its reader to park', async () => {
      const streamId = uniqueId('unreadable');
      await harness.store(eventSchemaRegistry()).append(
        [
          {
            streamId,
            expectedVersion: 0,
            // Its second event, at schema version 1: the error names the stream's version and the schema's apart.
            events: [
              { type: 'ProductNoted', data: {} },
              { type: 'ProductRegistered', data: { sku: 'OLD-2', name: 'Old', priceCents: 1, currency: 'EUR' } },
            ],
          },
        ],
        testMetadata(),
      );
      const broken = eventSchemaRegistry({
        ProductRegistered: {
          1: () => {
            throw new TypeError('no price here');
          },
        },
      });
      const error = await harness
        .store(broken)
        .readStream(streamId)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UpcasterError);
      expect(error).toMatchObject({
        streamId,
        version: 2,
        type: 'ProductRegistered',
        schemaVersion: 1,
        message: `The upcaster of ProductRegistered from schema version 1 throws on ${streamId}@2: TypeError: no price here`,
      });
    });

    it('stamps new events with the current schema version and reads them without upcasting', async () => {
      const streamId = uniqueId('current');
      let upcasts = 0;
      const schemas = eventSchemaRegistry({
        ProductRegistered: {
          1: (data) => {
            upcasts++;
            return flatPrice(data);
          },
        },
      });
      const current = harness.store(schemas);
      const data = { sku: 'NEW-1', name: 'New', unitPrice: { amount: 100, currency: 'EUR' }, initialStock: 1 };
      await current.append(
        [{ streamId, expectedVersion: 0, events: [{ type: 'ProductRegistered', data }] }],
        testMetadata(),
      );
      const [event] = await current.readStream(streamId);
      expect(event).toMatchObject({ schemaVersion: 2, data });
      expect(upcasts).toBe(0);
    });

    it('marks an event a later release wrote at a newer schema version, for its readers to refuse', async () => {
      const streamId = uniqueId('newer');
      const data = { sku: 'NEW-2', name: 'New', unitPrice: { amount: 100, currency: 'EUR' }, initialStock: 1 };
      await harness
        .store(eventSchemaRegistry({ ProductRegistered: { 1: flatPrice } }))
        .append([{ streamId, expectedVersion: 0, events: [{ type: 'ProductRegistered', data }] }], testMetadata());
      // Read after a rollback, by the release that knows version 1 only: as written, marked.
      const [event] = await harness.store(eventSchemaRegistry()).readStream(streamId);
      expect(event).toMatchObject({ schemaVersion: 2, data, newerSchema: true });
    });
  });

  describe(`${name} event store: command handling`, () => {
    const register = (sku: string, stock: number) =>
      handleCommand(
        productAggregate,
        productStreamId(sku),
        (state) =>
          product.decide(
            {
              type: 'RegisterProduct',
              data: { sku, name: sku, unitPrice: { amount: 100, currency: 'EUR' }, initialStock: stock },
            },
            state,
          ),
        { store: events, metadata: testMetadata() },
      );

    it('retries lost races, so 10 concurrent restocks all land', async () => {
      const sku = `R-${randomSuffix()}`;
      await register(sku, 0);
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: 10 }, () =>
          handleCommand(
            productAggregate,
            productStreamId(sku),
            (state) => product.decide({ type: 'RestockProduct', data: { sku, quantity: 3 } }, state),
            {
              store: events,
              metadata: testMetadata(),
              retry: { attempts: 20, baseDelayMs: 5, maxDelayMs: 100 },
              onConflict: () => conflicts++,
            },
          ),
        ),
      );
      const { state, version } = await load(events, productAggregate, productStreamId(sku));
      expect(version).toBe(11);
      expect(state).toMatchObject({ restocked: 30 });
      expect(await readStock(events, sku, { consistent: true })).toEqual({
        stock: { available: 30, reserved: 0, sold: 0 },
        version: 11,
      });
      expect(conflicts).toBeGreaterThan(0);
    });

    it('gives up with a ConcurrencyError after its bounded attempts', async () => {
      const sku = `G-${randomSuffix()}`;
      await register(sku, 0);
      // A store whose every append loses the race.
      const losing = { ...events, append: () => Promise.reject(new ConcurrencyError([productStreamId(sku)])) };
      const conflicts: { retrying: boolean; assumed: boolean }[] = [];
      await expect(
        handleCommand(
          productAggregate,
          productStreamId(sku),
          (state) => product.decide({ type: 'RestockProduct', data: { sku, quantity: 1 } }, state),
          {
            store: losing,
            metadata: testMetadata(),
            retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
            onConflict: (_error, _attempt, how) => conflicts.push(how),
          },
        ),
      ).rejects.toThrow(ConcurrencyError);
      // Each of the three attempts told, the last as given up.
      expect(conflicts).toEqual([
        { retrying: true, assumed: false },
        { retrying: true, assumed: false },
        { retrying: false, assumed: false },
      ]);
    });

    it('appends nothing for a decision that changes nothing', async () => {
      const sku = `N-${randomSuffix()}`;
      await register(sku, 5);
      const streamId = uniqueId('hold');
      const context = { store: events, metadata: testMetadata() };
      const first = await handleCommands([holding(streamId, sku, 2)], context);
      const second = await handleCommands([holding(streamId, sku, 2)], context);
      expect(first[0]?.events).toHaveLength(1);
      expect(second[0]?.events).toEqual([]);
      expect(await events.readStream(streamId)).toHaveLength(1);
      expect((await readStock(events, sku, { consistent: true })).stock).toEqual({
        available: 3,
        reserved: 2,
        sold: 0,
      });
    });

    it('loads a long stream from its snapshot plus the tail, to the same state as a full fold', async () => {
      const sku = `S-${randomSuffix()}`;
      await register(sku, 1_000);
      const context = { store: events, metadata: testMetadata() };
      for (let i = 0; i < 129; i++) {
        await handleCommand(
          productAggregate,
          productStreamId(sku),
          (state) => product.decide({ type: 'RestockProduct', data: { sku, quantity: 1 + (i % 3) } }, state),
          context,
        );
      }
      const snapshot = await events.readSnapshot<ProductState>(
        productStreamId(sku),
        productAggregate.snapshot?.schema ?? '',
      );
      expect(snapshot?.version).toBe(100);

      const fromSnapshot = await load(events, productAggregate, productStreamId(sku));
      const all = await events.readStream(productStreamId(sku));
      const fullFold = fold(
        product,
        all.map((e) => productAggregate.events.parse({ type: e.type, data: e.data })),
      );
      expect(fromSnapshot.version).toBe(all.length);
      expect(fromSnapshot.state).toEqual(fullFold);
      // A snapshot under another state schema is ignored rather than misread.
      expect(await events.readSnapshot(productStreamId(sku), 'product-state-0')).toBeUndefined();
    });
  });

  describe(`${name} event store: snapshots`, () => {
    it('keeps the newest snapshot of a schema: an older one, or another of the same version, does not replace it', async () => {
      const streamId = uniqueId('snap');
      expect(await events.readSnapshot(streamId, 'state-1')).toBeUndefined();
      await events.writeSnapshot({ streamId, version: 100, state: { n: 100 }, schema: 'state-1' });
      await events.writeSnapshot({ streamId, version: 50, state: { n: 50 }, schema: 'state-1' });
      await events.writeSnapshot({ streamId, version: 100, state: { n: -1 }, schema: 'state-1' });
      expect(await events.readSnapshot(streamId, 'state-1')).toEqual({
        streamId,
        version: 100,
        schema: 'state-1',
        state: { n: 100 },
      });
      await events.writeSnapshot({ streamId, version: 200, state: { n: 200 }, schema: 'state-1' });
      expect(await events.readSnapshot(streamId, 'state-1', { consistent: false })).toMatchObject({
        version: 200,
        state: { n: 200 },
      });
    });

    it('lets a snapshot of a new state schema replace the old one, whatever its version', async () => {
      const streamId = uniqueId('reshaped');
      await events.writeSnapshot({ streamId, version: 200, state: { n: 200 }, schema: 'state-1' });
      await events.writeSnapshot({ streamId, version: 10, state: { m: 10 }, schema: 'state-2' });
      expect(await events.readSnapshot(streamId, 'state-1')).toBeUndefined();
      expect(await events.readSnapshot(streamId, 'state-2')).toEqual({
        streamId,
        version: 10,
        schema: 'state-2',
        state: { m: 10 },
      });
    });

    it('ignores a snapshot folded under other upcasters, which this release would not fold to the same state', async () => {
      const streamId = uniqueId('upcast');
      await events.writeSnapshot({ streamId, version: 100, state: { name: 'Mug' }, schema: 'state-1' });
      const upcasting = harness.store(
        eventSchemaRegistry({
          ProductRegistered: { 1: (data) => ({ ...data, name: String(data.name).toUpperCase() }) },
        }),
      );
      expect(await upcasting.readSnapshot(streamId, 'state-1')).toBeUndefined();
      // Its own snapshot replaces the other whatever its version, and each release reads only its own.
      await upcasting.writeSnapshot({ streamId, version: 90, state: { name: 'MUG' }, schema: 'state-1' });
      expect(await upcasting.readSnapshot(streamId, 'state-1')).toEqual({
        streamId,
        version: 90,
        schema: 'state-1',
        state: { name: 'MUG' },
      });
      expect(await events.readSnapshot(streamId, 'state-1')).toBeUndefined();
    });

    it('keeps a snapshot as JSON: a copy of the state written, with dates as their ISO strings', async () => {
      const streamId = uniqueId('json');
      const state = { items: ['a'], at: new Date('2026-11-23T10:00:00.000Z'), gone: undefined };
      await events.writeSnapshot({ streamId, version: 1, state, schema: 'state-1' });
      state.items.push('b');
      const read = await events.readSnapshot<{ items: string[]; at: string }>(streamId, 'state-1');
      expect(read?.state).toStrictEqual({ items: ['a'], at: '2026-11-23T10:00:00.000Z' });
    });
  });

  /**
   * The balance contract: a balance moves only with the events that move it, never below zero, and its condition,
   * not a stream version, serializes its writers.
   */
  describe(`${name} event store: balances`, () => {
    const registered = async (target: EventStore, sku: string, initialStock: number) => {
      await handleCommand(
        productAggregate,
        productStreamId(sku),
        (state) =>
          product.decide(
            {
              type: 'RegisterProduct',
              data: { sku, name: sku, unitPrice: { amount: 1, currency: 'EUR' }, initialStock },
            },
            state,
          ),
        { store: target, metadata: testMetadata() },
      );
    };

    it('moves a balance in the same write as the events that move it, and counts its moves', async () => {
      const sku = `B-${randomSuffix()}`;
      expect(await events.readBalance(`stock-${sku}`, { consistent: true })).toBeUndefined();
      await registered(events, sku, 5);
      await handleCommands([holding(uniqueId('hold'), sku, 2), holding(uniqueId('hold'), sku, 1)], {
        store: events,
        metadata: testMetadata(),
      });
      expect(await readStock(events, sku, { consistent: true })).toEqual({
        stock: { available: 2, reserved: 3, sold: 0 },
        version: 2,
      });
      expect(await events.readBalance(`stock-${sku}`, { consistent: true })).toEqual({
        balanceId: `stock-${sku}`,
        counts: { available: 2, reserved: 3, sold: 0 },
        version: 2,
      });
    });

    it('reads several balances in one read: those that exist, by id, each as a single read gives it', async () => {
      const skus = [`M-${randomSuffix()}`, `N-${randomSuffix()}`];
      for (const [i, sku] of skus.entries()) await registered(events, sku, i + 1);
      const ids = [...skus.map((sku) => `stock-${sku}`), `stock-NONE-${randomSuffix()}`];
      // Eventually consistent: DynamoDB Local answers at once, and a store may lag, so it is read until it shows both.
      let found = await events.readBalances(ids);
      for (let attempt = 0; found.size < 2 && attempt < 20; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        found = await events.readBalances(ids);
      }
      expect([...found.keys()].sort()).toEqual(ids.slice(0, 2).sort());
      for (const id of ids.slice(0, 2))
        expect(found.get(id)).toEqual(await events.readBalance(id, { consistent: true }));
      expect(await events.readBalances([])).toEqual(new Map());
      // 101 ids, one past a BatchGetItem's 100 keys, the same id twice among them.
      const many = [...Array.from({ length: 100 }, (_, i) => `stock-X-${i}-${randomSuffix()}`), ids[0] ?? ''];
      expect([...(await events.readBalances([...many, ids[0] ?? ''])).keys()]).toEqual([ids[0]]);
    });

    it('refuses a move below zero with BalanceTooLowError, writing nothing of the append', async () => {
      const sku = `L-${randomSuffix()}`;
      await registered(events, sku, 2);
      const first = uniqueId('hold');
      const error: unknown = await handleCommands([holding(first, sku, 1), holding(uniqueId('hold'), sku, 2)], {
        store: events,
        metadata: testMetadata(),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BalanceTooLowError);
      expect((error as BalanceTooLowError).balanceIds).toEqual([`stock-${sku}`]);
      // The balance as the refusing write saw it.
      expect((error as BalanceTooLowError).current).toEqual({ available: 2, reserved: 0, sold: 0 });
      expect(await events.readStream(first)).toEqual([]);
      expect((await readStock(events, sku, { consistent: true })).stock).toEqual({
        available: 2,
        reserved: 0,
        sold: 0,
      });
    });

    it('refuses to take a count that does not exist below zero', async () => {
      const balanceId = `stock-${uniqueId('none')}`;
      const streamId = uniqueId('unbalanced');
      const error: unknown = await events
        .append([{ streamId, expectedVersion: 0, events: [restocked(1)] }], testMetadata(), {
          moves: [{ balanceId, delta: { available: -1, reserved: 1 } }],
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BalanceTooLowError);
      expect((error as BalanceTooLowError).balanceIds).toEqual([balanceId]);
      expect(await events.readStream(streamId)).toEqual([]);
      expect(await events.readBalance(balanceId, { consistent: true })).toBeUndefined();
    });

    it('answers a lost stream race as a ConcurrencyError, to retry, even when the balance would refuse too', async () => {
      const sku = `C-${randomSuffix()}`;
      await registered(events, sku, 1);
      const streamId = uniqueId('hold');
      const held = { type: 'UnitsHeld', data: { sku, quantity: 1 } };
      const move = { balanceId: `stock-${sku}`, delta: { available: -1, reserved: 1, sold: 0 } };
      await events.append([{ streamId, expectedVersion: 0, events: [held] }], testMetadata(), { moves: [move] });
      await expect(
        events.append([{ streamId, expectedVersion: 0, events: [held] }], testMetadata(), { moves: [move] }),
      ).rejects.toBeInstanceOf(ConcurrencyError);
    });

    it('commits an append checked against a balance only while each checked count is below its bound', async () => {
      const sku = `K-${randomSuffix()}`;
      await registered(events, sku, 2);
      const check = (below: number) => ({ balanceId: `stock-${sku}`, below: { available: below } });
      const short = uniqueId('short');
      await events.append([{ streamId: short, expectedVersion: 0, events: [restocked(1)] }], testMetadata(), {
        checks: [check(3)],
      });
      expect(await events.readStream(short)).toHaveLength(1);
      const stocked = uniqueId('stocked');
      const error: unknown = await events
        .append([{ streamId: stocked, expectedVersion: 0, events: [restocked(1)] }], testMetadata(), {
          checks: [check(2)],
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BalanceChangedError);
      expect((error as BalanceChangedError).balanceIds).toEqual([`stock-${sku}`]);
      expect(await events.readStream(stocked)).toEqual([]);
      // A check moves nothing: the balance is as registered, with one move.
      expect(await events.readBalance(`stock-${sku}`, { consistent: true })).toEqual({
        balanceId: `stock-${sku}`,
        counts: { available: 2, reserved: 0, sold: 0 },
        version: 1,
      });
    });

    it('refuses balance moves and checks it could not commit atomically, writing nothing', async () => {
      const balanceId = `stock-${uniqueId('shape')}`;
      const streamId = uniqueId('shaped');
      const move = { balanceId, delta: { available: 1 } };
      const refusal = (appendEvents: DomainEvent[], options: Parameters<EventStore['append']>[2]) =>
        events.append([{ streamId, expectedVersion: 0, events: appendEvents }], testMetadata(), options).then(
          () => 'committed',
          (e: unknown) => (e instanceof InvalidAppendError ? 'refused' : e),
        );
      // A move with no event would leave the balance changed with nothing in any stream to say why.
      expect(await refusal([], { moves: [move] })).toBe('refused');
      expect(await refusal([], { checks: [{ balanceId, below: { available: 1 } }] })).toBe('refused');
      // DynamoDB refuses a transaction that touches one item twice, and an empty condition.
      expect(await refusal([restocked(1)], { moves: [move], checks: [{ balanceId, below: { available: 5 } }] })).toBe(
        'refused',
      );
      expect(await refusal([restocked(1)], { checks: [{ balanceId, below: {} }] })).toBe('refused');
      expect(await events.readStream(streamId)).toEqual([]);
      expect(await events.readBalance(balanceId, { consistent: true })).toBeUndefined();
    });

    it('counts a balance never moved as zero for a check, and answers a lost stream race first', async () => {
      const balanceId = `stock-${uniqueId('unmoved')}`;
      const streamId = uniqueId('checked');
      await events.append([{ streamId, expectedVersion: 0, events: [restocked(1)] }], testMetadata(), {
        checks: [{ balanceId, below: { available: 1 } }],
      });
      await expect(
        events.append([{ streamId, expectedVersion: 0, events: [restocked(1)] }], testMetadata(), {
          checks: [{ balanceId, below: { available: 0 } }],
        }),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(
        events.append([{ streamId, expectedVersion: 1, events: [restocked(1)] }], testMetadata(), {
          checks: [{ balanceId, below: { available: 0 } }],
        }),
      ).rejects.toBeInstanceOf(BalanceChangedError);
      expect(await events.readStream(streamId)).toHaveLength(1);
    });

    it('sells exactly the stock to 40 concurrent buyers of one SKU: the rest are refused, none oversold', async () => {
      const sku = `H-${randomSuffix()}`;
      await registered(events, sku, 15);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40 }, () =>
          handleCommands([holding(uniqueId('hold'), sku, 1)], {
            store: events,
            metadata: testMetadata(),
            retry: { attempts: 50, baseDelayMs: 2, maxDelayMs: 50 },
          }),
        ),
      );
      const refused = outcomes.filter((o) => o.status === 'rejected');
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(15);
      expect(refused).toHaveLength(25);
      for (const outcome of refused) expect(outcome.reason).toBeInstanceOf(BalanceTooLowError);
      expect((await readStock(events, sku, { consistent: true })).stock).toEqual({
        available: 0,
        reserved: 15,
        sold: 0,
      });
    });
  });

  /** The claim contract: an id one append alone may ever take, refused to any later one with what the first said. */
  describe(`${name} event store: claims`, () => {
    const claimOf = (claimId: string, quantity: number) => ({ claimId, data: { quantity, kind: 'restock' } });

    it('takes a claim with the events, and refuses it to any later append, with its data, writing nothing', async () => {
      const claimId = `claim-${uniqueId('key')}`;
      const first = uniqueId('claiming');
      await events.append([{ streamId: first, expectedVersion: 0, events: [restocked(3)] }], testMetadata(), {
        claims: [claimOf(claimId, 3)],
      });
      const balanceId = `stock-${uniqueId('claimed')}`;
      const second = uniqueId('claiming');
      const error: unknown = await events
        .append([{ streamId: second, expectedVersion: 0, events: [restocked(4)] }], testMetadata(), {
          claims: [claimOf(claimId, 4)],
          moves: [{ balanceId, delta: { available: 4 } }],
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClaimTakenError);
      expect(error).toMatchObject({ claimId, data: { quantity: 3, kind: 'restock' } });
      // Read on its own, as what its append said; a claim no append took reads as none.
      expect(await events.readClaim(claimId)).toEqual({ quantity: 3, kind: 'restock' });
      expect(await events.readClaim(`${claimId}-free`)).toBeUndefined();
      expect(await events.readStream(second)).toEqual([]);
      expect(await events.readBalance(balanceId, { consistent: true })).toBeUndefined();
      // The same stream, later on: the claim holds whatever the stream's version.
      await expect(
        events.append([{ streamId: first, expectedVersion: 1, events: [restocked(3)] }], testMetadata(), {
          claims: [claimOf(claimId, 3)],
        }),
      ).rejects.toBeInstanceOf(ClaimTakenError);
      expect(await events.readStream(first)).toHaveLength(1);
    });

    it('answers a taken claim ahead of a balance that would refuse, and a lost stream race ahead of both', async () => {
      const claimId = `claim-${uniqueId('key')}`;
      const balanceId = `stock-${uniqueId('low')}`;
      const streamId = uniqueId('claiming');
      await events.append([{ streamId, expectedVersion: 0, events: [restocked(1)] }], testMetadata(), {
        claims: [claimOf(claimId, 1)],
      });
      const taking = (expectedVersion: number) =>
        events
          .append([{ streamId, expectedVersion, events: [restocked(1)] }], testMetadata(), {
            claims: [claimOf(claimId, 1)],
            moves: [{ balanceId, delta: { available: -1 } }],
          })
          .catch((e: unknown) => e);
      expect(await taking(1)).toBeInstanceOf(ClaimTakenError);
      expect(await taking(0)).toBeInstanceOf(ConcurrencyError);
      expect(await events.readStream(streamId)).toHaveLength(1);
    });

    it('refuses claims it could not commit atomically: with no event, twice, or on a balance the append moves', async () => {
      const claimId = `claim-${uniqueId('shape')}`;
      const streamId = uniqueId('shaped');
      const refusal = (appendEvents: DomainEvent[], options: Parameters<EventStore['append']>[2]) =>
        events.append([{ streamId, expectedVersion: 0, events: appendEvents }], testMetadata(), options).then(
          () => 'committed',
          (e: unknown) => (e instanceof InvalidAppendError ? 'refused' : e),
        );
      expect(await refusal([], { claims: [claimOf(claimId, 1)] })).toBe('refused');
      expect(await refusal([restocked(1)], { claims: [claimOf(claimId, 1), claimOf(claimId, 2)] })).toBe('refused');
      expect(
        await refusal([restocked(1)], {
          claims: [claimOf(claimId, 1)],
          moves: [{ balanceId: claimId, delta: { available: 1 } }],
        }),
      ).toBe('refused');
      expect(await events.readStream(streamId)).toEqual([]);
      // Refused before anything was written: the claim is still free.
      expect(await refusal([restocked(1)], { claims: [claimOf(claimId, 1)] })).toBe('committed');
    });
  });
};
