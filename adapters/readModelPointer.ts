import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, paginateQuery, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PointerStore, RebuildNotes } from '../projections/ports.js';
import { initialPointer, type ReadModelPointer } from '../projections/readModelVersions.js';
import { batchWriteAll } from './batch.js';

/** The pointers' partition in the projections table: readers may read this key and nothing else of the table. */
export const POINTER_PK = 'readmodel';

/** Someone else changed the pointer since it was read: the transition is refused, read it again. */
export class PointerConflictError extends Error {
  constructor(projection: string) {
    super(`${projection}: the read model's pointer changed meanwhile; run the command again`);
    this.name = 'PointerConflictError';
  }
}

export const dynamoPointerStore = ({ client, table }: { client: DynamoDBDocumentClient; table: string }) => {
  const store: PointerStore = {
    async get(projection) {
      const { Item } = await client.send(
        new GetCommand({ TableName: table, Key: { pk: POINTER_PK, sk: projection }, ConsistentRead: true }),
      );
      if (!Item) return initialPointer(projection);
      const { pk: _, sk: __, ...pointer } = Item;
      return pointer as ReadModelPointer;
    },
    async replace(next) {
      const expected = next.revision - 1;
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { pk: POINTER_PK, sk: next.projection, ...next },
            ConditionExpression: expected === 0 ? 'attribute_not_exists(pk)' : '#revision = :expected',
            ...(expected === 0
              ? {}
              : {
                  ExpressionAttributeNames: { '#revision': 'revision' },
                  ExpressionAttributeValues: { ':expected': expected },
                }),
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) throw new PointerConflictError(next.projection);
        throw error;
      }
    },
  };
  return store;
};

/**
 * The pointer as readers and the live projection see it: read at most once per `ttlMs` per projection and process
 * (one eventually consistent GetItem). A rebuild waits out this cache's lifetime at each phase change before it
 * relies on everyone having seen it (ADR 0009), so keep the two the same setting (`READ_MODEL_CACHE_MS`).
 */
export const cachedPointers = (
  client: DynamoDBDocumentClient,
  table: string,
  ttlMs: number,
  now: () => number = Date.now,
) => {
  const cache = new Map<string, { at: number; pointer: Promise<ReadModelPointer> }>();
  const read = async (projection: string): Promise<ReadModelPointer> => {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key: { pk: POINTER_PK, sk: projection } }));
    if (!Item) return initialPointer(projection);
    const { pk: _, sk: __, ...pointer } = Item;
    return pointer as ReadModelPointer;
  };
  return (projection: string): Promise<ReadModelPointer> => {
    const hit = cache.get(projection);
    if (hit && now() - hit.at < ttlMs) return hit.pointer;
    const pointer = read(projection);
    cache.set(projection, { at: now(), pointer });
    // A failed read is not cached: the next call tries again.
    pointer.catch(() => cache.delete(projection));
    return pointer;
  };
};

/**
 * The streams the live projection saw while a rebuild's bulk writes ran (`rebuild#<projection>#<runId>`, one item
 * per stream id): the catch-up re-applies exactly these.
 */
export const dynamoRebuildNotes = ({
  client,
  table,
}: {
  client: DynamoDBDocumentClient;
  table: string;
}): RebuildNotes => {
  const pk = (projection: string, runId: string) => `rebuild#${projection}#${runId}`;
  const batchWrite = (requests: Record<string, unknown>[]) => batchWriteAll(client, table, requests, 1);
  return {
    async note(projection, runId, streamIds) {
      await batchWrite(
        [...new Set(streamIds)].map((sk) => ({ PutRequest: { Item: { pk: pk(projection, runId), sk } } })),
      );
    },
    async noted(projection, runId) {
      const streams: string[] = [];
      for await (const page of paginateQuery(
        { client },
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk(projection, runId) },
          ProjectionExpression: 'sk',
          ConsistentRead: true,
        },
      )) {
        for (const item of page.Items ?? []) streams.push(String(item.sk));
      }
      return streams;
    },
    async forget(projection, runId, streamIds) {
      await batchWrite(streamIds.map((sk) => ({ DeleteRequest: { Key: { pk: pk(projection, runId), sk } } })));
    },
  };
};

export type { PointerStore, RebuildNotes };
