import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { eventStoreContract } from '../support/eventStoreContract.js';
import { localStack, testMetadata, uniqueId } from '../support/stack.js';

const { client, tables, store } = localStack();

// The port's contract, on DynamoDB Local; tests/unit/eventstore/memoryEventStore.unit.test.ts runs it in memory.
eventStoreContract('DynamoDB', { store: (schemas) => store(schemas) });

describe('DynamoDB event store: DynamoDB only', () => {
  const events = store();

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
});
