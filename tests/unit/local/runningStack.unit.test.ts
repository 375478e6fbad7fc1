import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimStateFolder, deadClaim, serving, stackHolding } from '../../../local/runningStack.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

const stackFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-claim-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'stack.json');
};

/** A live process whose command line names start.ts, as an `npm start`'s does: a start that could hold the folder. */
const aStart = async (): Promise<number> => {
  const child: ChildProcess = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'local/start.ts']);
  cleanups.push(() => child.kill());
  await new Promise((resolve) => child.once('spawn', resolve));
  return child.pid ?? -1;
};

const holderIn = async (file: string) => (JSON.parse(await readFile(file, 'utf8')) as { pid: number }).pid;

describe('claiming the state folder before a start', () => {
  it('claims a free folder, and one a crashed stack left its file in', async () => {
    const file = stackFile();
    const me = await aStart();
    expect(await claimStateFolder({ stage: 'local', file, pid: me })).toBeUndefined();
    expect(await holderIn(file)).toBe(me);

    const stale = stackFile();
    await writeFile(stale, JSON.stringify({ pid: 2 ** 22 + 1, apiUrl: 'http://127.0.0.1:3000' }));
    expect(await claimStateFolder({ stage: 'local', file: stale, pid: me })).toBeUndefined();
    expect(await holderIn(stale)).toBe(me);
  });

  it('tells a start still starting, which holds the folder, from a running stack, which ops commands can reach', async () => {
    const file = stackFile();
    const other = await aStart();
    await writeFile(file, JSON.stringify({ stage: 'local', pid: other }));
    expect(await stackHolding(file)).toEqual({ stage: 'local', pid: other });
    expect(serving(await stackHolding(file))).toBeUndefined();
    await writeFile(file, JSON.stringify({ stage: 'local', pid: other, apiUrl: 'http://127.0.0.1:3000' }));
    expect(serving(await stackHolding(file))).toMatchObject({ pid: other, apiUrl: 'http://127.0.0.1:3000' });
  });

  it('refuses a folder a live start holds, leaving its claim as it was', async () => {
    const file = stackFile();
    const other = await aStart();
    await writeFile(file, JSON.stringify({ stage: 'local', pid: other }));
    expect(await claimStateFolder({ stage: 'local', file, pid: await aStart() })).toEqual({
      stage: 'local',
      pid: other,
    });
    expect(await holderIn(file)).toBe(other);
  });

  it('calls a claim dead only when it is there and its start is gone: never an absent one, which a start may be creating', async () => {
    // The takeover removes only what this calls dead. Called dead when absent, a start that linked its claim just
    // after the look would lose it, and two starts would hold the folder (seen once in six-start rounds).
    const file = stackFile();
    expect(await deadClaim(file, process.pid)).toBe(false);
    await writeFile(file, '');
    expect(await deadClaim(file, process.pid)).toBe(false);
    await writeFile(file, JSON.stringify({ stage: 'local', pid: 2 ** 22 + 1 }));
    expect(await deadClaim(file, process.pid)).toBe(true);
    await writeFile(file, JSON.stringify({ stage: 'local', pid: await aStart() }));
    expect(await deadClaim(file, process.pid)).toBe(false);
    await writeFile(file, JSON.stringify({ stage: 'local', pid: process.pid }));
    expect(await deadClaim(file, process.pid)).toBe(false);
  });

  it('lets exactly one of two starts at once claim it, over a crashed stack’s file or none', async () => {
    for (const leftover of [false, true]) {
      const file = stackFile();
      if (leftover) await writeFile(file, JSON.stringify({ pid: 2 ** 22 + 1 }));
      const [a, b] = [await aStart(), await aStart()];
      const answers = await Promise.all([
        claimStateFolder({ stage: 'local', file, pid: a }),
        claimStateFolder({ stage: 'local', file, pid: b }),
      ]);
      expect(
        answers.filter((answer) => answer === undefined),
        `leftover: ${leftover}`,
      ).toHaveLength(1);
      const winner = answers[0] === undefined ? a : b;
      expect(await holderIn(file)).toBe(winner);
      expect(answers.find((answer) => answer !== undefined)?.pid).toBe(winner);
    }
  });
});
