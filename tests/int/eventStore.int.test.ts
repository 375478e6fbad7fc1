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
    // Ten events per append: one item each (ADR 0016), of ~80 KB.
    for (let from = 0; from < total; from += 10) {
      const batch = Array.from({ length: 10 }, (_, i) => ({ type: 'Padded', data: { n: from + i, padding } }));
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
    expect(firstPage.Items?.length).toBeLessThan(total / 10);

    const read = await events.readStream(streamId);
    expect(read.map((e) => e.version)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(read.map((e) => e.data.n)).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('answers a bounded read it has read whole before from memory, and reads a range not yet whole again', async () => {
    const reads = store();
    const streamId = uniqueId('settled');
    let queries = 0;
    const name = 'countSettledQueries';
    client.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'QueryCommand') queries++;
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      // Not there yet: read, and read again, since the range may still fill.
      expect(await reads.readStream(streamId, { toVersion: 1 })).toEqual([]);
      await reads.append(
        [{ streamId, expectedVersion: 0, events: [{ type: 'Noted', data: { n: 1 } }] }],
        testMetadata(),
      );
      const [first] = await reads.readStream(streamId, { toVersion: 1 });
      expect(first).toMatchObject({ version: 1, data: { n: 1 } });
      expect(queries).toBe(2);
      // Whole now: the same read again asks DynamoDB nothing, and answers a copy its caller may not spoil.
      if (first) first.data.n = 99;
      expect(await reads.readStream(streamId, { toVersion: 1 })).toEqual([{ ...first, data: { n: 1 } }]);
      expect(queries).toBe(2);
      // An unbounded read, or another range, still reads.
      await reads.append(
        [{ streamId, expectedVersion: 1, events: [{ type: 'Noted', data: { n: 2 } }] }],
        testMetadata(),
      );
      expect((await reads.readStream(streamId)).map((e) => e.data.n)).toEqual([1, 2]);
      expect((await reads.readStream(streamId, { afterVersion: 1, toVersion: 2 })).map((e) => e.data.n)).toEqual([2]);
      expect(queries).toBe(4);
      // Nothing after the last version: one query when told an append ended there, two when it may be inside one.
      expect(await reads.readStream(streamId, { afterVersion: 2, afterAnAppend: true })).toEqual([]);
      expect(queries).toBe(5);
      expect(await reads.readStream(streamId, { afterVersion: 2 })).toEqual([]);
      expect(queries).toBe(7);
    } finally {
      client.middlewareStack.remove(name);
    }
  });
});
