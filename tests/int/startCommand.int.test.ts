import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jvmPidFile } from '../../local/dynamoLocal.js';
import { projectRoot } from '../../local/paths.js';
import { processAlive } from '../../local/runningStack.js';

/**
 * `npm start` itself (local/start.ts), each run over a state folder of its own (ORDERFLOW_STATE_DIR): what a
 * developer meets when starting, refusing and stopping it.
 */
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

const stateFolder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-start-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

type Run = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

const start = (stateDir: string, env: Record<string, string> = {}): Run => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: projectRoot,
    env: { ...process.env, ORDERFLOW_STATE_DIR: stateDir, PORT: '0', ...env },
  });
  cleanups.push(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
};

const until = async (what: string, done: () => boolean, timeoutMs = 90_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** A live process whose command line names start.ts, as an `npm start`'s does. */
const anotherStart = async (): Promise<number> => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'local/start.ts']);
  cleanups.push(() => child.kill());
  await new Promise((resolve) => child.once('spawn', resolve));
  return child.pid ?? -1;
};

/**
 * A process as `npm start` claims the folder (its command line names start.ts): it claims, says whether it won, and
 * stays alive a while, as a start would, so that the others see a live claim.
 */
const claimant = (file: string, at: number) => {
  // All at one instant: each waits for the same moment once loaded, so the claims race as closely as they can.
  const code = `
    const { claimStateFolder } = await import(${JSON.stringify(join(projectRoot, 'local/runningStack.ts'))});
    while (Date.now() < ${at}) await new Promise((resolve) => setImmediate(resolve));
    const holder = await claimStateFolder({ stage: 'local', file: ${JSON.stringify(file)} });
    console.log(holder ? 'LOST' : 'WON');
    setTimeout(() => {}, 3000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, 'local/start.ts'], {
    cwd: projectRoot,
  });
  cleanups.push(() => child.kill('SIGKILL'));
  return new Promise<string>((resolve) => {
    let said = '';
    child.stdout.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (said.includes('\n')) resolve(said.trim());
    });
    child.once('exit', () => resolve(said.trim() || 'EXITED'));
  });
};

describe('claiming the state folder, many starts at once', () => {
  it('lets exactly one of six starts at once claim it over a crashed stack’s claim, round after round', async () => {
    for (let round = 0; round < 3; round++) {
      const file = join(stateFolder(), 'stack.json');
      await writeFile(file, JSON.stringify({ stage: 'local', pid: 2 ** 22 + 1 }));
      const at = Date.now() + 4_000;
      const answers = await Promise.all(Array.from({ length: 6 }, () => claimant(file, at)));
      expect(answers.toSorted(), `round ${round}`).toEqual(['LOST', 'LOST', 'LOST', 'LOST', 'LOST', 'WON']);
    }
  }, 120_000);
});

describe('npm start (local/start.ts)', () => {
  it.each(['0x10', '3e3', '65536', '-1'])(
    'refuses PORT=%s before starting anything',
    async (port) => {
      const run = start(stateFolder(), { PORT: port });
      expect(await run.exited).toBe(2);
      expect(run.output()).toContain(`PORT=${port} is not a port`);
    },
    60_000,
  );

  it('refuses a state folder another start holds, even one still starting, and leaves its claim', async () => {
    const stateDir = stateFolder();
    const other = await anotherStart();
    await writeFile(join(stateDir, 'stack.json'), JSON.stringify({ stage: 'local', pid: other }));
    const run = start(stateDir);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(`The local stack is already starting (pid ${other})`);
    expect(JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8'))).toEqual({ stage: 'local', pid: other });
  }, 60_000);

  it('starts, and stops all of it when its terminal closes (SIGHUP): no DynamoDB Local left, no claim', async () => {
    const stateDir = stateFolder();
    const run = start(stateDir);
    await until('the banner', () => run.output().includes('orderflow is running locally'));
    const claim = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')) as { pid: number; apiUrl: string };
    expect(claim).toMatchObject({ pid: run.child.pid, apiUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    const jvm = Number(await readFile(jvmPidFile(join(stateDir, 'dynamodb')), 'utf8'));
    expect((await fetch(`${claim.apiUrl}/openapi.json`)).status).toBe(200);

    // The terminal is gone: every write to it fails from now on (EPIPE here, EIO on a real one).
    run.child.stdout?.destroy();
    run.child.stderr?.destroy();
    run.child.kill('SIGHUP');

    expect(await run.exited).toBe(0);
    expect(processAlive(jvm)).toBe(false);
    expect(existsSync(join(stateDir, 'stack.json'))).toBe(false);
  }, 120_000);

  it('stops what it started when Ctrl-C comes while it starts, without saying it runs', async () => {
    const stateDir = stateFolder();
    const run = start(stateDir);
    const pidFile = jvmPidFile(join(stateDir, 'dynamodb'));
    // DynamoDB Local is starting: its JVM ignores Ctrl-C, so only the stack's stop ends it.
    let jvm = 0;
    await until('DynamoDB Local to start', () => existsSync(pidFile));
    await until('its pid', () => {
      void readFile(pidFile, 'utf8').then((text) => (jvm = Number(text) || 0));
      return jvm > 0;
    });

    run.child.kill('SIGINT');

    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('stopped:');
    expect(run.output()).not.toContain('orderflow is running locally');
    expect(processAlive(jvm)).toBe(false);
    expect(existsSync(join(stateDir, 'stack.json'))).toBe(false);
  }, 120_000);
});
