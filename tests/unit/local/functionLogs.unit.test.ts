import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rotatedLogFile, recordFunctionLogs } from '../../../local/functionLogs.js';

const folders: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A fresh folder, removed after the test. */
const freshFolder = (): string => {
  const folder = mkdtempSync(join(tmpdir(), 'orderflow-logs-'));
  folders.push(folder);
  return folder;
};

/** A record of 1,000 bytes a file into a fresh folder, and its file's path. */
const smallRecord = () => {
  const file = join(freshFolder(), 'local.jsonl');
  return { file, logs: recordFunctionLogs(file, 'info', { stdout: false, maxBytes: 1_000 }) };
};

/** `lines`, each after a turn of the event loop, as between a stack's requests: the file is open by the first full one. */
const writeSlowly = async (logs: ReturnType<typeof recordFunctionLogs>, lines: string[]) => {
  for (const line of lines) {
    logs.stack(line);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

describe('the local record of the functions’ logs', () => {
  it('says once that it cannot write its file, and the stack goes on: no crash, and its stop ends', async () => {
    const folder = freshFolder();
    const said = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // A folder where the file should be: opening it for writing fails (EISDIR), as a read-only one would (EROFS).
    const logs = recordFunctionLogs(folder, 'info', { stdout: false });
    logs.stack('one');
    await new Promise((resolve) => setTimeout(resolve, 50));
    logs.stack('two');
    await Promise.race([
      logs.stop(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('stop did not end')), 2_000)),
    ]);
    expect(said.mock.calls).toEqual([[expect.stringContaining(`Function logs are not recorded in ${folder}`)]]);
  });

  it('has each line in the file once written, before any stop: a process killed the next moment loses none', async () => {
    const { file, logs } = smallRecord();
    logs.stack('the last line before a kill -9');
    const read = readFileSync(file, 'utf8');
    // Stopped all the same: it lifts the record's mute of stdout, which other files' tests in this worker share.
    await logs.stop();
    expect(read).toContain('the last line before a kill -9');
  });

  it('moves a full file to its .rotated.jsonl and begins again, keeping every line in one or the other', async () => {
    const { file, logs } = smallRecord();
    await writeSlowly(
      logs,
      Array.from({ length: 30 }, (_, i) => `line ${i}`),
    );
    // stop() waits for the moved file's stream too: an exit right after it loses no line.
    await logs.stop();
    const messages = (path: string) =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { message: string }).message);
    const [older, latest] = [messages(rotatedLogFile(file)), messages(file)];
    // About 70 bytes a line: each file holds at most 1,000 bytes, and none is lost or repeated across the last two.
    expect(statSync(file).size).toBeLessThanOrEqual(1_000);
    expect(statSync(rotatedLogFile(file)).size).toBeLessThanOrEqual(1_000);
    expect(latest.at(-1)).toBe('line 29');
    expect([...older, ...latest]).toEqual(
      Array.from({ length: older.length + latest.length }, (_, i) => `line ${30 - older.length - latest.length + i}`),
    );
    expect(older.length + latest.length).toBeLessThan(30);
  });

  it('counts a line by its bytes, not its characters: lines of accented letters keep each file within its size', async () => {
    const { file, logs } = smallRecord();
    // About 160 characters a line, and 260 bytes in UTF-8.
    await writeSlowly(
      logs,
      Array.from({ length: 12 }, (_, i) => `${i} ${'é'.repeat(100)}`),
    );
    await logs.stop();
    expect(statSync(file).size).toBeLessThanOrEqual(1_000);
    expect(statSync(rotatedLogFile(file)).size).toBeLessThanOrEqual(1_000);
  });

  it('writes the API’s access log lines beside the functions’, their fields kept, marked as the API’s', async () => {
    const folder = freshFolder();
    const file = join(folder, 'local.jsonl');
    const logs = recordFunctionLogs(file, 'info', { stdout: false });
    logs.access('{"requestId":"r-1","status":"401"}');
    logs.access('not json');
    await logs.stop();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toMatchObject([
      { source: 'api', requestId: 'r-1', status: '401' },
      { source: 'api', message: 'not json' },
    ]);
  });
});
