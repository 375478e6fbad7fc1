import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { jvmPidFile, localClientConfig, startDynamoLocal, stopOrphanedDynamoLocal } from '../../local/dynamoLocal.js';
import { processAlive } from '../../local/runningStack.js';

describe('DynamoDB Local as the stack starts it', () => {
  it("outlives a Ctrl-C (SIGINT) or a closed terminal (SIGHUP) until the stack stops it, so functions still writing don't lose it", async () => {
    const lines: string[] = [];
    const dynamo = await startDynamoLocal({ log: (line) => lines.push(line) });
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, ...localClientConfig });
    try {
      // What a terminal's Ctrl-C, or its closing, sends every process of the stack's group.
      process.kill(dynamo.pid, 'SIGINT');
      process.kill(dynamo.pid, 'SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(processAlive(dynamo.pid)).toBe(true);
      expect(await client.send(new ListTablesCommand({}))).toMatchObject({ TableNames: [] });
    } finally {
      client.destroy();
      await dynamo.stop();
    }
    expect(processAlive(dynamo.pid)).toBe(false);
    // Stopped by the stack: nothing to say.
    expect(lines).toEqual([]);
  });

  it('fails at once on data files it cannot read, saying how to start over, where it waited 60 s for nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orderflow-corrupt-'));
    try {
      const dbPath = join(dir, 'db');
      await mkdir(dbPath, { recursive: true });
      await writeFile(join(dbPath, 'shared-local-instance.db'), 'not a database '.repeat(4_000));
      const started = Date.now();
      await expect(startDynamoLocal({ dbPath })).rejects.toThrow(/looks corrupt\. `npm run reset`/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('says so when it dies under a running stack, which would otherwise fail every call unexplained', async () => {
    const lines: string[] = [];
    const dynamo = await startDynamoLocal({ log: (line) => lines.push(line) });
    process.kill(dynamo.pid, 'SIGKILL');
    for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines).toEqual([expect.stringContaining(`DynamoDB Local (pid ${dynamo.pid}) exited (SIGKILL)`)]);
    await dynamo.stop();
  });

  it('keeps its files for this user only, and allows no web page a cross-origin request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orderflow-dynamo-'));
    const dynamo = await startDynamoLocal({ dbPath: join(dir, 'db') });
    try {
      expect((await stat(join(dir, 'db'))).mode & 0o777).toBe(0o700);
      // A browser's preflight from some web page: without an allowed origin in the answer, the browser sends nothing.
      const preflight = await fetch(dynamo.endpoint, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-amz-target',
        },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops the one a killed stack left serving the same data before it starts another, and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orderflow-dynamo-'));
    const dbPath = join(dir, 'db');
    // A stack killed with SIGKILL never runs its exit hook: its JVM goes on serving the folder. Here the first one is
    // simply never stopped, and a second start over the same folder finds it.
    const orphan = await startDynamoLocal({ dbPath });
    expect(await readFile(jvmPidFile(dbPath), 'utf8')).toBe(String(orphan.pid));
    const lines: string[] = [];
    const dynamo = await startDynamoLocal({ dbPath, log: (line) => lines.push(line) });
    try {
      expect(processAlive(orphan.pid)).toBe(false);
      expect(lines).toEqual([expect.stringContaining(`pid ${orphan.pid}`)]);
      const client = new DynamoDBClient({ endpoint: dynamo.endpoint, ...localClientConfig });
      expect(await client.send(new ListTablesCommand({}))).toMatchObject({ TableNames: [] });
      client.destroy();
      // A pid file naming a process that is not DynamoDB Local on this folder (a reused pid) stops nothing.
      await writeFile(jvmPidFile(dbPath), String(process.pid));
      expect(await stopOrphanedDynamoLocal(dbPath)).toBeUndefined();
      expect(processAlive(process.pid)).toBe(true);
      await writeFile(jvmPidFile(dbPath), String(dynamo.pid));
    } finally {
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    }
    expect(processAlive(dynamo.pid)).toBe(false);
  });
});
