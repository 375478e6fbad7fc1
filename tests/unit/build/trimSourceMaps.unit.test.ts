import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type SourceMap = { version: number; sources: string[]; names: string[]; mappings: string };
type Mapping = [number, number, string, number, number, string?];
// What serverless-esbuild loads: the module is the array of plugins, with the map helpers hung on it.
const plugins = createRequire(import.meta.url)('../../../build/trimSourceMaps.cjs') as Plugin[] & {
  decodeMappings: (map: SourceMap) => Mapping[];
};
const { decodeMappings } = plugins;

/** A function bundled with a dependency from node_modules, as serverless-esbuild bundles (minified, linked map). */
const bundle = async (outdir: string, withPlugin: boolean): Promise<SourceMap> => {
  await build({
    entryPoints: ['functions/http/getProduct.ts'],
    mainFields: ['module', 'main'],
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    platform: 'node',
    format: 'esm',
    outdir,
    logLevel: 'error',
    plugins: withPlugin ? [...plugins] : [],
  });
  return JSON.parse(await readFile(join(outdir, 'getProduct.js.map'), 'utf8')) as SourceMap;
};

let dir: string;
let whole: SourceMap;
let trimmed: SourceMap;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trim-'));
  [whole, trimmed] = [await bundle(join(dir, 'whole'), false), await bundle(join(dir, 'trimmed'), true)];
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('build/trimSourceMaps.cjs', () => {
  it('keeps every mapping into our own sources, unchanged, names included, and none into node_modules', () => {
    const ours = decodeMappings(whole).filter(([, , source]) => !source.includes('node_modules/'));
    expect(whole.sources.some((source) => source.includes('node_modules/'))).toBe(true);
    expect(ours.length).toBeGreaterThan(100);
    expect(ours.filter((mapping) => mapping[5] !== undefined).length).toBeGreaterThan(10);
    // As JSON: a deep equality of ten thousand tuples is slow in expect.
    const kept = decodeMappings(trimmed);
    expect(kept.length).toBe(ours.length);
    expect(JSON.stringify(kept) === JSON.stringify(ours)).toBe(true);
    expect(trimmed.sources.every((source) => !source.includes('node_modules/'))).toBe(true);
  });

  it('makes the map of an SDK function a fifth of its size at most', () => {
    expect(JSON.stringify(trimmed).length).toBeLessThan(JSON.stringify(whole).length / 5);
  });
});
