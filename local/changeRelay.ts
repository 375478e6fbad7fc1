import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { join } from 'node:path';
import {
  type Checkpoints,
  DAY_MS,
  describeStart,
  type IteratorStart,
  isAfter,
  measureBacklog,
  openCheckpoints,
  openShardIterator,
  type StartPosition,
  startPosition,
} from './checkpoints.js';
import type { AttributeValue } from './capacity.js';
import { type Doorbell, doorbell, idlePoller } from './doorbell.js';
import { localAwsEnv, localClientConfig } from './dynamoLocal.js';
import { streamOfArn } from './kinesisLocal.js';
import { tableResources, type ServerlessConfig } from './serverlessConfig.js';

/**
 * A change as Kinesis Data Streams for DynamoDB writes it to the stream: the DynamoDB Streams record with its
 * images in DynamoDB JSON, a millisecond creation time, and the table's name.
 */
export const kinesisChange = (record: StreamRecord, tableName: string, region: string) => ({
  awsRegion: region,
  eventID: record.eventID,
  eventName: record.eventName,
  userIdentity: null,
  recordFormat: 'application/json',
  tableName,
  dynamodb: {
    ApproximateCreationDateTime: (record.dynamodb?.ApproximateCreationDateTime ?? new Date()).getTime(),
    ApproximateCreationDateTimePrecision: 'MILLISECOND',
    Keys: record.dynamodb?.Keys,
    NewImage: record.dynamodb?.NewImage,
    OldImage: record.dynamodb?.OldImage,
    SizeBytes: record.dynamodb?.SizeBytes,
  },
  eventSource: 'aws:dynamodb',
});

export type ChangeRelay = {
  stop(): Promise<void>;
  /** Records put on the stream by this relay since it started. */
  relayed(): number;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** DynamoDB Streams keeps a change for 24 hours. */
const streamRetentionMs = DAY_MS;

/** How often the relay looks for new shards of a table's stream while it reads the ones it has. */
const describeEveryMs = 1000;

/**
 * Local only: does what Kinesis Data Streams for DynamoDB does on AWS. For every table that serverless.yml streams
 * into Kinesis, it reads DynamoDB Local's own stream of the table (every shard) and puts each change into the
 * Kinesis stream, partitioned by the item's partition key (the event's stream id).
 *
 * With `checkpointDir` it keeps, per table, the last change it put on the Kinesis stream of each shard (and which
 * shards it read to their end) in `relay-<table>.json` there, and resumes after it when started again; a shard it
 * has never read starts at the trim horizon, as on AWS. Without it, every start reads from the trim horizon.
 */
export const startChangeRelay = async ({
  config,
  dynamoEndpoint,
  kinesis,
  pollMs = 50,
  maxIdleMs = 1000,
  bell = doorbell(),
  checkpointDir,
  checkpointFlushMs = 200,
  log = () => undefined,
  onRelayed = () => undefined,
  onPut = () => undefined,
  redeliverAfter = () => undefined,
}: {
  config: ServerlessConfig;
  dynamoEndpoint: string;
  kinesis: KinesisClient;
  /** The wait after a poll that found nothing, doubled on each such poll up to `maxIdleMs` (local/doorbell.ts). */
  pollMs?: number;
  maxIdleMs?: number;
  /** Rung by whoever may just have written to a streamed table: the relay polls at once. */
  bell?: Doorbell;
  /** Keep the relay's positions here, to resume after a restart; in memory without it. */
  checkpointDir?: string;
  /** Checkpoints are written at most this often (and on stop), never per record. */
  checkpointFlushMs?: number;
  log?: (line: string) => void;
  /** Sees the size of every record put on the stream, and the item it carries (the meter counts them). */
  onRelayed?: (bytes: number, image: Record<string, AttributeValue>) => void;
  /** Hears that records were put on a Kinesis stream: the consumers' doorbell. */
  onPut?: () => void;
  /**
   * For fault injection: answers a delay to put a record on the stream a second time after, or undefined. Kinesis
   * Data Streams for DynamoDB may deliver a change twice; a late copy also arrives out of order.
   */
  redeliverAfter?: () => number | undefined;
}): Promise<ChangeRelay> => {
  const clientConfig = {
    endpoint: dynamoEndpoint,
    ...localClientConfig,
  };
  const dynamo = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  let running = true;
  let count = 0;
  const copies = new Set<Promise<unknown>>();
  const opened: Checkpoints[] = [];

  const relays = tableResources(config).flatMap(([logicalId, properties]) => {
    const spec = properties.KinesisStreamSpecification as { StreamArn?: unknown } | undefined;
    const target = spec ? streamOfArn(config, spec.StreamArn) : undefined;
    if (!spec) return [];
    if (!target) throw new Error(`${logicalId} streams to a Kinesis stream serverless.yml does not declare`);
    return [{ tableName: String(properties.TableName), streamName: target.name }];
  });

  /** Puts entries on the stream, again for those Kinesis refused, until all are on it or the relay stops. */
  const put = async (streamName: string, entries: PutRecordsRequestEntry[]): Promise<boolean> => {
    let pending = entries;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (!running && attempt > 0) return false;
      const { FailedRecordCount = 0, Records = [] } = await kinesis.send(
        new PutRecordsCommand({ StreamName: streamName, Records: pending }),
      );
      if (FailedRecordCount < pending.length) onPut();
      if (FailedRecordCount === 0) return true;
      pending = pending.filter((_, index) => Records[index]?.ErrorCode);
      await sleep(Math.min(1000, 20 * 2 ** attempt));
    }
    return true;
  };

  /** `resumed` is called once the relay has said where each shard resumes, before it relays anything. */
  const relayTable = async (
    { tableName, streamName }: { tableName: string; streamName: string },
    resumed: () => void,
  ) => {
    const label = `relay ${tableName} → ${streamName}`;
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    const streamArn = Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`${tableName} has no stream in DynamoDB Local`);
    const checkpoints = await openCheckpoints({
      ...(checkpointDir ? { file: join(checkpointDir, `relay-${tableName}.json`) } : {}),
      flushMs: checkpointFlushMs,
      log,
    });
    opened.push(checkpoints);
    const previous = checkpoints.stream();
    if (previous !== streamArn) {
      if (previous && checkpoints.shards().length > 0) {
        log(
          `WARNING: ${label}: the checkpoint is for stream ${previous}, but the table's stream is now ${streamArn} ` +
            '(the table was created again?); its shards start at the trim horizon',
        );
      }
      checkpoints.restart(streamArn);
    }

    const iteratorOf = (shardId: string) => (start: IteratorStart) =>
      streams
        .send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shardId,
            ShardIteratorType: start.type,
            ...(start.sequenceNumber ? { SequenceNumber: start.sequenceNumber } : {}),
          }),
        )
        .then(({ ShardIterator }) => ShardIterator);
    const readPage = async (iterator: string) => {
      const { Records = [], NextShardIterator } = await streams.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
      );
      return {
        records: Records.map((record) => {
          // The event's own time, to the millisecond: DynamoDB Local's ApproximateCreationDateTime is cut to the
          // minute, so a backlog 9 s old read as 61 s.
          const recordedAt = Date.parse(record.dynamodb?.NewImage?.recordedAt?.S ?? '');
          return {
            sequenceNumber: record.dynamodb?.SequenceNumber,
            recordedAt: Number.isNaN(recordedAt) ? record.dynamodb?.ApproximateCreationDateTime?.getTime() : recordedAt,
          };
        }),
        next: NextShardIterator,
      };
    };

    /** Each open shard's iterator, and the sequence number up to which its records were relayed already. */
    const shards = new Map<string, { iterator: string | undefined; skipThrough?: string }>();
    const open = async (shardId: string, position: StartPosition) => {
      const opened = await openShardIterator(iteratorOf(shardId), position, (reason) =>
        log(`WARNING: ${label}: shard ${shardId}: ${reason}`),
      );
      const skipThrough = opened.position.type === 'TRIM_HORIZON' ? opened.position.skipThrough : undefined;
      shards.set(shardId, { iterator: opened.iterator, ...(skipThrough ? { skipThrough } : {}) });
      return opened;
    };

    // Where each shard resumes, said once, with how much is waiting.
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const present = new Set((StreamDescription?.Shards ?? []).flatMap((shard) => shard.ShardId ?? []));
    for (const [shardId, checkpoint] of checkpoints.shards()) {
      if (present.has(shardId)) continue;
      if (!checkpoint.finished) {
        log(
          `WARNING: ${label}: shard ${shardId} of the checkpoint (after sequence ${checkpoint.sequenceNumber ?? '?'}) ` +
            'is gone from the stream: whatever it held after the checkpoint was trimmed unread; the shards there now ' +
            'start at the trim horizon',
        );
      }
      checkpoints.forget(shardId);
    }
    const now = Date.now();
    const starts: string[] = [];
    for (const shardId of present) {
      const checkpoint = checkpoints.shard(shardId);
      if (checkpoint?.finished) continue;
      const { iterator, position } = await open(
        shardId,
        startPosition(checkpoint, { now, retentionMs: streamRetentionMs }),
      );
      const backlog = await measureBacklog(readPage, iterator, {
        ...(position.type === 'TRIM_HORIZON' && position.skipThrough ? { skipThrough: position.skipThrough } : {}),
      });
      starts.push(describeStart(shardId, position, backlog, now));
    }
    log(`${label}: ${starts.length > 0 ? starts.join('; ') : 'every shard was read to its end'}`);
    resumed();

    // Shards roll over rarely: look for new ones once a second, or as soon as one closes, not on every poll.
    let describedAt = 0;
    const poller = idlePoller(bell, pollMs, maxIdleMs);
    while (running) {
      poller.polling();
      // Pick up new shards (from their start, as never read), and follow each until it closes.
      if (Date.now() - describedAt >= describeEveryMs) {
        describedAt = Date.now();
        const { StreamDescription: described } = await streams.send(
          new DescribeStreamCommand({ StreamArn: streamArn }),
        );
        for (const shard of described?.Shards ?? []) {
          const shardId = shard.ShardId;
          if (!shardId || shards.has(shardId) || checkpoints.shard(shardId)?.finished) continue;
          await open(shardId, startPosition(checkpoints.shard(shardId), { now: Date.now() }));
        }
      }
      let idle = true;
      for (const [shardId, shard] of shards) {
        if (!running) break;
        if (!shard.iterator) {
          shards.delete(shardId);
          checkpoints.finish(shardId);
          describedAt = 0;
          continue;
        }
        let page: StreamRecord[];
        let NextShardIterator: string | undefined;
        try {
          ({ Records: page = [], NextShardIterator } = await streams.send(
            new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 500 }),
          ));
        } catch (error) {
          // DynamoDB Local trims a shard under an idle iterator, and an iterator expires after 15 minutes: open the
          // shard again after the last record relayed (checkpoint), never skipping one silently.
          const name = (error as { name?: unknown }).name;
          if (name !== 'TrimmedDataAccessException' && name !== 'ExpiredIteratorException') throw error;
          log(`${label}: shard ${shardId}: ${String(name)}; opening it again after the last record relayed`);
          await open(shardId, startPosition(checkpoints.shard(shardId), { now: Date.now() }));
          idle = false;
          continue;
        }
        const { skipThrough } = shard;
        const Records = skipThrough
          ? page.filter((record) => isAfter(record.dynamodb?.SequenceNumber ?? '0', skipThrough))
          : page;
        if (skipThrough && Records.length > 0) delete shard.skipThrough;
        if (Records.length === 0) {
          shard.iterator = NextShardIterator;
          continue;
        }
        idle = false;
        const entries = Records.map((record) => {
          const data = Buffer.from(JSON.stringify(kinesisChange(record, tableName, localAwsEnv.AWS_REGION)));
          onRelayed(data.length, record.dynamodb?.NewImage ?? {});
          return { Data: data, PartitionKey: String(record.dynamodb?.Keys?.streamId?.S ?? record.eventID) };
        });
        // Stopped before the stream took them all: the checkpoint stays before this page, which comes again.
        if (!(await put(streamName, entries))) break;
        shard.iterator = NextShardIterator;
        const last = Records.at(-1)?.dynamodb;
        if (last?.SequenceNumber) {
          checkpoints.advance(shardId, last.SequenceNumber, last.ApproximateCreationDateTime?.getTime());
        }
        for (const entry of entries) {
          const delay = redeliverAfter();
          if (delay === undefined) continue;
          const copy: Promise<unknown> = new Promise((resolve) => setTimeout(resolve, delay))
            .then(async () => {
              if (!running) return;
              await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: [entry] }));
              onPut();
            })
            .catch(() => undefined)
            .finally(() => copies.delete(copy));
          copies.add(copy);
        }
        count += Records.length;
      }
      poller.polled(!idle);
      if (idle) await poller.rest();
    }
  };

  // Started once each relay has said where it resumes: its line comes before the stack says it is running, as the
  // consumers' do.
  const loops: Promise<void>[] = [];
  await Promise.all(
    relays.map(
      (relay) =>
        new Promise<void>((resumed) => {
          const loop = relayTable(relay, resumed).catch((error: unknown) => {
            if (running)
              log(`relay of ${relay.tableName} stopped: ${error instanceof Error ? error.message : String(error)}`);
          });
          loops.push(loop.finally(resumed));
        }),
    ),
  );

  return {
    relayed: () => count,
    async stop() {
      running = false;
      bell.ring();
      await Promise.all([...loops, ...copies]);
      await Promise.all(opened.map((checkpoints) => checkpoints.close()));
      dynamo.destroy();
      streams.destroy();
    },
  };
};
