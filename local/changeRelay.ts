import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
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

export type ChangeRelay = { stop(): Promise<void>; relayed(): number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Local only: does what Kinesis Data Streams for DynamoDB does on AWS. For every table that serverless.yml streams
 * into Kinesis, it reads DynamoDB Local's own stream of the table (every shard, from the oldest record) and puts
 * each change into the Kinesis stream, partitioned by the item's partition key (the event's stream id).
 */
export const startChangeRelay = async ({
  config,
  dynamoEndpoint,
  kinesis,
  pollMs = 50,
  log = () => undefined,
  onRelayed = () => undefined,
  redeliverAfter = () => undefined,
}: {
  config: ServerlessConfig;
  dynamoEndpoint: string;
  kinesis: KinesisClient;
  pollMs?: number;
  log?: (line: string) => void;
  /** Sees the size of every record put on the stream (the meter counts them). */
  onRelayed?: (bytes: number) => void;
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

  const relays = tableResources(config).flatMap(([logicalId, properties]) => {
    const spec = properties.KinesisStreamSpecification as { StreamArn?: unknown } | undefined;
    const target = spec ? streamOfArn(config, spec.StreamArn) : undefined;
    if (!spec) return [];
    if (!target) throw new Error(`${logicalId} streams to a Kinesis stream serverless.yml does not declare`);
    return [{ tableName: String(properties.TableName), streamName: target.name }];
  });

  const relayTable = async ({ tableName, streamName }: { tableName: string; streamName: string }) => {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    const streamArn = Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`${tableName} has no stream in DynamoDB Local`);
    const iterators = new Map<string, string | undefined>();
    const finished = new Set<string>();
    while (running) {
      // Shards roll over: pick up new ones, follow each until it closes.
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      for (const shard of StreamDescription?.Shards ?? []) {
        const shardId = shard.ShardId;
        if (!shardId || iterators.has(shardId) || finished.has(shardId)) continue;
        const { ShardIterator } = await streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        iterators.set(shardId, ShardIterator);
      }
      let idle = true;
      for (const [shardId, iterator] of iterators) {
        if (!iterator) {
          iterators.delete(shardId);
          finished.add(shardId);
          continue;
        }
        const { Records = [], NextShardIterator } = await streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 500 }),
        );
        iterators.set(shardId, NextShardIterator);
        if (Records.length === 0) continue;
        idle = false;
        const entries = Records.map((record) => {
          const data = Buffer.from(JSON.stringify(kinesisChange(record, tableName, localAwsEnv.AWS_REGION)));
          onRelayed(data.length);
          return { Data: data, PartitionKey: String(record.dynamodb?.Keys?.streamId?.S ?? record.eventID) };
        });
        await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
        for (const entry of entries) {
          const delay = redeliverAfter();
          if (delay === undefined) continue;
          const copy: Promise<unknown> = new Promise((resolve) => setTimeout(resolve, delay))
            .then(async () => {
              if (running) await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: [entry] }));
            })
            .catch(() => undefined)
            .finally(() => copies.delete(copy));
          copies.add(copy);
        }
        count += Records.length;
      }
      if (idle) await sleep(pollMs);
    }
  };

  const loops = relays.map((relay) =>
    relayTable(relay).catch((error: unknown) => {
      if (running)
        log(`relay of ${relay.tableName} stopped: ${error instanceof Error ? error.message : String(error)}`);
    }),
  );
  log(`relaying ${relays.map((r) => `${r.tableName} → ${r.streamName}`).join(', ')}`);

  return {
    relayed: () => count,
    async stop() {
      running = false;
      await Promise.all([...loops, ...copies]);
      dynamo.destroy();
      streams.destroy();
    },
  };
};
