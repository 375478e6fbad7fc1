import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { ClearStopped, type ViewStore, type ViewWrite } from '../projections/ports.js';
import type { Versioned } from '../projections/projection.js';
import { batchGetAll, batchWriteAll, scanAll } from './batch.js';

/** Keys a guarded `clear` deletes between two asks whether it may go on. */
export const CLEAR_PAGE = 100;

/** The attribute that holds the last applied stream version on every view item. */
export const VIEW_VERSION = 'version';

const versioned = <View>(item: Record<string, unknown>): Versioned<View> => {
  const { [VIEW_VERSION]: version, ...view } = item;
  return { view: view as View, version: Number(version) };
};

/** PartiQL's quoting: an identifier in double quotes, a string in single ones, each doubling its own quote. */
const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (name: string) => `'${name.replaceAll("'", "''")}'`;

/** How many statements one `BatchExecuteStatement` takes. */
export const STATEMENTS_PER_BATCH = 25;

/**
 * `put`'s guarded write as a PartiQL statement, which a batch can carry where it cannot carry a conditional put:
 * - a view none stored: `INSERT`, which DynamoDB refuses (`DuplicateItem`) when the item exists;
 * - else `UPDATE` of every attribute, under the guard that the stored version is still the previous one, removing
 *   the attributes the previous view had and this one lacks, so the item ends as `put` would have left it.
 * Attributes left undefined are left out, as the document client's `removeUndefinedValues` leaves them out of a put.
 */
export const viewStatement = <View extends Record<string, unknown>>(
  table: string,
  { key, view, version, previous }: ViewWrite<View>,
): { Statement: string; Parameters: unknown[] } => {
  const item = Object.entries({ ...view, [VIEW_VERSION]: version }).filter(([, value]) => value !== undefined);
  if (!previous) {
    return {
      Statement: `INSERT INTO ${identifier(table)} VALUE {${item.map(([name]) => `${literal(name)}: ?`).join(', ')}}`,
      Parameters: item.map(([, value]) => value),
    };
  }
  const keys = Object.entries(key);
  const set = item.filter(([name]) => !(name in key));
  const kept = new Set(item.map(([name]) => name));
  const removed = Object.keys(previous.view).filter((name) => !kept.has(name) && !(name in key));
  return {
    Statement:
      `UPDATE ${identifier(table)}` +
      set.map(([name]) => ` SET ${identifier(name)} = ?`).join('') +
      removed.map((name) => ` REMOVE ${identifier(name)}`).join('') +
      ` WHERE ${keys.map(([name]) => `${identifier(name)} = ?`).join(' AND ')} AND ${identifier(VIEW_VERSION)} = ?`,
    Parameters: [...set.map(([, value]) => value), ...keys.map(([, value]) => value), previous.version],
  };
};

/** A read model's views in one DynamoDB table, one item per stream. */
export const dynamoViewStore = <View extends Record<string, unknown>>({
  client,
  table,
}: {
  client: DynamoDBDocumentClient;
  table: string;
}): ViewStore<View> => ({
  async get(key) {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return Item ? versioned<View>(Item) : undefined;
  },

  async getMany(keys) {
    const names = Object.keys(keys[0] ?? {});
    const id = (key: Record<string, unknown>) => JSON.stringify(names.map((name) => key[name]));
    const found = new Map((await batchGetAll(client, table, keys)).map((item) => [id(item), versioned<View>(item)]));
    return keys.map((key) => found.get(id(key)));
  },

  async put(view, version, previousVersion) {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...view, [VIEW_VERSION]: version },
          ConditionExpression: previousVersion === 0 ? 'attribute_not_exists(#version)' : '#version = :previous',
          ExpressionAttributeNames: { '#version': VIEW_VERSION },
          ...(previousVersion === 0 ? {} : { ExpressionAttributeValues: { ':previous': previousVersion } }),
        }),
      );
      return 'written';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'stale';
      throw error;
    }
  },

  async putMany(writes) {
    const outcomes: ('written' | 'stale' | Error)[] = [];
    const chunks: number[][] = [];
    for (let i = 0; i < writes.length; i += STATEMENTS_PER_BATCH)
      chunks.push(writes.slice(i, i + STATEMENTS_PER_BATCH).map((_, j) => i + j));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const { Responses = [] } = await client.send(
            new BatchExecuteStatementCommand({
              Statements: chunk.map((i) => viewStatement(table, writes[i] as ViewWrite<View>)),
            }),
          );
          chunk.forEach((i, j) => {
            const error = Responses[j]?.Error;
            // The guard lost: the item exists for an INSERT, or holds another version for an UPDATE.
            if (!error) outcomes[i] = 'written';
            else if (error.Code === 'ConditionalCheckFailed' || error.Code === 'DuplicateItem') outcomes[i] = 'stale';
            // Named by its code, as the SDK names the error a put would have thrown (a throttle stays transient).
            else outcomes[i] = Object.assign(new Error(error.Message ?? error.Code), { name: error.Code ?? 'Error' });
          });
        } catch (error) {
          for (const i of chunk) outcomes[i] = error instanceof Error ? error : new Error(String(error));
        }
      }),
    );
    return outcomes;
  },

  async putAll(views, concurrency = 4) {
    const requests = views.map(({ view, version }) => ({ PutRequest: { Item: { ...view, [VIEW_VERSION]: version } } }));
    await batchWriteAll(client, table, requests, concurrency);
  },

  async sample(limit) {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: table, Limit: limit, ConsistentRead: true }));
    return Items.map((item) => versioned<View>(item));
  },

  async clear(keyNames, segments = 1, keepGoing) {
    const names = Object.fromEntries(keyNames.map((name, i) => [`#k${i}`, name]));
    const deleted = await scanAll(
      client,
      {
        TableName: table,
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: names,
        // Asked before each page: a small page keeps what a drop paused mid-page can still delete when it resumes small.
        ...(keepGoing ? { Limit: CLEAR_PAGE } : {}),
      },
      segments,
      async (keys) => {
        if (keepGoing && !(await keepGoing())) throw new ClearStopped();
        await batchWriteAll(
          client,
          table,
          keys.map((Key) => ({ DeleteRequest: { Key } })),
        );
      },
    );
    return deleted;
  },
});
