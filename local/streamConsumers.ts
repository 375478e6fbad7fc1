import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { z } from 'zod';
import { invoke, loadHandler } from './lambda.js';
import { streamOfArn } from './kinesisLocal.js';
import type { ServerlessConfig } from './serverlessConfig.js';

/** A Kinesis event source mapping as serverless.yml declares it (the settings Lambda honours). */
const StreamEventSettings = z.looseObject({
  type: z.literal('kinesis'),
  arn: z.unknown(),
  batchSize: z.number().default(100),
  startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']).default('TRIM_HORIZON'),
  functionResponseType: z.string().optional(),
  bisectBatchOnFunctionError: z.boolean().default(false),
  maximumRetryAttempts: z.number().default(-1),
  filterPatterns: z.array(z.record(z.string(), z.unknown())).optional(),
  destinations: z.looseObject({ onFailure: z.unknown() }).optional(),
});
type StreamEventSettings = z.infer<typeof StreamEventSettings>;

export type ConsumerFailure = {
  functionName: string;
  shardId: string;
  firstSequence: string;
  lastSequence: string;
  records: number;
  reason: string;
};

export type StreamConsumers = {
  stop(): Promise<void>;
  /** Batches given up on: what Lambda sends to the on-failure destination (SQS on AWS). */
  failures: ConsumerFailure[];
  /** Records seen per function, filtered out or not. */
  delivered(functionName: string): number;
};

/** Whether a record's data (parsed JSON) matches one of the event filter patterns (Lambda's filter syntax). */
export const matchesFilters = (data: unknown, patterns: Record<string, unknown>[] | undefined): boolean => {
  if (!patterns || patterns.length === 0) return true;
  const matches = (value: unknown, pattern: unknown): boolean => {
    if (Array.isArray(pattern)) {
      return pattern.some((rule) => {
        if (rule !== null && typeof rule === 'object') {
          const r = rule as { prefix?: string; exists?: boolean; 'anything-but'?: unknown[] };
          if (r.prefix !== undefined) return typeof value === 'string' && value.startsWith(r.prefix);
          if (r.exists !== undefined) return (value !== undefined) === r.exists;
          if (r['anything-but']) return !r['anything-but'].includes(value);
          return false;
        }
        return value === rule;
      });
    }
    if (pattern !== null && typeof pattern === 'object') {
      if (value === null || typeof value !== 'object') return false;
      return Object.entries(pattern).every(([key, sub]) => matches((value as Record<string, unknown>)[key], sub));
    }
    return false;
  };
  return patterns.some((pattern) => matches({ data }, pattern));
};

const toLambdaRecord = (
  record: KinesisRecord,
  shardId: string,
  streamArn: string,
  region: string,
): KinesisStreamRecord => ({
  kinesis: {
    kinesisSchemaVersion: '1.0',
    partitionKey: record.PartitionKey ?? '',
    sequenceNumber: record.SequenceNumber ?? '',
    data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
    approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
  },
  eventSource: 'aws:kinesis',
  eventVersion: '1.0',
  eventID: `${shardId}:${record.SequenceNumber}`,
  eventName: 'aws:kinesis:record',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/local',
  awsRegion: region,
  eventSourceARN: streamArn,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Local only: Lambda's Kinesis event source mappings. For every function with a `stream` event of type kinesis,
 * it polls each shard of the stream, applies the filter patterns, and invokes the handler with batches of up to
 * `batchSize` records in the Kinesis event shape. It honours partial batch responses (retrying from the lowest
 * failed sequence number), bisects a failing batch when asked, gives up after `maximumRetryAttempts` and records
 * the batch as sent to the on-failure destination (a line in `failuresFile`, and the `failures` list).
 */
export const startStreamConsumers = async ({
  config,
  kinesis,
  pollMs = 50,
  failuresFile,
  log = () => undefined,
}: {
  config: ServerlessConfig;
  kinesis: KinesisClient;
  pollMs?: number;
  failuresFile?: string;
  log?: (line: string) => void;
}): Promise<StreamConsumers> => {
  let running = true;
  const failures: ConsumerFailure[] = [];
  const deliveredCount = new Map<string, number>();
  const loops: Promise<void>[] = [];

  const giveUp = async (failure: ConsumerFailure) => {
    failures.push(failure);
    log(
      `${failure.functionName}: gave up on ${failure.records} record(s) (${failure.reason}); sent to the on-failure destination`,
    );
    if (failuresFile) {
      await mkdir(dirname(failuresFile), { recursive: true });
      await appendFile(failuresFile, `${JSON.stringify({ ...failure, at: new Date().toISOString() })}\n`);
    }
  };

  for (const [functionName, fn] of Object.entries(config.functions ?? {})) {
    for (const event of fn.events ?? []) {
      const raw = (event as { stream?: unknown }).stream;
      if (!raw) continue;
      const settings = StreamEventSettings.parse(raw);
      const stream = streamOfArn(config, settings.arn);
      if (!stream) throw new Error(`${functionName} consumes a stream serverless.yml does not declare`);
      const handler = await loadHandler(fn);
      const streamArn = `arn:aws:kinesis:${config.provider.region}:000000000000:stream/${stream.name}`;
      const { StreamDescription } = await kinesis.send(new DescribeStreamCommand({ StreamName: stream.name }));
      for (const shard of StreamDescription?.Shards ?? []) {
        const shardId = shard.ShardId ?? '';
        loops.push(
          consumeShard({
            functionName,
            handler: (e) => invoke(config, functionName, handler, e),
            settings,
            streamName: stream.name,
            streamArn,
            shardId,
          }).catch((error: unknown) => {
            if (running)
              log(`${functionName}/${shardId} stopped: ${error instanceof Error ? error.message : String(error)}`);
          }),
        );
      }
    }
  }

  async function consumeShard({
    functionName,
    handler,
    settings,
    streamName,
    streamArn,
    shardId,
  }: {
    functionName: string;
    handler: (event: KinesisStreamEvent) => Promise<unknown>;
    settings: StreamEventSettings;
    streamName: string;
    streamArn: string;
    shardId: string;
  }): Promise<void> {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: settings.startingPosition,
      }),
    );
    const region = config.provider.region;
    const reportsItems = settings.functionResponseType === 'ReportBatchItemFailures';

    /** Invokes with `records` until they succeed or the retries run out; answers nothing, like Lambda. */
    const deliver = async (records: KinesisStreamRecord[], attempt = 0): Promise<void> => {
      // A mapping that retries forever (maximumRetryAttempts -1) still ends when the stack stops.
      if (records.length === 0 || !running) return;
      let failedFrom: number | undefined;
      let reason: string;
      try {
        const response = (await handler({ Records: records })) as KinesisStreamBatchResponse | undefined;
        const failed = reportsItems ? (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : [];
        if (failed.length === 0) return;
        // Lambda resumes from the lowest failed sequence number; everything after it comes again.
        const lowest = failed.reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b));
        failedFrom = Math.max(
          0,
          records.findIndex((r) => r.kinesis.sequenceNumber === lowest),
        );
        reason = `${failed.length} record(s) reported failed`;
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
        if (settings.bisectBatchOnFunctionError && records.length > 1) {
          const half = Math.ceil(records.length / 2);
          await deliver(records.slice(0, half), attempt + 1);
          await deliver(records.slice(half), attempt + 1);
          return;
        }
        failedFrom = 0;
      }
      const remaining = records.slice(failedFrom);
      if (settings.maximumRetryAttempts >= 0 && attempt >= settings.maximumRetryAttempts) {
        await giveUp({
          functionName,
          shardId,
          firstSequence: remaining[0]?.kinesis.sequenceNumber ?? '',
          lastSequence: remaining.at(-1)?.kinesis.sequenceNumber ?? '',
          records: remaining.length,
          reason,
        });
        return;
      }
      await sleep(Math.min(1000, 20 * 2 ** attempt));
      await deliver(remaining, attempt + 1);
    };

    while (running && iterator) {
      const { Records = [], NextShardIterator } = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: settings.batchSize }),
      );
      iterator = NextShardIterator;
      if (Records.length === 0) {
        await sleep(pollMs);
        continue;
      }
      deliveredCount.set(functionName, (deliveredCount.get(functionName) ?? 0) + Records.length);
      const matching = Records.filter((record) => {
        if (!settings.filterPatterns) return true;
        try {
          return matchesFilters(
            JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')),
            settings.filterPatterns,
          );
        } catch {
          return false; // Lambda drops records whose data is not JSON when the filter looks into the data.
        }
      });
      await deliver(matching.map((record) => toLambdaRecord(record, shardId, streamArn, region)));
    }
  }

  return {
    failures,
    delivered: (name) => deliveredCount.get(name) ?? 0,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
};
