import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Full-jitter backoff for a batch call's unprocessed items or keys: up to 50 ms, doubling, at most 2 s. */
export const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 50 * 2 ** attempt)));

/**
 * Reads `keys` with BatchGetItem, 100 a call, strongly consistently unless told otherwise, asking again for
 * unprocessed keys. Answers the items found, in no particular order; `projection` names the attributes to read
 * (default: all).
 */
export const batchGetAll = async (
  client: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
  { projection, consistent = true }: { projection?: string; consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending = keys.slice(i, i + 100);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const { Responses, UnprocessedKeys } = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: consistent,
              ...(projection ? { ProjectionExpression: projection } : {}),
            },
          },
        }),
      );
      items.push(...(Responses?.[table] ?? []));
      pending = UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return items;
};
