import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Full-jitter backoff for BatchWriteItem's unprocessed items: up to 50 ms, doubling, at most 2 s. */
export const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 50 * 2 ** attempt)));

/** Writes requests with BatchWriteItem, 25 a call, `concurrency` calls at once, sending unprocessed items again. */
export const batchWriteAll = async (
  client: DynamoDBDocumentClient,
  table: string,
  requests: Record<string, unknown>[],
  concurrency = 4,
): Promise<void> => {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  await Promise.all(
    Array.from({ length: Math.min(concurrency, chunks.length) }, async () => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
        let pending = chunk;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 0) await backoff(attempt);
          const { UnprocessedItems } = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          pending = (UnprocessedItems?.[table] ?? []) as typeof pending;
        }
      }
    }),
  );
};
