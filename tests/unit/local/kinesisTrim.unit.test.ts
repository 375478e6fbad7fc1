import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type KinesisLocal, startKinesalite, trimExpiredRecords } from '../../../local/kinesisLocal.js';

const day = 24 * 3_600_000;
let kinesis: KinesisLocal | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await kinesis?.stop();
});

describe("trimming kinesalite's expired records", () => {
  it('deletes the records past the retention from the store, and keeps every later one', async () => {
    const now = Date.now();
    // Only Date is faked: kinesalite stamps each record with Date.now(), and its server needs real timers.
    vi.useFakeTimers({ toFake: ['Date'], now: now - day - 3_600_000 });
    kinesis = await startKinesalite();
    const { client } = kinesis;
    const StreamName = 'changes';
    await client.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
    await expect
      .poll(async () => (await client.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary)
      .toMatchObject({ StreamStatus: 'ACTIVE' });
    const put = (data: string[]) =>
      client.send(
        new PutRecordsCommand({
          StreamName,
          Records: data.map((text) => ({ PartitionKey: 'p', Data: Buffer.from(text) })),
        }),
      );
    await put(['old-1', 'old-2', 'old-3']);
    vi.setSystemTime(now);
    await put(['new-1', 'new-2']);

    // Pages of one record: the three expired ones (deleted as they are read), then the first still within the day.
    expect(await trimExpiredRecords(client, [StreamName], { pageSize: 1 })).toBe(4);

    // Read back from a day before the old ones, when they were not yet expired: deleted, they are not there at all.
    vi.setSystemTime(now - day - 1_800_000);
    const readAll = async () => {
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({ StreamName, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }),
      );
      const { Records = [] } = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 100 }));
      return Records.map((record) => Buffer.from(record.Data ?? new Uint8Array()).toString());
    };
    await expect.poll(readAll).toEqual(['new-1', 'new-2']);
  });
});
