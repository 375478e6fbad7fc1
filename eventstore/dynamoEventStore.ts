import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import {
  type CancellationReason,
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { checkAppendLimits, checkAppendShape, mergeMoves } from './appendRules.js';
import { batchGetAll } from './dynamoBatch.js';
import {
  BalanceChangedError,
  BalanceTooLowError,
  ClaimTakenError,
  ConcurrencyError,
  onlyCreations,
  versionsRunOn,
} from './errors.js';
import { STREAM_ID, VERSION } from './tableKeys.js';
import type {
  AppendResult,
  Balance,
  BalanceCheck,
  BalanceMove,
  Claim,
  EventMetadata,
  EventStore,
  ReadOptions,
  Snapshot,
  StoredEvent,
  StreamAppend,
} from './types.js';
import { type EventItem, eventItems, itemEvents } from './eventItems.js';
import { type EventSchemaRegistry, snapshotSchema } from './upcasting.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export { ITEM_MAX_BYTES, TRANSACTION_MAX_BYTES, TRANSACTION_MAX_ITEMS } from './appendRules.js';

export type DynamoEventStoreOptions = {
  client: DynamoDBDocumentClient;
  eventsTable: string;
  snapshotsTable: string;
  schemas: EventSchemaRegistry;
};

const isConditionFailure = (error: unknown): boolean => {
  if (error instanceof ConditionalCheckFailedException) return true;
  if (error instanceof TransactionCanceledException) {
    // A condition failed on one of our items, or another transaction held one of them: both mean "reload and retry".
    return (error.CancellationReasons ?? []).some(
      (reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict',
    );
  }
  return false;
};

/** Whether another transaction held one of the items: a race, not a refusal. */
const transactionHeld = (error: unknown): boolean =>
  error instanceof TransactionCanceledException &&
  (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');

/** The stream ids whose conditions failed, when DynamoDB says; otherwise all of them. */
const failedStreams = (error: unknown, items: { streamId: string }[]): string[] => {
  const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
  const failed = items.filter((_, index) => {
    const code = reasons[index]?.Code;
    return code === 'ConditionalCheckFailed' || code === 'TransactionConflict';
  });
  return [...new Set((failed.length > 0 ? failed : items).map((item) => item.streamId))];
};

/**
 * How many bounded reads a store keeps (see `readStream`): a product's registration is one, so this covers the
 * catalogue of a large shop in a few MB.
 */
const SETTLED_READS = 10_000;

/** The attribute that counts a balance's moves. */
const MOVES = 'moves';

/** A balance item as the store keeps it: its counts beside its id and its count of moves (its version). */
const balanceOf = (item: Record<string, unknown>): Balance => {
  const { [STREAM_ID]: balanceId, [MOVES]: version, ...counts } = item;
  return { balanceId: String(balanceId), counts: counts as Record<string, number>, version: Number(version) };
};

/**
 * The `items` from position `from` of a cancelled transaction whose conditions failed, when no condition before them
 * failed and no other transaction held an item: a refusal on those alone, not a lost race. With the reasons.
 */
const refusedOnly = <T>(
  error: unknown,
  from: number,
  items: T[],
): { refused: T[]; reasons: CancellationReason[] } | undefined => {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const reasons = error.CancellationReasons ?? [];
  const other = reasons.slice(0, from).some((reason) => reason.Code && reason.Code !== 'None');
  const conflict = transactionHeld(error);
  const refused = items.filter((_, index) => reasons[from + index]?.Code === 'ConditionalCheckFailed');
  return other || conflict || refused.length === 0 ? undefined : { refused, reasons };
};

/**
 * When the only conditions that failed are balances' (no stream changed, no transaction held an item), the append
 * was refused for stock, not lost in a race: the balances, with their counts as DynamoDB last saw them.
 */
const tooLow = (error: unknown, before: number, moves: BalanceMove[]): BalanceTooLowError | undefined => {
  const only = refusedOnly(error, before, moves);
  if (!only) return undefined;
  const item = only.reasons[before + moves.indexOf(only.refused[0] as BalanceMove)]?.Item;
  const current = item
    ? Object.fromEntries(
        Object.entries(item).flatMap(([name, value]) =>
          value.N !== undefined && name !== MOVES ? [[name, Number(value.N)]] : [],
        ),
      )
    : undefined;
  return new BalanceTooLowError(
    only.refused.map((move) => move.balanceId),
    current,
    { cause: error },
  );
};

/**
 * When no stream's condition failed (no race) and no other transaction held an item, but a claim's did: the command
 * was done before, whatever the balances would have said. With what the claim's append wrote in it.
 */
const claimTaken = (error: unknown, streams: number, claims: Claim[]): ClaimTakenError | undefined => {
  const only = refusedOnly(error, streams, claims);
  const [claim] = only?.refused ?? [];
  if (!only || !claim) return undefined;
  const item = only.reasons[streams + claims.indexOf(claim)]?.Item;
  return new ClaimTakenError(claim.claimId, item && claimData(unmarshall(item)), { cause: error });
};

/** What a claim's item says its append did: the item less its key. */
const claimData = ({ [STREAM_ID]: _, ...data }: Record<string, unknown>): Claim['data'] => data as Claim['data'];

/** A claim's item, written only where none is: the first append to take it keeps it. */
const claimPut = (table: string, { claimId, data }: Claim) => ({
  Put: {
    TableName: table,
    Item: { ...data, [STREAM_ID]: claimId },
    ConditionExpression: `attribute_not_exists(${STREAM_ID})`,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  },
});

/**
 * When the only conditions that failed are balance checks', the balance changed since the writer read it: the
 * balances whose checks failed. `before` is how many items precede the checks in the transaction.
 */
const changed = (error: unknown, before: number, checks: BalanceCheck[]): BalanceChangedError | undefined => {
  const only = refusedOnly(error, before, checks);
  return only
    ? new BalanceChangedError(
        only.refused.map((check) => check.balanceId),
        { cause: error },
      )
    : undefined;
};

/** Each counter below its bound; a counter never moved is zero, so it is below any positive bound. */
const balanceCheck = (table: string, { balanceId, below }: BalanceCheck) => {
  const entries = Object.entries(below);
  return {
    ConditionCheck: {
      TableName: table,
      Key: { [STREAM_ID]: balanceId },
      ConditionExpression: entries
        .map(([, bound], i) => (bound > 0 ? `(attribute_not_exists(#c${i}) OR #c${i} < :b${i})` : `#c${i} < :b${i}`))
        .join(' AND '),
      ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#c${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(entries.map(([, bound], i) => [`:b${i}`, bound])),
    },
  };
};

/** Each counter moves by its delta, and none may end below zero: the condition is on those that fall. */
const balanceUpdate = (table: string, { balanceId, delta }: BalanceMove) => {
  const entries = Object.entries(delta);
  const names = Object.fromEntries(entries.map(([name], i) => [`#c${i}`, name]));
  const falling = entries.flatMap(([, by], i) => (by < 0 ? [`#c${i} >= :n${i}`] : []));
  return {
    Update: {
      TableName: table,
      Key: { [STREAM_ID]: balanceId },
      UpdateExpression: `ADD ${[...entries.map((_, i) => `#c${i} :d${i}`), '#moves :one'].join(', ')}`,
      ...(falling.length > 0 ? { ConditionExpression: falling.join(' AND ') } : {}),
      ExpressionAttributeNames: { ...names, '#moves': MOVES },
      ExpressionAttributeValues: {
        ...Object.fromEntries(entries.map(([, by], i) => [`:d${i}`, by])),
        ...Object.fromEntries(entries.flatMap(([, by], i) => (by < 0 ? [[`:n${i}`, -by]] : []))),
        ':one': 1,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  };
};

/**
 * The event store on DynamoDB: one item per stream and append, keyed by `streamId` and the version of its first
 * event, holding the append's events to that stream (`eventItems.ts`, ADR 0016).
 *
 * Optimistic concurrency needs no lock: every new item is written with `attribute_not_exists(streamId)`, so of two
 * writers that read the same version, the second finds its version taken and gets a {@link ConcurrencyError}.
 *
 * Table `snapshots` holds what is derived from streams and kept beside them, keyed by `streamId`: a stream's folded
 * snapshot, balances (`stock-<SKU>`), whose counters an append moves in its own transaction with `ADD` under a
 * condition that none falls below zero ({@link BalanceTooLowError} when one would), and claims, which an append puts
 * only where none is ({@link ClaimTakenError} otherwise).
 *
 * @example
 * const store = dynamoEventStore({ client, eventsTable: 'orderflow-dev-events', snapshotsTable: 'orderflow-dev-snapshots' });
 * await store.append([{ streamId: 'order-42', expectedVersion: 0, events: [placed] }], metadata);
 */
export const dynamoEventStore = ({
  client,
  eventsTable,
  snapshotsTable,
  schemas,
}: DynamoEventStoreOptions): EventStore => {
  const toEvents = (appends: StreamAppend[], metadata: EventMetadata, recordedAt: string): StoredEvent[] =>
    appends.flatMap(({ streamId, expectedVersion, events }) =>
      events.map((event, index) => ({
        streamId,
        version: expectedVersion + index + 1,
        eventId: randomUUID(),
        type: event.type,
        data: event.data,
        schemaVersion: schemas.currentVersion(event.type),
        recordedAt,
        metadata,
      })),
    );

  const condition = `attribute_not_exists(${STREAM_ID})`;

  // Events never change once written: a read bounded by `toVersion` that found every event of its range is kept, and
  // the same read again is answered from memory, oldest dropped first.
  const settled = new Map<string, StoredEvent[]>();

  return {
    async append(
      appends,
      metadata,
      { now = new Date(), moves = [], checks = [], claims = [] } = {},
    ): Promise<AppendResult> {
      const items = eventItems(toEvents(appends, metadata, now.toISOString()));
      const results = appends.map(({ streamId, expectedVersion, events }) => ({
        streamId,
        version: expectedVersion + events.length,
      }));
      const balances = mergeMoves(moves);
      checkAppendShape(appends, balances, checks, claims);
      if (items.length === 0) return results;
      checkAppendLimits(items, balances.length + checks.length + claims.length);
      // In this order, so that each refusal is read from its own items' reasons (a claim before the balances: a
      // command done before is answered as such, whatever the stock says now).
      const claimsFrom = items.length;
      const balancesFrom = claimsFrom + claims.length;
      try {
        const [only] = items;
        if (items.length === 1 && only && balances.length + checks.length + claims.length === 0) {
          // One stream's events and no balance: a plain conditional put costs half the write units of a transaction.
          await client.send(new PutCommand({ TableName: eventsTable, Item: only, ConditionExpression: condition }));
        } else {
          const input: TransactWriteCommandInput = {
            TransactItems: [
              ...items.map((Item) => ({ Put: { TableName: eventsTable, Item, ConditionExpression: condition } })),
              ...claims.map((claim) => claimPut(snapshotsTable, claim)),
              ...balances.map((move) => balanceUpdate(snapshotsTable, move)),
              ...checks.map((check) => balanceCheck(snapshotsTable, check)),
            ],
          };
          await client.send(new TransactWriteCommand(input));
        }
      } catch (error) {
        const taken = claimTaken(error, claimsFrom, claims);
        if (taken) throw taken;
        const refused = tooLow(error, balancesFrom, balances);
        if (refused) throw refused;
        const moved = changed(error, balancesFrom + balances.length, checks);
        if (moved) throw moved;
        if (isConditionFailure(error)) {
          const lost = failedStreams(error, items);
          // Another transaction holding an item is a race, whichever streams it names.
          const held = transactionHeld(error);
          throw new ConcurrencyError(lost, { cause: error, alreadyCreated: !held && onlyCreations(lost, appends) });
        }
        throw error;
      }
      return results;
    },

    async readStream(
      streamId,
      { afterVersion = 0, toVersion, consistent = true, afterAnAppend = false }: ReadOptions = {},
    ): Promise<StoredEvent[]> {
      // DynamoDB refuses a BETWEEN whose bounds are the wrong way round: an empty window reads nothing.
      if (toVersion !== undefined && toVersion <= afterVersion) return [];
      const range = toVersion === undefined ? undefined : `${streamId}\n${afterVersion}\n${toVersion}`;
      const kept = range === undefined ? undefined : settled.get(range);
      if (kept) return structuredClone(kept);
      const pages = paginateQuery(
        { client },
        {
          TableName: eventsTable,
          ConsistentRead: consistent,
          KeyConditionExpression:
            toVersion === undefined
              ? `#streamId = :streamId AND #version > :after`
              : `#streamId = :streamId AND #version BETWEEN :from AND :to`,
          ExpressionAttributeNames: { '#streamId': STREAM_ID, '#version': VERSION },
          ExpressionAttributeValues: {
            ':streamId': streamId,
            ...(toVersion === undefined ? { ':after': afterVersion } : { ':from': afterVersion + 1, ':to': toVersion }),
          },
        },
      );
      const events: StoredEvent[] = [];
      // A bounded read may end inside an item: its events past the bound are not asked for.
      const wanted = (event: StoredEvent) =>
        event.version > afterVersion && (toVersion === undefined || event.version <= toVersion);
      for await (const page of pages) {
        for (const item of page.Items ?? []) events.push(...itemEvents(item as EventItem, schemas).filter(wanted));
      }
      // It may start inside one too: a view a poison event stopped mid-append (ADR 0016) reads on from there. Items
      // are keyed by their first version, so the one holding the next version is the last keyed at or before
      // `afterVersion`. Only a read that came back short of it asks: one that found nothing (a stream read after its
      // snapshot, with nothing new since, asks once more, unless the caller knows an append ended there), or whose first
      // event is not the next.
      const short =
        (events.length === 0 && !afterAnAppend) ||
        (events.length > 0 && (events[0] as StoredEvent).version > afterVersion + 1);
      if (afterVersion > 0 && short) {
        const { Items: [holding] = [] } = await client.send(
          new QueryCommand({
            TableName: eventsTable,
            ConsistentRead: consistent,
            KeyConditionExpression: '#streamId = :streamId AND #version <= :after',
            ExpressionAttributeNames: { '#streamId': STREAM_ID, '#version': VERSION },
            ExpressionAttributeValues: { ':streamId': streamId, ':after': afterVersion },
            ScanIndexForward: false,
            Limit: 1,
          }),
        );
        if (holding) events.unshift(...itemEvents(holding as EventItem, schemas).filter(wanted));
      }
      versionsRunOn(streamId, afterVersion, events);
      // A range still missing events (a product not registered yet) may yet fill, so only a whole one is kept.
      if (range !== undefined && toVersion !== undefined && events.length === toVersion - afterVersion) {
        if (settled.size >= SETTLED_READS) settled.delete(settled.keys().next().value as string);
        settled.set(range, structuredClone(events));
      }
      return events;
    },

    async readSnapshot<State>(
      streamId: string,
      schema: string,
      { consistent = true }: { consistent?: boolean } = {},
    ): Promise<Snapshot<State> | undefined> {
      const { Item } = await client.send(
        new GetCommand({ TableName: snapshotsTable, Key: { [STREAM_ID]: streamId }, ConsistentRead: consistent }),
      );
      // A snapshot of another state shape (the decider changed) is ignored: the stream is folded from the start.
      if (!Item || Item.schema !== snapshotSchema(schema, schemas)) return undefined;
      const json = await gunzipAsync(Item.state as Uint8Array);
      return { streamId, version: Item.version as number, schema, state: JSON.parse(json.toString('utf8')) as State };
    },

    async readBalance(balanceId, { consistent = false } = {}): Promise<Balance | undefined> {
      const { Item } = await client.send(
        new GetCommand({ TableName: snapshotsTable, Key: { [STREAM_ID]: balanceId }, ConsistentRead: consistent }),
      );
      return Item ? balanceOf(Item) : undefined;
    },

    async readBalances(balanceIds) {
      const keys = [...new Set(balanceIds)].map((balanceId) => ({ [STREAM_ID]: balanceId }));
      const items = await batchGetAll(client, snapshotsTable, keys, { consistent: false });
      return new Map(items.map((item) => [String(item[STREAM_ID]), balanceOf(item)]));
    },

    async readClaim(claimId) {
      const { Item } = await client.send(
        new GetCommand({ TableName: snapshotsTable, Key: { [STREAM_ID]: claimId }, ConsistentRead: true }),
      );
      return Item && claimData(Item);
    },

    async writeSnapshot<State>({ streamId, version, state, schema }: Snapshot<State>): Promise<void> {
      // Compressed, because a popular SKU's state grows with its orders and an item holds at most 400 KB.
      const compressed = await gzipAsync(JSON.stringify(state));
      const keyed = snapshotSchema(schema, schemas);
      try {
        await client.send(
          new PutCommand({
            TableName: snapshotsTable,
            Item: { [STREAM_ID]: streamId, version, schema: keyed, state: compressed },
            // Never replace a newer snapshot with an older one.
            ConditionExpression: `attribute_not_exists(${STREAM_ID}) OR #version < :version OR #schema <> :schema`,
            ExpressionAttributeNames: { '#version': VERSION, '#schema': 'schema' },
            ExpressionAttributeValues: { ':version': version, ':schema': keyed },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return;
        throw error;
      }
    },
  };
};
