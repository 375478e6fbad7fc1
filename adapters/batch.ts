import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { backoff } from '../eventstore/dynamoBatch.js';

// Lives with the store, which reads balances in batches too.
export { batchGetAll } from '../eventstore/dynamoBatch.js';

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

/**
 * Reads a whole table by parallel Scan, `segments` at once, each page by page; `onPage` sees a page before its segment
 * reads the next. `input` is the Scan's own (table, projection, consistency, page size). Answers the items read.
 */
export const scanAll = async (
  client: DynamoDBDocumentClient,
  input: Omit<ScanCommandInput, 'Segment' | 'TotalSegments' | 'ExclusiveStartKey'>,
  segments: number,
  onPage: (items: Record<string, unknown>[]) => Promise<void>,
): Promise<number> => {
  let scanned = 0;
  // Once one segment fails, the others stop before their next page, and the scan answers only when all have.
  let failed = false;
  const results = await Promise.allSettled(
    Array.from({ length: segments }, async (_, segment) => {
      let lastKey: Record<string, unknown> | undefined;
      try {
        do {
          if (failed) return;
          const page = await client.send(
            new ScanCommand({
              ...input,
              Segment: segment,
              TotalSegments: segments,
              ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
            }),
          );
          scanned += page.Items?.length ?? 0;
          await onPage(page.Items ?? []);
          lastKey = page.LastEvaluatedKey;
        } while (lastKey);
      } catch (error) {
        failed = true;
        throw error;
      }
    }),
  );
  const rejected = results.find((result) => result.status === 'rejected');
  if (rejected) throw rejected.reason;
  return scanned;
};
