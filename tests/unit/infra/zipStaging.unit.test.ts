import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeStaging } from '../../../infra/zipStaging.mjs';

let dir: string;
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the zip staging directories serverless-esbuild leaves (infra/zipStaging.mjs)', () => {
  it("removes this process's, with what they hold, and nothing else", async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderflow-staging-'));
    const staged = async (name: string) => {
      await mkdir(join(dir, name, 'functions', 'http'), { recursive: true });
      await writeFile(join(dir, name, 'functions', 'http', 'placeOrder.mjs'), 'export {};');
    };
    await staged('placeOrder-4242-1796165655639-f15f7294');
    await staged('startSaga-4242-1796165655640-0a1b2c3d');
    // Another process's (a concurrent package), and what only looks alike.
    await staged('placeOrder-4243-1796165655639-f15f7294');
    await staged('orderflow-cli-4242-1796165655639-f15f7294x');
    await mkdir(join(dir, 'orderflow-start-abc'));

    expect(await removeStaging(dir, 4242)).toBe(2);

    expect((await readdir(dir)).sort()).toEqual([
      'orderflow-cli-4242-1796165655639-f15f7294x',
      'orderflow-start-abc',
      'placeOrder-4243-1796165655639-f15f7294',
    ]);
  });
});
