import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { inventoryAggregate, reservationAggregate } from '../../application/aggregates.js';
import { decision, handleCommand, handleCommands, load } from '../../application/handleCommand.js';
import { readStock } from '../../application/products.js';
import {
  inventory,
  inventoryStreamId,
  type InventoryState,
  reservation,
  type ReservationState,
  reservationStreamId,
} from '../../domain/inventory/index.js';
import { fold } from '../../domain/shared/decider.js';
import { AppendTooLargeError, BalanceTooLowError, ConcurrencyError } from '../../eventstore/errors.js';
import type { EventStore } from '../../eventstore/types.js';
import { memoryStore } from '../support/memoryStore.js';
import { eventSchemaRegistry } from '../../eventstore/upcasting.js';
import { localStack, testMetadata, uniqueId } from '../support/stack.js';

const { client, tables, store } = localStack();
const events = store();

const restocked = (quantity: number) => ({ type: 'ProductRestocked', data: { sku: 'X', quantity } });

describe('DynamoDB event store', () => {
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
    expect(await events.readStream(streamId, { afterVersion: 1 })).toHaveLength(1);
    expect(await events.readStream(streamId, { toVersion: 1 })).toHaveLength(1);
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
    }
    expect((await events.readStream(streamId)).map((e) => e.version)).toEqual([1, 2]);
  });

  it('writes nothing to any stream when one stream of an atomic append is stale', async () => {
    const fresh = uniqueId('fresh');
    const stale = uniqueId('stale');
    await events.append(
      [{ streamId: stale, expectedVersion: 0, events: [restocked(1), restocked(1)] }],
      testMetadata(),
    );

    await expect(
      events.append(
        [
          { streamId: fresh, expectedVersion: 0, events: [restocked(5)] },
          { streamId: stale, expectedVersion: 1, events: [restocked(5)] },
        ],
        testMetadata(),
      ),
    ).rejects.toSatisfy((error) => error instanceof ConcurrencyError && error.streamIds.includes(stale));

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

  it('refuses an append beyond DynamoDB transaction limits before writing anything', async () => {
    const streamId = uniqueId('big');
    const tooMany = Array.from({ length: 101 }, () => restocked(1));
    await expect(events.append([{ streamId, expectedVersion: 0, events: tooMany }], testMetadata())).rejects.toThrow(
      AppendTooLargeError,
    );
    const tooHeavy = [{ type: 'Note', data: { text: 'x'.repeat(401 * 1024) } }];
    await expect(events.append([{ streamId, expectedVersion: 0, events: tooHeavy }], testMetadata())).rejects.toThrow(
      AppendTooLargeError,
    );
    expect(await events.readStream(streamId)).toEqual([]);
  });

  it('reads a stream longer than one 1 MB query page whole and in order', async () => {
    const streamId = uniqueId('long');
    const padding = 'p'.repeat(8 * 1024);
    const total = 300; // 300 × ~8 KB ≈ 2.4 MB: at least three DynamoDB pages
    for (let from = 0; from < total; from += 50) {
      const batch = Array.from({ length: 50 }, (_, i) => ({ type: 'Padded', data: { n: from + i, padding } }));
      await events.append([{ streamId, expectedVersion: from, events: batch }], testMetadata());
    }
    const firstPage = await client.send(
      new QueryCommand({
        TableName: tables.events,
        KeyConditionExpression: 'streamId = :s',
        ExpressionAttributeValues: { ':s': streamId },
      }),
    );
    expect(firstPage.LastEvaluatedKey).toBeDefined();
    expect(firstPage.Items?.length).toBeLessThan(total);

    const read = await events.readStream(streamId);
    expect(read.map((e) => e.version)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(read.map((e) => e.data.n)).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('brings an event stored in an older shape up to date through its upcaster', async () => {
    const streamId = uniqueId('legacy');
    // Version 1 of this event kept the price flat; version 2 nests it as Money.
    await client.send(
      new PutCommand({
        TableName: tables.events,
        Item: {
          streamId,
          version: 1,
          eventId: 'e1',
          type: 'ProductRegistered',
          schemaVersion: 1,
          recordedAt: '2025-01-01T00:00:00.000Z',
          data: { sku: 'OLD-1', name: 'Old', priceCents: 250, currency: 'EUR', initialStock: 3 },
          metadata: testMetadata(),
        },
      }),
    );
    const schemas = eventSchemaRegistry({
      ProductRegistered: {
        1: ({ priceCents, currency, ...rest }) => ({ ...rest, unitPrice: { amount: priceCents, currency } }),
      },
    });
    const [event] = await store(schemas).readStream(streamId);
    expect(event).toMatchObject({
      schemaVersion: 2,
      data: { sku: 'OLD-1', name: 'Old', unitPrice: { amount: 250, currency: 'EUR' }, initialStock: 3 },
    });
    const { state } = await load(store(schemas), { ...inventoryAggregate, snapshot: undefined }, streamId);
    expect(state).toMatchObject({ status: 'REGISTERED', initialStock: 3, unitPrice: { amount: 250, currency: 'EUR' } });
  });
});

describe('command handling', () => {
  const register = (sku: string, stock: number) =>
    handleCommand(
      inventoryAggregate,
      inventoryStreamId(sku),
      (state) =>
        inventory.decide(
          {
            type: 'RegisterProduct',
            data: { sku, name: sku, unitPrice: { amount: 100, currency: 'EUR' }, initialStock: stock },
          },
          state,
        ),
      { store: events, metadata: testMetadata() },
    );

  it('retries lost races, so 10 concurrent restocks all land', async () => {
    const sku = `R-${Date.now()}`;
    await register(sku, 0);
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        handleCommand(
          inventoryAggregate,
          inventoryStreamId(sku),
          (state) => inventory.decide({ type: 'RestockProduct', data: { sku, quantity: 3 } }, state),
          {
            store: events,
            metadata: testMetadata(),
            retry: { attempts: 20, baseDelayMs: 5, maxDelayMs: 100 },
            onConflict: () => conflicts++,
          },
        ),
      ),
    );
    const { state, version } = await load(events, inventoryAggregate, inventoryStreamId(sku));
    expect(version).toBe(11);
    expect(state).toMatchObject({ restocked: 30 });
    expect(await readStock(events, sku, { consistent: true })).toEqual({
      stock: { available: 30, reserved: 0, sold: 0 },
      version: 11,
    });
    expect(conflicts).toBeGreaterThan(0);
  });

  it('gives up with a ConcurrencyError after its bounded attempts', async () => {
    const sku = `G-${Date.now()}`;
    await register(sku, 0);
    // A store whose every append loses the race.
    const losing = { ...events, append: () => Promise.reject(new ConcurrencyError([inventoryStreamId(sku)])) };
    let conflicts = 0;
    await expect(
      handleCommand(
        inventoryAggregate,
        inventoryStreamId(sku),
        (state) => inventory.decide({ type: 'RestockProduct', data: { sku, quantity: 1 } }, state),
        {
          store: losing,
          metadata: testMetadata(),
          retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
          onConflict: () => conflicts++,
        },
      ),
    ).rejects.toThrow(ConcurrencyError);
    expect(conflicts).toBe(2);
  });

  it('appends nothing for a decision that changes nothing', async () => {
    const sku = `N-${Date.now()}`;
    await register(sku, 5);
    const reserve = (state: ReservationState) =>
      reservation.decide({ type: 'ReserveStock', data: { sku, orderId: 'o-1', quantity: 2 } }, state);
    const context = { store: events, metadata: testMetadata() };
    const streamId = reservationStreamId(sku, 'o-1');
    const first = await handleCommand(reservationAggregate, streamId, reserve, context);
    const second = await handleCommand(reservationAggregate, streamId, reserve, context);
    expect(first.events).toHaveLength(1);
    expect(second.events).toEqual([]);
    expect(await events.readStream(streamId)).toHaveLength(1);
    expect((await readStock(events, sku, { consistent: true })).stock).toEqual({ available: 3, reserved: 2, sold: 0 });
  });

  it('loads a long stream from its snapshot plus the tail, to the same state as a full fold', async () => {
    const sku = `S-${Date.now()}`;
    await register(sku, 1_000);
    const context = { store: events, metadata: testMetadata() };
    for (let i = 0; i < 129; i++) {
      await handleCommand(
        inventoryAggregate,
        inventoryStreamId(sku),
        (state) => inventory.decide({ type: 'RestockProduct', data: { sku, quantity: 1 + (i % 3) } }, state),
        context,
      );
    }
    const snapshot = await events.readSnapshot<InventoryState>(inventoryStreamId(sku), 'inventory-state-3');
    expect(snapshot?.version).toBe(100);

    const fromSnapshot = await load(events, inventoryAggregate, inventoryStreamId(sku));
    const all = await events.readStream(inventoryStreamId(sku));
    const fullFold = fold(
      inventory,
      all.map((e) => inventoryAggregate.events.parse({ type: e.type, data: e.data })),
    );
    expect(fromSnapshot.version).toBe(all.length);
    expect(fromSnapshot.state).toEqual(fullFold);
    // A snapshot under another state schema is ignored rather than misread.
    expect(await events.readSnapshot(inventoryStreamId(sku), 'inventory-state-2')).toBeUndefined();
  });
});

describe('guarded appends', () => {
  it('commits only while every guarded stream is still at the version read', async () => {
    const order = uniqueId('guarded-order');
    const sku = uniqueId('guarded-sku');
    await events.append([{ streamId: order, expectedVersion: 0, events: [restocked(1)] }], testMetadata());

    await events.append([{ streamId: sku, expectedVersion: 0, events: [restocked(2)] }], testMetadata(), {
      guards: [{ streamId: order, version: 1 }],
    });
    expect(await events.readStream(sku)).toHaveLength(1);

    // The guarded stream moves on (a cancellation, say): the next guarded append writes nothing.
    await events.append([{ streamId: order, expectedVersion: 1, events: [restocked(3)] }], testMetadata());
    await expect(
      events.append([{ streamId: sku, expectedVersion: 1, events: [restocked(4)] }], testMetadata(), {
        guards: [{ streamId: order, version: 1 }],
      }),
    ).rejects.toSatisfy((error) => error instanceof ConcurrencyError && error.streamIds.includes(order));
    expect(await events.readStream(sku)).toHaveLength(1);
  });
});

/**
 * The balance contract, held by the DynamoDB store and by the in-memory one the unit tests use: a balance moves only
 * with the events that move it, never below zero, and its condition, not a stream version, serializes its writers.
 */
describe.each([
  ['DynamoDB', () => events],
  ['in-memory', () => memoryStore()],
] as [string, () => EventStore][])('balances (%s store)', (_, storeFor) => {
  const reserve = (sku: string, orderId: string, quantity: number) =>
    decision(reservationAggregate, reservationStreamId(sku, orderId), (state) =>
      reservation.decide({ type: 'ReserveStock', data: { sku, orderId, quantity } }, state),
    );
  const registered = async (target: EventStore, sku: string, initialStock: number) => {
    await handleCommand(
      inventoryAggregate,
      inventoryStreamId(sku),
      (state) =>
        inventory.decide(
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
    const target = storeFor();
    const sku = `B-${randomSuffix()}`;
    await registered(target, sku, 5);
    await handleCommands([reserve(sku, 'o-1', 2), reserve(sku, 'o-2', 1)], { store: target, metadata: testMetadata() });
    expect(await readStock(target, sku, { consistent: true })).toEqual({
      stock: { available: 2, reserved: 3, sold: 0 },
      version: 2,
    });
  });

  it('refuses a move below zero with BalanceTooLowError, writing nothing of the append', async () => {
    const target = storeFor();
    const sku = `L-${randomSuffix()}`;
    await registered(target, sku, 2);
    const error: unknown = await handleCommands([reserve(sku, 'o-1', 1), reserve(sku, 'o-2', 2)], {
      store: target,
      metadata: testMetadata(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BalanceTooLowError);
    expect((error as BalanceTooLowError).balanceIds).toEqual([`stock-${sku}`]);
    expect(await target.readStream(reservationStreamId(sku, 'o-1'))).toEqual([]);
    expect((await readStock(target, sku, { consistent: true })).stock).toEqual({ available: 2, reserved: 0, sold: 0 });
  });

  it('answers a lost stream race as a ConcurrencyError, to retry, even when the balance would refuse too', async () => {
    const target = storeFor();
    const sku = `C-${randomSuffix()}`;
    await registered(target, sku, 1);
    const streamId = reservationStreamId(sku, 'o-1');
    const reserved = { type: 'StockReserved', data: { sku, orderId: 'o-1', quantity: 1 } };
    const move = { balanceId: `stock-${sku}`, delta: { available: -1, reserved: 1, sold: 0 } };
    await target.append([{ streamId, expectedVersion: 0, events: [reserved] }], testMetadata(), { moves: [move] });
    await expect(
      target.append([{ streamId, expectedVersion: 0, events: [reserved] }], testMetadata(), { moves: [move] }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('sells exactly the stock to 40 concurrent buyers of one SKU: the rest are refused, none oversold', async () => {
    const target = storeFor();
    const sku = `H-${randomSuffix()}`;
    await registered(target, sku, 15);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        handleCommands([reserve(sku, `o-${i}`, 1)], {
          store: target,
          metadata: testMetadata(),
          retry: { attempts: 50, baseDelayMs: 2, maxDelayMs: 50 },
        }),
      ),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(15);
    expect(refused).toHaveLength(25);
    for (const outcome of refused) expect(outcome.reason).toBeInstanceOf(BalanceTooLowError);
    expect((await readStock(target, sku, { consistent: true })).stock).toEqual({ available: 0, reserved: 15, sold: 0 });
  });
});

const randomSuffix = () => Math.random().toString(36).slice(2, 10).toUpperCase();
