import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DAY_MS,
  describeStart,
  isAfter,
  measureBacklog,
  openCheckpoints,
  openShardIterator,
  startPosition,
  type IteratorStart,
  writeFileAtomically,
} from '../../../local/checkpoints.js';

const folders: string[] = [];
const folder = () => {
  const path = mkdtempSync(join(tmpdir(), 'orderflow-checkpoints-'));
  folders.push(path);
  return path;
};
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const named = (name: string, message = name) => Object.assign(new Error(message), { name });

describe('checkpoint files', () => {
  it('are written whole by writes that overlap: each has its own temporary file, and none is left behind', async () => {
    const file = join(folder(), 'executions.json');
    const texts = Array.from({ length: 20 }, (_, i) => JSON.stringify({ write: i, padding: 'x'.repeat(10_000) }));
    await Promise.all(texts.map((text) => writeFileAtomically(file, text)));
    expect(texts).toContain(await readFile(file, 'utf8'));
    expect(await readdir(join(file, '..'))).toEqual(['executions.json']);
  });

  it('coalesce advances into one write per interval, never one per record, and write the rest on close', async () => {
    const file = join(folder(), 'checkpoints', 'relay-events.json');
    const checkpoints = await openCheckpoints({ file, flushMs: 500 });
    checkpoints.restart('stream-1');
    for (let n = 1; n <= 1_000; n++) checkpoints.advance('shard-1', String(n), 1_000 + n);
    expect(existsSync(file)).toBe(false);

    const started = Date.now();
    while (!existsSync(file) && Date.now() - started < 10_000) await sleep(10);
    const written = JSON.parse(await readFile(file, 'utf8')) as { stream: string; shards: unknown };
    expect(written).toMatchObject({ stream: 'stream-1', shards: { 'shard-1': { sequenceNumber: '1000' } } });

    checkpoints.advance('shard-1', '1001', 2_001);
    checkpoints.finish('shard-0');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      shards: { 'shard-1': { sequenceNumber: '1000' } },
    });
    await checkpoints.close();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      shards: { 'shard-1': { sequenceNumber: '1001', recordedAt: 2_001 }, 'shard-0': { finished: true } },
    });
    // Replaced by a rename: no temporary file is left behind.
    expect(await readdir(join(file, '..'))).toEqual(['relay-events.json']);
  });

  it('are read back when opened again', async () => {
    const file = join(folder(), 'consumer.json');
    const first = await openCheckpoints({ file });
    first.restart('stream-1');
    first.advance('shard-1', '42', 7);
    await first.close();

    const second = await openCheckpoints({ file });
    expect(second.stream()).toBe('stream-1');
    expect(second.shard('shard-1')).toEqual({ sequenceNumber: '42', recordedAt: 7 });
    second.forget('shard-1');
    await second.close();
    expect((await openCheckpoints({ file })).shards()).toEqual([]);
  });

  it('say so when a file cannot be read, and start without it', async () => {
    const file = join(folder(), 'consumer.json');
    await writeFile(file, '{"shards": ');
    const lines: string[] = [];
    const checkpoints = await openCheckpoints({ file, log: (line) => lines.push(line) });
    expect(checkpoints.shards()).toEqual([]);
    expect(lines).toEqual([expect.stringMatching(/^WARNING: checkpoint file .* cannot be read .* trim horizon/)]);
  });

  it('are kept in memory only without a file: nothing is written', async () => {
    const dir = folder();
    const checkpoints = await openCheckpoints({ flushMs: 1 });
    checkpoints.advance('shard-1', '1', undefined);
    await sleep(20);
    await checkpoints.close();
    expect(checkpoints.shard('shard-1')).toEqual({ sequenceNumber: '1' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('where a shard starts', () => {
  const now = Date.UTC(2026, 10, 29, 12);

  it('at the trim horizon (or LATEST, if the mapping says so) without a checkpoint, after it with one', () => {
    expect(startPosition(undefined, { now })).toEqual({ type: 'TRIM_HORIZON', reason: 'no checkpoint' });
    expect(startPosition({ finished: false }, { now, initial: 'LATEST' })).toEqual({
      type: 'LATEST',
      reason: 'no checkpoint',
    });
    expect(startPosition({ sequenceNumber: '17', recordedAt: now - 3_000 }, { now })).toEqual({
      type: 'AFTER_SEQUENCE_NUMBER',
      sequenceNumber: '17',
      recordedAt: now - 3_000,
    });
  });

  it('at the trim horizon, with a warning, when the checkpoint is older than the retention; skipping what it covers', () => {
    const position = startPosition({ sequenceNumber: '17', recordedAt: now - 2 * DAY_MS }, { now });
    expect(position).toEqual({
      type: 'TRIM_HORIZON',
      warning: true,
      skipThrough: '17',
      reason: expect.stringMatching(/from 2 d ago\) is older than the stream's 24 h retention/),
    });
  });

  it('falls back to the trim horizon, saying why, when GetShardIterator refuses the checkpoint', async () => {
    const position = startPosition({ sequenceNumber: '17' }, { now });
    const attempts: IteratorStart[] = [];
    const refusing = (error: Error) => async (start: IteratorStart) => {
      attempts.push(start);
      if (start.type === 'AFTER_SEQUENCE_NUMBER') throw error;
      return 'iterator-at-trim-horizon';
    };

    const warnings: string[] = [];
    const trimmed = await openShardIterator(refusing(named('TrimmedDataAccessException')), position, (w) =>
      warnings.push(w),
    );
    expect(trimmed).toMatchObject({
      iterator: 'iterator-at-trim-horizon',
      position: { type: 'TRIM_HORIZON', warning: true, skipThrough: '17' },
    });
    expect(attempts.map((a) => a.type)).toEqual(['AFTER_SEQUENCE_NUMBER', 'TRIM_HORIZON']);

    const recreated = await openShardIterator(
      refusing(named('InvalidArgumentException', 'did not come from this stream')),
      position,
      (w) => warnings.push(w),
    );
    // Another stream's sequence numbers say nothing about this one: nothing is skipped.
    expect(recreated.position).not.toHaveProperty('skipThrough');
    expect(warnings).toEqual([
      expect.stringMatching(/checkpoint was trimmed .*; starting it at the trim horizon$/),
      expect.stringMatching(/not a position in this stream, which was created again .*trim horizon$/),
    ]);

    await expect(openShardIterator(refusing(named('ThrottlingException')), position, () => undefined)).rejects.toThrow(
      'ThrottlingException',
    );
    expect(
      await openShardIterator(
        async (start) => `iterator-${start.type}`,
        position,
        () => undefined,
      ),
    ).toMatchObject({ iterator: 'iterator-AFTER_SEQUENCE_NUMBER', position: { type: 'AFTER_SEQUENCE_NUMBER' } });
  });
});

describe('a checkpoint whose record the shard no longer holds', () => {
  it('starts the shard over, saying why, where reading after it would skip what is numbered below it', async () => {
    const position = startPosition({ sequenceNumber: '17' }, { now: Date.now() });
    const warnings: string[] = [];
    const iterator = async (start: IteratorStart) => `iterator-${start.type}`;
    // The stream's files lost their tail: nothing at or after 17, the next records will be numbered below it.
    const lost = await openShardIterator(
      iterator,
      position,
      (w) => warnings.push(w),
      async () => undefined,
    );
    expect(lost).toMatchObject({
      iterator: 'iterator-TRIM_HORIZON',
      position: { type: 'TRIM_HORIZON', warning: true },
    });
    expect(lost.position).not.toHaveProperty('skipThrough');
    expect(warnings).toEqual([expect.stringMatching(/no longer holds its checkpoint's record \(sequence 17\)/)]);
    // Held: read after it, as always.
    const held = await openShardIterator(
      iterator,
      position,
      (w) => warnings.push(w),
      async (at) => at,
    );
    expect(held).toMatchObject({
      iterator: 'iterator-AFTER_SEQUENCE_NUMBER',
      position: { type: 'AFTER_SEQUENCE_NUMBER' },
    });
    expect(warnings).toHaveLength(1);
  });
});

describe('the backlog on resume', () => {
  const pages = (...sizes: number[]) => {
    let sequence = 0;
    const read = async (iterator: string) => {
      const page = Number(iterator);
      const records = Array.from({ length: sizes[page] ?? 0 }, () => {
        sequence += 1;
        return { sequenceNumber: String(sequence), recordedAt: 1_000 * sequence };
      });
      return { records, next: String(page + 1) };
    };
    return read;
  };

  it('counts the records waiting, up to an empty page, and when the oldest was written', async () => {
    expect(await measureBacklog(pages(3, 2, 0, 5), '0')).toEqual({ records: 5, capped: false, oldestAt: 1_000 });
    expect(await measureBacklog(pages(0), '0')).toEqual({ records: 0, capped: false });
    expect(await measureBacklog(pages(3), undefined)).toEqual({ records: 0, capped: false });
  });

  it('stops at the cap, and leaves out what the checkpoint covers', async () => {
    expect(await measureBacklog(pages(3, 3, 3, 3), '0', { cap: 5 })).toMatchObject({ records: 6, capped: true });
    expect(await measureBacklog(pages(3, 3, 0), '0', { skipThrough: '4' })).toEqual({
      records: 2,
      capped: false,
      oldestAt: 5_000,
    });
  });

  it('is said in one line per shard', () => {
    const now = 100_000;
    expect(
      describeStart(
        'shard-1',
        { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: '17' },
        { records: 1_234, capped: false, oldestAt: 97_000 },
        now,
      ),
    ).toBe('resumed at shard shard-1 after sequence 17 (1,234 records to catch up, oldest from 3 s ago)');
    expect(
      describeStart(
        'shard-1',
        { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: '17' },
        { records: 0, capped: false },
        now,
      ),
    ).toBe('resumed at shard shard-1 after sequence 17 (nothing to catch up)');
    expect(
      describeStart(
        'shard-1',
        { type: 'TRIM_HORIZON', reason: 'no checkpoint' },
        { records: 10_000, capped: true, oldestAt: now - 2 * 3_600_000 },
        now,
      ),
    ).toBe(
      'started at trim horizon on shard shard-1 (no checkpoint; at least 10,000 records to catch up, oldest from 2 h ago)',
    );
  });
});

describe('sequence numbers', () => {
  it('compare as numbers of any length', () => {
    expect(
      isAfter(
        '49680663340370915051707933803455249370652268936881504259',
        '49680663340370915051707933803455249370652268936881504258',
      ),
    ).toBe(true);
    expect(isAfter('000000000000000000009', '000000000000000000010')).toBe(false);
    expect(isAfter('10', '9')).toBe(true);
    expect(isAfter('7', '7')).toBe(false);
  });
});
