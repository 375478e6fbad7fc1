import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** How far one reader got on one shard. */
export type ShardCheckpoint = {
  /** The last record handled: relayed, delivered successfully, or given up on. */
  sequenceNumber?: string;
  /** When that record was written to its stream (ms since the epoch): tells whether what came after may be trimmed. */
  recordedAt?: number;
  /** The shard is closed and every record of it was handled. */
  finished?: boolean;
};

/** A checkpoint file: one reader (the relay of one table, or one function's event source mapping) on one stream. */
export type CheckpointFile = {
  /** The stream the positions are in: a DynamoDB stream's ARN changes when its table is created again. */
  stream?: string;
  shards: Record<string, ShardCheckpoint>;
  updatedAt?: string;
};

export type Checkpoints = {
  /** Where the positions are kept; undefined when the stack keeps no state (tests), and nothing is written. */
  readonly file: string | undefined;
  /** The stream the positions were taken on. */
  stream(): string | undefined;
  shard(shardId: string): ShardCheckpoint | undefined;
  shards(): [string, ShardCheckpoint][];
  /** Records that the shard was handled up to this record. Written within `flushMs`, never per record. */
  advance(shardId: string, sequenceNumber: string, recordedAt: number | undefined): void;
  /** Records that the shard is closed and was read to its end. */
  finish(shardId: string): void;
  forget(shardId: string): void;
  /** Positions on another stream mean nothing here: start over on `stream`. */
  restart(stream: string): void;
  /** Writes what changed since the last write, now. */
  flush(): Promise<void>;
  /** Writes what is left and stops the timer. */
  close(): Promise<void>;
};

let temporaries = 0;

/**
 * Writes `text` to `file` so that a reader sees the old content or the new, never half of either. Each write has a
 * temporary file of its own: two writes at once to one name would rename each other's away.
 */
export const writeFileAtomically = async (file: string, text: string): Promise<void> => {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${(temporaries += 1)}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
};

const readCheckpointFile = async (file: string, warn: (line: string) => void): Promise<CheckpointFile | undefined> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<CheckpointFile>;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.shards !== 'object' || !parsed.shards) {
      throw new Error('no shards');
    }
    return { ...(parsed.stream ? { stream: parsed.stream } : {}), shards: parsed.shards };
  } catch (error) {
    warn(
      `WARNING: checkpoint file ${file} cannot be read (${error instanceof Error ? error.message : String(error)}); ` +
        'its shards start at the trim horizon, so records may be handled a second time',
    );
    return undefined;
  }
};

/**
 * The checkpoints of one reader, kept in `file` (JSON, replaced atomically) or, without a file, in memory only.
 * Advancing is cheap: the file is written at most every `flushMs` (coalescing every advance in between) and on
 * close, so a crash loses at most that much progress, and those records are handled again (at least once, as
 * on AWS).
 */
export const openCheckpoints = async ({
  file,
  flushMs = 200,
  log = () => undefined,
}: {
  file?: string;
  flushMs?: number;
  log?: (line: string) => void;
}): Promise<Checkpoints> => {
  const state: CheckpointFile = (file ? await readCheckpointFile(file, log) : undefined) ?? { shards: {} };
  let dirty = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;

  const flush = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    while (writing) await writing;
    if (!dirty || !file) return;
    dirty = false;
    const { stream, shards } = state;
    const text = `${JSON.stringify({ stream, shards, updatedAt: new Date().toISOString() }, null, 2)}\n`;
    writing = writeFileAtomically(file, text)
      .catch((error: unknown) => {
        dirty = true; // Tried again at the next advance or on close.
        log(`WARNING: could not write checkpoint ${file}: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        writing = undefined;
      });
    await writing;
  };

  const changed = () => {
    if (!file) return;
    dirty = true;
    if (timer || closed) return;
    timer = setTimeout(() => void flush(), flushMs);
    timer.unref();
  };

  return {
    file,
    stream: () => state.stream,
    shard: (shardId) => state.shards[shardId],
    shards: () => Object.entries(state.shards),
    advance(shardId, sequenceNumber, recordedAt) {
      state.shards[shardId] = { sequenceNumber, ...(recordedAt !== undefined ? { recordedAt } : {}) };
      changed();
    },
    finish(shardId) {
      state.shards[shardId] = { ...state.shards[shardId], finished: true };
      changed();
    },
    forget(shardId) {
      if (!(shardId in state.shards)) return;
      state.shards = Object.fromEntries(Object.entries(state.shards).filter(([id]) => id !== shardId));
      changed();
    },
    restart(stream) {
      state.stream = stream;
      state.shards = {};
      changed();
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
  };
};

/** Where a reader starts on a shard, and why. */
export type StartPosition =
  | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string; recordedAt?: number }
  | {
      /** TRIM_HORIZON, or LATEST for an event source mapping that says so and has no checkpoint yet. */
      type: 'TRIM_HORIZON' | 'LATEST';
      /** Why not after a checkpoint: `no checkpoint`, or the warning that a checkpoint could not be used. */
      reason: string;
      warning?: boolean;
      /** Records up to this one were handled already: skip them (the checkpoint's shard is the same). */
      skipThrough?: string;
    };

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Where to start reading a shard: after its checkpoint, or at the trim horizon when there is none (a shard never
 * read starts there, as on AWS). A checkpoint whose record is older than the stream's retention may be followed
 * by records that were trimmed unread: that is said, and the shard is read from the trim horizon, skipping what
 * the checkpoint covers.
 */
export const startPosition = (
  checkpoint: ShardCheckpoint | undefined,
  {
    now,
    retentionMs = DAY_MS,
    initial = 'TRIM_HORIZON',
  }: { now: number; retentionMs?: number; initial?: 'TRIM_HORIZON' | 'LATEST' },
): StartPosition => {
  const sequenceNumber = checkpoint?.sequenceNumber;
  if (!sequenceNumber) return { type: initial, reason: 'no checkpoint' };
  const recordedAt = checkpoint.recordedAt;
  if (recordedAt !== undefined && now - recordedAt > retentionMs) {
    return {
      type: 'TRIM_HORIZON',
      warning: true,
      skipThrough: sequenceNumber,
      reason:
        `its checkpoint (after sequence ${sequenceNumber}, a record from ${ago(now - recordedAt)}) is older than the ` +
        `stream's ${formatDuration(retentionMs)} retention, so records after it may have been trimmed unread`,
    };
  }
  return { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber, ...(recordedAt !== undefined ? { recordedAt } : {}) };
};

/**
 * Whether GetShardIterator's error means the checkpoint cannot be used: its record was trimmed
 * (TrimmedDataAccessException), the shard is gone (ResourceNotFoundException), or the sequence number is not of
 * this stream, which was created again (InvalidArgumentException).
 */
export const checkpointUnusable = (error: unknown): string | undefined => {
  const name = (error as { name?: unknown } | null)?.name;
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'TrimmedDataAccessException') return `its checkpoint was trimmed from the stream (${message})`;
  if (name === 'ResourceNotFoundException') return `the shard is gone (${message})`;
  if (name === 'InvalidArgumentException' || name === 'ValidationException') {
    return `its checkpoint is not a position in this stream, which was created again (${message})`;
  }
  return undefined;
};

export type IteratorStart =
  | { type: 'AFTER_SEQUENCE_NUMBER' | 'AT_SEQUENCE_NUMBER'; sequenceNumber: string }
  | { type: 'TRIM_HORIZON' | 'LATEST'; sequenceNumber?: undefined };

/**
 * Opens a shard iterator at `position`. When GetShardIterator says the checkpoint cannot be used, `warn` is told
 * why and the shard starts at the trim horizon instead: records are never skipped silently. So does a checkpoint
 * whose record the shard no longer holds, when `recordAt` can tell (the sequence number of the record at or after
 * it): a stream whose files lost their tail (a truncated kinesalite log) numbers its next records below the
 * checkpoint, and reading after it would skip them until the numbers caught up. Answers the iterator and where it
 * really starts.
 */
export const openShardIterator = async (
  getIterator: (start: IteratorStart) => Promise<string | undefined>,
  position: StartPosition,
  warn: (reason: string) => void,
  recordAt?: (sequenceNumber: string) => Promise<string | undefined>,
): Promise<{ iterator: string | undefined; position: StartPosition }> => {
  let start = position;
  if (start.type === 'AFTER_SEQUENCE_NUMBER') {
    const checkpoint = start.sequenceNumber;
    try {
      if (!recordAt || (await recordAt(checkpoint)) === checkpoint) {
        return { iterator: await getIterator(start), position: start };
      }
      start = {
        type: 'TRIM_HORIZON',
        warning: true,
        reason:
          `the shard no longer holds its checkpoint's record (sequence ${checkpoint}): its files lost ` +
          'records, so what it holds is read again',
      };
    } catch (error) {
      const reason = checkpointUnusable(error);
      if (!reason) throw error;
      const trimmed = (error as { name?: unknown }).name === 'TrimmedDataAccessException';
      start = {
        type: 'TRIM_HORIZON',
        warning: true,
        reason,
        // Trimmed: what is left all comes after the checkpoint, and skipping through it costs nothing.
        ...(trimmed ? { skipThrough: checkpoint } : {}),
      };
    }
  }
  if (start.warning) warn(`${start.reason}; starting it at the trim horizon`);
  return { iterator: await getIterator({ type: start.type }), position: start };
};

/** Whether sequence number `a` comes after `b` in one shard (both are decimal strings, of any length). */
export const isAfter = (a: string, b: string): boolean => {
  try {
    return BigInt(a) > BigInt(b);
  } catch {
    return a.length === b.length ? a > b : a.length > b.length;
  }
};

export type Backlog = { records: number; capped: boolean; oldestAt?: number };

/**
 * How many records are waiting from `iterator` on (read with an iterator of its own), and when the oldest was
 * written. Stops counting at `cap`, so a stream read from the trim horizon is not read twice in full.
 */
export const measureBacklog = async (
  read: (
    iterator: string,
  ) => Promise<{ records: { sequenceNumber?: string; recordedAt?: number }[]; next?: string | undefined }>,
  iterator: string | undefined,
  { skipThrough, cap = 10_000 }: { skipThrough?: string; cap?: number } = {},
): Promise<Backlog> => {
  let records = 0;
  let oldestAt: number | undefined;
  let next = iterator;
  while (next) {
    const page = await read(next);
    const waiting = skipThrough
      ? page.records.filter((r) => r.sequenceNumber === undefined || isAfter(r.sequenceNumber, skipThrough))
      : page.records;
    if (oldestAt === undefined) oldestAt = waiting[0]?.recordedAt;
    records += waiting.length;
    if (records >= cap) return { records, capped: true, ...(oldestAt !== undefined ? { oldestAt } : {}) };
    // Locally an empty page is the end of what there is (DynamoDB Local and kinesalite answer all they have).
    if (page.records.length === 0) break;
    next = page.next;
  }
  return { records, capped: false, ...(oldestAt !== undefined ? { oldestAt } : {}) };
};

export const formatDuration = (ms: number): string => {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
};

const ago = (ms: number): string => `${formatDuration(ms)} ago`;

/** One shard's part of a resume line: where it starts, and how much is waiting. */
export const describeStart = (
  shardId: string,
  position: StartPosition,
  backlog: Backlog | undefined,
  now: number,
): string => {
  const waiting = !backlog
    ? ''
    : backlog.records === 0
      ? 'nothing to catch up'
      : `${backlog.capped ? 'at least ' : ''}${backlog.records.toLocaleString('en-US')} record${backlog.records === 1 ? '' : 's'} to catch up` +
        (backlog.oldestAt !== undefined ? `, oldest from ${ago(now - backlog.oldestAt)}` : '');
  if (position.type === 'AFTER_SEQUENCE_NUMBER') {
    return `resumed at shard ${shardId} after sequence ${position.sequenceNumber}${waiting ? ` (${waiting})` : ''}`;
  }
  const why = position.warning ? 'its checkpoint could not be used, see the warning' : position.reason;
  const where = position.type === 'LATEST' ? 'latest' : 'trim horizon';
  return `started at ${where} on shard ${shardId} (${why}${waiting ? `; ${waiting}` : ''})`;
};
