import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  paginateScan,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Versioned } from '../projections/projection.js';

/** The attribute that holds the last applied stream version on every view item. */
export const VIEW_VERSION = 'version';

/** Where a projection keeps its views: one item per stream, each with the last applied stream version. */
export type ViewStore<View> = {
  get(key: Record<string, string>): Promise<Versioned<View> | undefined>;
  /**
   * Writes `view` at `version` only if the item is still at `previousVersion` (0: absent), so a live projector and
   * a rebuild never overwrite newer state. Answers `stale` when someone else wrote first.
   */
  put(view: View, version: number, previousVersion: number): Promise<'written' | 'stale'>;
  /** Deletes every view (a rebuild from scratch); answers how many. */
  clear(keyNames: string[]): Promise<number>;
};

export const dynamoViewStore = <View extends Record<string, unknown>>({
  client,
  table,
}: {
  client: DynamoDBDocumentClient;
  table: string;
}): ViewStore<View> => ({
  async get(key) {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    if (!Item) return undefined;
    const { [VIEW_VERSION]: version, ...view } = Item;
    return { view: view as View, version: Number(version) };
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

  async clear(keyNames) {
    let deleted = 0;
    const names = Object.fromEntries(keyNames.map((name, i) => [`#k${i}`, name]));
    for await (const page of paginateScan(
      { client },
      { TableName: table, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names },
    )) {
      const keys = page.Items ?? [];
      for (let i = 0; i < keys.length; i += 25) {
        let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
        // BatchWrite may leave some undone under load; send those again.
        while (requests.length > 0) {
          const { UnprocessedItems } = await client.send(
            new BatchWriteCommand({ RequestItems: { [table]: requests } }),
          );
          requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
        }
      }
      deleted += keys.length;
    }
    return deleted;
  },
});
