import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatBytes, resetLocalState } from '../../../local/reset.js';

const folders: string[] = [];
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** A state folder as `npm start` leaves it. */
const givenStateFolder = async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-reset-'));
  folders.push(stateDir);
  const files: Record<string, string> = {
    'dynamodb/shared-local-instance.db': 'x'.repeat(2048),
    'kinesis/000005.ldb': 'k'.repeat(100),
    'checkpoints/local/relay-orderflow-local-events.json': '{}',
    'logs/local.jsonl': 'line\n',
    'logs/local.previous.jsonl': 'line\n',
    'logs/bench-orders.jsonl': 'line\n',
    'failures/local.jsonl': 'failure\n',
    'jwt/private.jwk': 'key',
    'cache/serverless-local-abc.json': '{}',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(stateDir, path, '..'), { recursive: true });
    await writeFile(join(stateDir, path), content);
  }
  return stateDir;
};

describe('npm run reset', () => {
  it("removes the stack's state, says what and how large, and keeps the signing keys and the cache", async () => {
    const stateDir = await givenStateFolder();
    const lines: string[] = [];
    const { removed, kept } = await resetLocalState({ stateDir, log: (line) => lines.push(line) });

    expect(removed.map((r) => r.path.slice(stateDir.length + 1)).sort()).toEqual([
      'checkpoints',
      'dynamodb',
      'failures/local.jsonl',
      'kinesis',
      'logs/local.jsonl',
      'logs/local.previous.jsonl',
    ]);
    expect(removed.find((r) => r.path.endsWith('dynamodb'))?.bytes).toBe(2048);
    // Other commands' logs stay, and an emptied folder goes.
    expect(kept).toEqual(['cache', 'jwt', 'logs/bench-orders.jsonl']);
    expect((await readdir(stateDir)).sort()).toEqual(['cache', 'jwt', 'logs']);
    expect(lines[0]).toMatch(/^reset: removed the local stack's state \(2\.\d KB\):$/);
    expect(lines.some((line) => /dynamodb\s+2\.0 KB$/.test(line))).toBe(true);
    expect(lines.at(-2)).toMatch(/^kept: .*cache\/, .*jwt\/ \(the JWT signing keys/);
    expect(lines.at(-1)).toBe(`kept, written by tests and benchmarks: ${join(stateDir, 'logs', 'bench-orders.jsonl')}`);

    const again: string[] = [];
    expect((await resetLocalState({ stateDir, log: (line) => again.push(line) })).removed).toEqual([]);
    expect(again[0]).toMatch(/^reset: nothing to remove/);
  });

  it('refuses while an npm start is running over the folder, and ignores a stack.json its crash left', async () => {
    const stateDir = await givenStateFolder();
    const stack = (pid: number) =>
      writeFile(join(stateDir, 'stack.json'), JSON.stringify({ pid, apiUrl: 'http://127.0.0.1:3000' }));
    // A process whose command line names start.ts, as `npm start`'s does.
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'local/start.ts']);
    try {
      await new Promise((resolve) => running.once('spawn', resolve));
      await stack(running.pid ?? -1);
      await expect(resetLocalState({ stateDir, log: () => undefined })).rejects.toThrow(
        `The local stack is running (pid ${running.pid}, API at http://127.0.0.1:3000): stop it (Ctrl-C) before resetting.`,
      );
      // Still starting, it has claimed the folder with its pid alone: its DynamoDB Local is no orphan to stop.
      await writeFile(join(stateDir, 'stack.json'), JSON.stringify({ pid: running.pid, stage: 'local' }));
      await expect(resetLocalState({ stateDir, log: () => undefined })).rejects.toThrow(
        `The local stack is starting (pid ${running.pid}): stop it (Ctrl-C) before resetting.`,
      );
      expect(existsSync(join(stateDir, 'dynamodb'))).toBe(true);
    } finally {
      running.kill();
    }
    await new Promise((resolve) => running.once('exit', resolve));

    await stack(running.pid ?? -1);
    const { removed } = await resetLocalState({ stateDir, log: () => undefined });
    expect(removed.map((r) => r.path.slice(stateDir.length + 1))).toContain('stack.json');
  });

  it('keeps the claim of the start that resets (npm start -- --fresh), and says nothing of it', async () => {
    const stateDir = await givenStateFolder();
    await writeFile(join(stateDir, 'stack.json'), JSON.stringify({ stage: 'local', pid: process.pid }));
    const lines: string[] = [];
    const { removed } = await resetLocalState({ stateDir, log: (line) => lines.push(line), claimedBy: process.pid });
    expect(removed.map((r) => r.path.slice(stateDir.length + 1))).toContain('dynamodb');
    expect(existsSync(join(stateDir, 'stack.json'))).toBe(true);
    expect(lines.join('\n')).not.toContain('stack.json');
  });

  it('formats sizes', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024 * 1024, 3 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KB',
      '1.5 KB',
      '10 MB',
      '3.0 GB',
    ]);
  });
});
