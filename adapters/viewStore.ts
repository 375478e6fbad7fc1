import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ClearStopped, type ViewStore } from '../projections/ports.js';
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
