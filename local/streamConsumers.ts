import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import * as z from 'zod';
import {
  type Checkpoints,
  describeStart,
  type IteratorStart,
  isAfter,
  measureBacklog,
  openCheckpoints,
  openShardIterator,
  startPosition,
} from './checkpoints.js';
import { type Doorbell, doorbell, idlePoller } from './doorbell.js';
import { invoke, loadHandler } from './lambda.js';
import { streamOfArn } from './kinesisLocal.js';
import type { ServerlessConfig } from './serverlessConfig.js';

/** A Kinesis event source mapping as serverless.yml declares it (the settings Lambda honours). */
const StreamEventSettings = z.looseObject({
  type: z.literal('kinesis'),
  arn: z.unknown(),
  batchSize: z.number().default(100),
  /** MaximumBatchingWindowInSeconds: gather records this long before invoking, unless a full batch comes sooner. */
  batchWindow: z.number().min(0).max(300).default(0),
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
  /** Records per function that are behind its checkpoint: delivered successfully, given up on, or filtered out. */
  processed(functionName: string): number;
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

/** What a mapping's poll loop does after a read of its shard. */
export type AfterRead =
  { action: 'deliver' } | { action: 'wait'; ms: number } | { action: 'read' } | { action: 'rest' };

/**
 * Like Lambda's batching window: deliver once a full batch is in, or the window since the first record gathered is
 * over. A window still gathering reads again after `pollMs`, or when it closes if that is sooner, taking whatever came
 * meanwhile: reading again at once after every page that brought a few records would spin on GetRecords while they
 * trickle in, which Lambda's poller never does. Nothing gathered: a page that held records (all skipped, as read
 * before) is followed at once, and an empty one rests (ever longer while the shard stays idle, cut short when the
 * relay rings).
 */
export const afterRead = ({
  gathered,
  gatheringForMs,
  pageLength,
  batchSize,
  batchWindowMs,
  pollMs,
}: {
  gathered: number;
  gatheringForMs: number;
  pageLength: number;
  batchSize: number;
  batchWindowMs: number;
  pollMs: number;
}): AfterRead => {
  if (gathered > 0) {
    if (gathered >= batchSize || gatheringForMs >= batchWindowMs) return { action: 'deliver' };
    return { action: 'wait', ms: Math.min(pollMs, batchWindowMs - gatheringForMs) };
  }
  return pageLength > 0 ? { action: 'read' } : { action: 'rest' };
};

/** One function's event source mapping on one stream. */
type Mapping = {
  functionName: string;
  handler: (event: KinesisStreamEvent) => Promise<unknown>;
  settings: StreamEventSettings;
  streamName: string;
  streamArn: string;
  retentionMs: number;
  checkpoints: Checkpoints;
};

/** How many batches `failuresFile` lists (one line each); none when it is not there, or cannot be read. */
export const failuresListed = async (failuresFile: string): Promise<number> => {
  const text = await readFile(failuresFile, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line.trim() !== '').length;
};

/**
 * Local only: Lambda's Kinesis event source mappings. For every function with a `stream` event of type kinesis,
 * it polls each shard of the stream, applies the filter patterns, and invokes the handler with batches of up to
 * `batchSize` records in the Kinesis event shape. It honours partial batch responses (retrying from the lowest
 * failed sequence number), bisects a failing batch when asked, gives up after `maximumRetryAttempts` and records
 * the batch as sent to the on-failure destination (a line in `failuresFile`, and the `failures` list).
 *
 * Like Lambda, each mapping keeps its own position per shard: the last record delivered successfully, given up on
 * or filtered out. With `checkpointDir` that position is kept in `consumer-<function>-<stream>.json` there and a
 * restart resumes after it; a shard without one starts at the mapping's `startingPosition`.
 */
export const startStreamConsumers = async ({
  config,
  kinesis,
  pollMs = 50,
  maxIdleMs = 1000,
  bell = doorbell(),
  failuresFile,
  checkpointDir,
  checkpointFlushMs = 200,
  log = () => undefined,
}: {
  config: ServerlessConfig;
  kinesis: KinesisClient;
  /** The wait after a poll that found nothing, doubled on each such poll up to `maxIdleMs` (local/doorbell.ts). */
  pollMs?: number;
  maxIdleMs?: number;
  /** Rung by whoever just put records on a stream (the change relay): every mapping polls at once. */
  bell?: Doorbell;
  failuresFile?: string;
  /** Keep each mapping's positions here, to resume after a restart; in memory without it. */
  checkpointDir?: string;
  /** Checkpoints are written at most this often (and on stop), never per record. */
  checkpointFlushMs?: number;
  log?: (line: string) => void;
}): Promise<StreamConsumers> => {
  // A kept stack's operator learns at each start of the batches given up on and not yet handled (deleted once they
  // are): the file is the local on-failure destination, which nothing else says is holding anything.
  const listed = checkpointDir && failuresFile ? await failuresListed(failuresFile) : 0;
  if (listed > 0) {
    log(
      `${listed} batch(es) a consumer gave up on are listed in ${relative(process.cwd(), failuresFile ?? '')}: ` +
        'see docs/operations.md, "Change failures", and delete each line once handled',
    );
  }
  let running = true;
  const failures: ConsumerFailure[] = [];
  const deliveredCount = new Map<string, number>();
  const processedCount = new Map<string, number>();
  const loops: Promise<void>[] = [];
  const mappings: Mapping[] = [];
  const count = (counts: Map<string, number>, name: string, n: number) => counts.set(name, (counts.get(name) ?? 0) + n);

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
      const checkpoints = await openCheckpoints({
        ...(checkpointDir ? { file: join(checkpointDir, `consumer-${functionName}-${stream.name}.json`) } : {}),
        flushMs: checkpointFlushMs,
        log,
      });
      if (checkpoints.stream() !== streamArn) checkpoints.restart(streamArn);
      mappings.push({
        functionName,
        handler: (e) => invoke(config, functionName, handler, e),
        settings,
        streamName: stream.name,
        streamArn,
        retentionMs: stream.retentionHours * 60 * 60 * 1000,
        checkpoints,
      });
    }
  }

  const iteratorOf = (streamName: string, shardId: string) => (start: IteratorStart) =>
    kinesis
      .send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: start.type,
          ...(start.sequenceNumber ? { StartingSequenceNumber: start.sequenceNumber } : {}),
        }),
      )
      .then(({ ShardIterator }) => ShardIterator);

  /** Where each shard of a mapping starts, said in one line with how much is waiting; then its pollers run. */
  const startMapping = async (mapping: Mapping) => {
    const { functionName, streamName, checkpoints } = mapping;
    const warn = (line: string) => log(`WARNING: ${functionName}: ${line}`);
    const { StreamDescription } = await kinesis.send(new DescribeStreamCommand({ StreamName: streamName }));
    const shardIds = (StreamDescription?.Shards ?? []).flatMap((shard) => shard.ShardId ?? []);
    for (const [shardId, checkpoint] of checkpoints.shards()) {
      if (shardIds.includes(shardId)) continue;
      if (!checkpoint.finished) {
        warn(
          `shard ${shardId} of the checkpoint (after sequence ${checkpoint.sequenceNumber ?? '?'}) is gone from ` +
            `${streamName}: whatever it held after the checkpoint was not delivered`,
        );
      }
      checkpoints.forget(shardId);
    }
    const now = Date.now();
    const readPage = async (iterator: string) => {
      const { Records = [], NextShardIterator } = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
      );
      return {
        records: Records.map((r) => ({
          sequenceNumber: r.SequenceNumber,
          recordedAt: r.ApproximateArrivalTimestamp?.getTime(),
        })),
        next: NextShardIterator,
      };
    };
    const shards = await Promise.all(
      shardIds.map(async (shardId) => {
        const opened = await openShardIterator(
          iteratorOf(streamName, shardId),
          startPosition(checkpoints.shard(shardId), {
            now,
            retentionMs: mapping.retentionMs,
            initial: mapping.settings.startingPosition,
          }),
          (reason) => warn(`shard ${shardId}: ${reason}`),
          // The record at the checkpoint, or the first after it: the checkpoint's own while the shard holds it.
          async (sequenceNumber) => {
            const iterator = await iteratorOf(streamName, shardId)({ type: 'AT_SEQUENCE_NUMBER', sequenceNumber });
            if (!iterator) return undefined;
            const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }));
            return Records[0]?.SequenceNumber;
          },
        );
        const skipThrough = opened.position.type !== 'AFTER_SEQUENCE_NUMBER' ? opened.position.skipThrough : undefined;
        const backlog = await measureBacklog(readPage, opened.iterator, skipThrough ? { skipThrough } : {});
        return { shardId, ...opened, skipThrough, line: describeStart(shardId, opened.position, backlog, now) };
      }),
    );
    log(`${functionName}: ${shards.map((shard) => shard.line).join('; ')}`);
    for (const shard of shards) {
      loops.push(
        consumeShard(mapping, shard).catch((error: unknown) => {
          if (running)
            log(`${functionName}/${shard.shardId} stopped: ${error instanceof Error ? error.message : String(error)}`);
        }),
      );
    }
  };

  async function consumeShard(
    { functionName, handler, settings, streamName, streamArn, checkpoints }: Mapping,
    start: { shardId: string; iterator: string | undefined; skipThrough: string | undefined },
  ): Promise<void> {
    const { shardId } = start;
    let { iterator, skipThrough } = start;
    const region = config.provider.region;
    const reportsItems = settings.functionResponseType === 'ReportBatchItemFailures';

    /**
     * Invokes with `records` until they succeed or the retries run out, like Lambda. Answers false when the stack
     * stopped first: those records were not handled, and the checkpoint must not pass them.
     */
    const deliver = async (records: KinesisStreamRecord[], attempt = 0): Promise<boolean> => {
      if (records.length === 0) return true;
      // A mapping that retries forever (maximumRetryAttempts -1) still ends when the stack stops.
      if (!running) return false;
      let failedFrom: number | undefined;
      let reason: string;
      try {
        const response = (await handler({ Records: records })) as KinesisStreamBatchResponse | undefined;
        const failed = reportsItems ? (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : [];
        if (failed.length === 0) return true;
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
          return (
            (await deliver(records.slice(0, half), attempt + 1)) && (await deliver(records.slice(half), attempt + 1))
          );
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
        return true;
      }
      await sleep(Math.min(1000, 20 * 2 ** attempt));
      return deliver(remaining, attempt + 1);
    };

    /** Records read but not yet delivered: the batching window is gathering them. */
    let gathered: { records: KinesisRecord[]; since: number } | undefined;
    const poller = idlePoller(bell, pollMs, maxIdleMs);
    while (running && iterator) {
      poller.polling();
      let page: KinesisRecord[];
      try {
        const { Records = [], NextShardIterator } = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: settings.batchSize }),
        );
        page = Records;
        iterator = NextShardIterator;
      } catch (error) {
        // A batch retried for longer than an iterator lives (5 minutes): carry on after the checkpoint.
        const after = checkpoints.shard(shardId)?.sequenceNumber;
        if ((error as { name?: unknown }).name !== 'ExpiredIteratorException' || !after) throw error;
        gathered = undefined; // read again from the checkpoint
        iterator = await iteratorOf(streamName, shardId)({ type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: after });
        continue;
      }
      const bound = skipThrough;
      const Records = bound ? page.filter((record) => isAfter(record.SequenceNumber ?? '0', bound)) : page;
      if (bound && Records.length > 0) skipThrough = undefined;
      if (Records.length > 0) {
        gathered ??= { records: [], since: Date.now() };
        gathered.records.push(...Records);
      }
      poller.polled(page.length > 0);
      const next = afterRead({
        gathered: gathered?.records.length ?? 0,
        gatheringForMs: gathered ? Date.now() - gathered.since : 0,
        pageLength: page.length,
        batchSize: settings.batchSize,
        batchWindowMs: settings.batchWindow * 1000,
        pollMs,
      });
      if (next.action === 'wait') await sleep(next.ms);
      if (next.action === 'rest') await poller.rest();
      if (next.action !== 'deliver' || !gathered) continue;
      const batch = gathered.records;
      gathered = undefined;
      count(deliveredCount, functionName, batch.length);
      const matching = batch.filter((record) => {
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
      const lambdaRecords = matching.map((record) => toLambdaRecord(record, shardId, streamArn, region));
      let handled = true;
      for (let from = 0; handled && from < lambdaRecords.length; from += settings.batchSize) {
        handled = await deliver(lambdaRecords.slice(from, from + settings.batchSize));
      }
      if (!handled) break;
      const last = batch.at(-1);
      if (last?.SequenceNumber) {
        checkpoints.advance(shardId, last.SequenceNumber, last.ApproximateArrivalTimestamp?.getTime());
      }
      count(processedCount, functionName, batch.length);
    }
  }

  await Promise.all(
    mappings.map((mapping) =>
      startMapping(mapping).catch((error: unknown) => {
        log(`${mapping.functionName} stopped: ${error instanceof Error ? error.message : String(error)}`);
      }),
    ),
  );

  return {
    failures,
    delivered: (name) => deliveredCount.get(name) ?? 0,
    processed: (name) => processedCount.get(name) ?? 0,
    async stop() {
      running = false;
      bell.ring();
      await Promise.all(loops);
      await Promise.all(mappings.map((mapping) => mapping.checkpoints.close()));
    },
  };
};
