import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoViewStore } from '../../../adapters/viewStore.js';

/** A table of `n` keys, scanned in segments by key index, honouring Limit and ExclusiveStartKey. */
const fakeTable = (n: number) => {
  const keys = new Set(Array.from({ length: n }, (_, i) => i));
  const log: string[] = [];
  const client = {
    async send(command: unknown) {
      await new Promise((r) => setImmediate(r));
      if (command instanceof ScanCommand) {
        const { Segment = 0, TotalSegments = 1, Limit = 1e9, ExclusiveStartKey } = command.input;
        const after = (ExclusiveStartKey?.orderId as number | undefined) ?? -1;
        const mine = [...keys].filter((k) => k % TotalSegments === Segment && k > after).sort((a, b) => a - b);
        const page = mine.slice(0, Limit);
        const more = mine.length > Limit;
        return {
          Items: page.map((k) => ({ orderId: k })),
          ...(more ? { LastEvaluatedKey: { orderId: page.at(-1) } } : {}),
        };
      }
      if (command instanceof BatchWriteCommand) {
        const [requests = []] = Object.values(command.input.RequestItems ?? {});
        for (const r of requests) keys.delete((r.DeleteRequest?.Key as { orderId: number }).orderId);
        log.push(`delete ${requests.length}`);
        return {};
      }
      throw new Error('unexpected command');
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, keys, log };
};

describe('a guarded clear of a view table, over parallel scan segments', () => {
  it('visits every key, a hundred at a time', async () => {
    const { client, keys } = fakeTable(450);
    const store = dynamoViewStore({ client, table: 't' });
    expect(await store.clear(['orderId'], 4, async () => true)).toBe(450);
    expect(keys.size).toBe(0);
  });

  it('deletes nothing more once it has failed: a segment whose ask failed does not leave the others deleting', async () => {
    const { client, keys, log } = fakeTable(400);
    const store = dynamoViewStore({ client, table: 't' });
    let asks = 0;
    // The first ask (the pointer's GetItem) is throttled past the SDK's retries; the rest answer "still ours".
    const keepGoing = async () => {
      if (++asks === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return true;
    };
    await expect(store.clear(['orderId'], 2, keepGoing)).rejects.toThrow('Rate exceeded');
    const deletesWhenItFailed = log.length;
    const leftWhenItFailed = keys.size;
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(keys.size).toBe(leftWhenItFailed);
    expect(log).toHaveLength(deletesWhenItFailed);
  });
});
