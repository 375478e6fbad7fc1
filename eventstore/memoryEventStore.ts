import { randomUUID } from 'node:crypto';
import { checkAppendLimits, checkAppendShape, mergeMoves } from './appendRules.js';
import { eventItems } from './eventItems.js';
import {
  BalanceChangedError,
  BalanceTooLowError,
  ClaimTakenError,
  ConcurrencyError,
  onlyCreations,
  versionsRunOn,
} from './errors.js';
import type { AppendResult, Balance, EventStore, Snapshot, StoredEvent } from './types.js';
import { type EventSchemaRegistry, snapshotSchema, upcastItem } from './upcasting.js';

/**
 * The data behind one or more memory stores: what the DynamoDB tables hold for the DynamoDB store. Stores made on
 * the same tables see one another's writes, as two releases (each with its own schema registry) share a table.
 */
export type MemoryTables = {
  /** Each stream's events by version: a stream may, as in DynamoDB, only gain a version nobody holds yet. */
  streams: Map<string, Map<number, StoredEvent>>;
  /** Every event in commit order. */
  log: StoredEvent[];
  /** Snapshots by stream id, their state kept as JSON (the DynamoDB store keeps it gzipped JSON). */
  snapshots: Map<string, { version: number; schema: string; json: string }>;
  balances: Map<string, Balance>;
  /** Claims by id, each with what its append said it did. */
  claims: Map<string, Record<string, number | string>>;
};

export const memoryTables = (): MemoryTables => ({
  streams: new Map(),
  log: [],
  snapshots: new Map(),
  balances: new Map(),
  claims: new Map(),
});

export type MemoryEventStoreOptions = {
  /** The registry that stamps new events with their schema version and upcasts old ones on every read. */
  schemas: EventSchemaRegistry;
  /** Tables to share with other memory stores; fresh ones otherwise. */
  tables?: MemoryTables;
};

export type MemoryEventStore = EventStore & {
  /** Every event of every stream, in the order they were committed, upcast as reads are. For tests' assertions. */
  readAll(): StoredEvent[];
};

/**
 * The event store port in memory, with the DynamoDB store's semantics, for fast tests of commands and saga steps:
 * the same envelopes and upcasting, the same version conditions ({@link ConcurrencyError} naming the streams that
 * changed), claims taken once ({@link ClaimTakenError}), balance moves that never go below zero
 * ({@link BalanceTooLowError}; a lost stream race, then a taken claim, take precedence), the same transaction limits
 * ({@link AppendTooLargeError}), and snapshots that never give way to an older one. An append is atomic: it checks
 * every condition and then writes, with nothing in between.
 *
 * Data is stored as DynamoDB's document client stores it: copied, with `undefined` fields dropped, and refused when
 * it holds something DynamoDB cannot (a `Date`, a function, a number that is not finite).
 *
 * An eventually consistent read here always sees the latest write, as it may on DynamoDB; a test that needs a stale
 * replica wraps the store (tests/unit/saga/carriedOrder.unit.test.ts does).
 *
 * @example
 * const store = memoryEventStore({ schemas });
 * await store.append([{ streamId: 'order-42', expectedVersion: 0, events: [placed] }], metadata);
 */
export const memoryEventStore = ({ schemas, tables = memoryTables() }: MemoryEventStoreOptions): MemoryEventStore => {
  const { streams, log, snapshots, balances, claims: claimed } = tables;
  const taken = (streamId: string, version: number): boolean => streams.get(streamId)?.has(version) ?? false;
  const upcast = (event: StoredEvent): StoredEvent => {
    return upcastItem(structuredClone(event), schemas);
  };

  return {
    async append(
      appends,
      metadata,
      { now = new Date(), moves = [], checks = [], claims = [] } = {},
    ): Promise<AppendResult> {
      const recordedAt = now.toISOString();
      const items: StoredEvent[] = appends.flatMap(({ streamId, expectedVersion, events }) =>
        events.map((event, index) => ({
          streamId,
          version: expectedVersion + index + 1,
          eventId: randomUUID(),
          type: event.type,
          // The events after an append's first ride in its item's `following` list, each a map: two levels deeper.
          data: storable(event.data, 'data', index === 0 ? 0 : 2),
          schemaVersion: schemas.currentVersion(event.type),
          recordedAt,
          metadata: storable(metadata, 'metadata'),
        })),
      );
      const results = appends.map(({ streamId, expectedVersion, events }) => ({
        streamId,
        version: expectedVersion + events.length,
      }));
      const merged = mergeMoves(moves);
      checkAppendShape(appends, merged, checks, claims);
      if (items.length === 0) return results;
      // DynamoDB's limits apply to the items the DynamoDB store writes: one per stream.
      checkAppendLimits(eventItems(items), merged.length + checks.length + claims.length);

      const stale = items.filter((item) => taken(item.streamId, item.version));
      if (stale.length > 0) {
        const lost = [...new Set(stale.map((s) => s.streamId))];
        throw new ConcurrencyError(lost, { alreadyCreated: onlyCreations(lost, appends) });
      }

      // A claim taken before answers ahead of the balances: the command was done, whatever the stock says now.
      const held = claims.find(({ claimId }) => claimed.has(claimId));
      if (held) throw new ClaimTakenError(held.claimId, { ...claimed.get(held.claimId) });

      const refused = merged.filter(({ balanceId, delta }) => !fits(balances.get(balanceId), delta));
      const [firstRefused] = refused;
      if (firstRefused) {
        const current = balances.get(firstRefused.balanceId);
        throw new BalanceTooLowError(
          refused.map((move) => move.balanceId),
          current && { ...current.counts },
        );
      }

      const moved = checks.filter(({ balanceId, below }) => {
        const counts = balances.get(balanceId)?.counts ?? {};
        return Object.entries(below).some(([name, bound]) => !((counts[name] ?? 0) < bound));
      });
      if (moved.length > 0) throw new BalanceChangedError(moved.map((check) => check.balanceId));

      // Every condition holds: commit, with no await between the checks and the writes.
      for (const item of items) {
        let stream = streams.get(item.streamId);
        if (!stream) streams.set(item.streamId, (stream = new Map()));
        stream.set(item.version, item);
        log.push(item);
      }
      for (const { claimId, data } of claims) claimed.set(claimId, { ...data });
      for (const { balanceId, delta } of merged) {
        const balance = balances.get(balanceId) ?? { balanceId, counts: {}, version: 0 };
        const counts = { ...balance.counts };
        for (const [name, by] of Object.entries(delta)) counts[name] = (counts[name] ?? 0) + by;
        balances.set(balanceId, { balanceId, counts, version: balance.version + 1 });
      }
      return results;
    },

    async readStream(streamId, { afterVersion = 0, toVersion = Number.POSITIVE_INFINITY } = {}) {
      const stream = streams.get(streamId);
      if (!stream) return [];
      const events = [...stream.values()]
        .filter(({ version }) => version > afterVersion && version <= toVersion)
        .sort((a, b) => a.version - b.version);
      return versionsRunOn(streamId, afterVersion, events).map(upcast);
    },

    async readSnapshot<State>(streamId: string, schema: string): Promise<Snapshot<State> | undefined> {
      const stored = snapshots.get(streamId);
      // A snapshot of another state shape (the decider changed) is ignored: the stream is folded from the start.
      if (!stored || stored.schema !== snapshotSchema(schema, schemas)) return undefined;
      return { streamId, version: stored.version, schema, state: JSON.parse(stored.json) as State };
    },

    async writeSnapshot<State>({ streamId, version, state, schema }: Snapshot<State>): Promise<void> {
      const stored = snapshots.get(streamId);
      // Never replace a newer snapshot with an older one (nor with one of the same version).
      const keyed = snapshotSchema(schema, schemas);
      if (stored && stored.version >= version && stored.schema === keyed) return;
      snapshots.set(streamId, { version, schema: keyed, json: JSON.stringify(state) });
    },

    async readBalance(balanceId) {
      return structuredClone(balances.get(balanceId));
    },

    async readBalances(balanceIds) {
      const found = balanceIds.flatMap((id) => {
        const balance = balances.get(id);
        return balance ? [[id, structuredClone(balance)] as const] : [];
      });
      return new Map(found);
    },

    async readClaim(claimId) {
      const data = claimed.get(claimId);
      return data && { ...data };
    },

    readAll: () => log.map(upcast),
  };
};

/** Whether every falling counter has enough to fall by; a counter that does not exist yet has nothing. */
const fits = (balance: Balance | undefined, delta: Record<string, number>): boolean =>
  Object.entries(delta).every(([name, by]) => {
    if (by >= 0) return true;
    const count = balance?.counts[name];
    return count !== undefined && count >= -by;
  });

/**
 * A copy of `value` as DynamoDB's document client (with `removeUndefinedValues`, without class instances as maps)
 * stores it: `undefined` left out of objects and lists, anything it cannot marshal refused. `depth`: how deep in the
 * item `value` sits, 0 for an attribute of the item itself.
 */
const storable = <T>(value: T, path: string, depth = 0): T => {
  const copy = (item: unknown, at: string, depth: number): unknown => {
    if (item === null || typeof item === 'string' || typeof item === 'boolean') return item;
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) throw new TypeError(`${at}: ${item} cannot be stored.`);
      // The document client refuses what it could not store exactly, as a JavaScript number reads it back.
      if (Math.abs(item) > Number.MAX_SAFE_INTEGER) throw new TypeError(`${at}: ${item} is past 2^53 - 1.`);
      return item;
    }
    // DynamoDB nests lists and maps 32 levels deep at most; the item's own attributes are the first level.
    if (depth >= 31) throw new TypeError(`${at}: nested past the 32 levels DynamoDB stores.`);
    if (Array.isArray(item)) {
      return item
        .filter((element) => element !== undefined)
        .map((element, i) => copy(element, `${at}[${i}]`, depth + 1));
    }
    if (typeof item === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(item))) {
      return Object.fromEntries(
        Object.entries(item).flatMap(([key, field]) =>
          field === undefined ? [] : [[key, copy(field, `${at}.${key}`, depth + 1)]],
        ),
      );
    }
    throw new TypeError(`${at}: a ${typeof item === 'object' ? item.constructor.name : typeof item} cannot be stored.`);
  };
  return copy(value, path, depth) as T;
};
