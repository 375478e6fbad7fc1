import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { constants, deflateRawSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { build, type BuildOptions, type Metafile, type Plugin, version } from 'esbuild';
import ts from 'typescript';
import * as z from 'zod';
import { localStateDir, projectRoot } from '../local/paths.js';
import { type FunctionConfig, loadServerlessConfig, type ServerlessConfig } from '../local/serverlessConfig.js';
import { printTable, stats } from './lib.js';

const run = promisify(execFile);
const workDir = join(localStateDir, 'bench', 'coldstart');

/** serverless-esbuild's own settings, which it strips before handing the rest to esbuild (its dist/bundle.js). */
const pluginOnly = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
];

const EsbuildSettings = z.looseObject({
  external: z.array(z.string()).default([]),
  // The plugin's default: the runtime ships SDK v2 as `aws-sdk`.
  exclude: z.array(z.string()).default(['aws-sdk']),
  outputFileExtension: z.string().default('.js'),
  resolveExtensions: z.array(z.string()).optional(),
  // Both would run project code to produce the options; this bench reads plain settings only.
  config: z.never({ error: 'custom.esbuild.config is not supported by the cold start bench' }).optional(),
  // A plugins file, loaded with require() as serverless-esbuild loads it (its index.js).
  plugins: z.string().optional(),
});

/**
 * The esbuild options serverless-esbuild derives from `custom.esbuild`, the way its `bundle()` does: its defaults
 * underneath, its own keys removed, `exclude` appended to `external`, the output extension mapped.
 */
const esbuildOptions = (config: ServerlessConfig) => {
  const settings = EsbuildSettings.parse(config.custom?.esbuild ?? {});
  const runtime = String(config.provider.runtime ?? 'nodejs22.x');
  const passed = Object.fromEntries(
    Object.entries(settings).filter(([key]) => !pluginOnly.includes(key) && key !== 'plugins'),
  );
  const plugins = settings.plugins
    ? (createRequire(import.meta.url)(join(projectRoot, settings.plugins)) as Plugin[])
    : undefined;
  const options: BuildOptions = {
    bundle: true,
    platform: 'node',
    target: runtime.replace(/^nodejs(\d+)\.x$/, 'node$1'),
    // esbuild validates what it is given and rejects unknown keys, as it would under the plugin.
    ...(passed as BuildOptions),
    external: [...settings.external, ...(settings.exclude.includes('*') ? [] : settings.exclude)],
    ...(settings.outputFileExtension === '.js' ? {} : { outExtension: { '.js': settings.outputFileExtension } }),
    absWorkingDir: projectRoot,
    metafile: true,
    ...(plugins ? { plugins } : {}),
  };
  return { options, extension: settings.outputFileExtension, resolveExtensions: settings.resolveExtensions };
};

/** The handler's source file, found as serverless-esbuild finds it (`functions/http/x.handler` → `functions/http/x.ts`). */
const entryOf = (fn: FunctionConfig, extensions = ['.ts', '.js', '.jsx', '.tsx']) => {
  const base = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
  const entry = extensions
    .flatMap((ext) => [base + ext, join(base, 'index') + ext])
    .find((path) => existsSync(join(projectRoot, path)));
  if (!entry) throw new Error(`no source file for handler ${fn.handler}`);
  return entry;
};

type Bundle = { code: string; map?: string; metafile: Metafile };

const bundle = async (options: BuildOptions, extension: string, entry: string, outdir: string): Promise<Bundle> => {
  const { metafile } = await build({ ...options, entryPoints: [entry], outdir });
  const outputs = Object.keys(metafile?.outputs ?? {});
  const code = outputs.find((path) => path.endsWith(extension));
  if (!metafile || !code) throw new Error(`esbuild wrote no ${extension} for ${entry}`);
  return { code: join(projectRoot, code), map: outputs.find((path) => path.endsWith('.map')), metafile };
};

/** Per `@aws-sdk/*` package, the names imported from it (`*` and `default` for those forms). */
type Surface = Map<string, Set<string>>;

/**
 * The AWS SDK our code pulls into a bundle: for every module of ours in the metafile, its runtime imports of
 * `@aws-sdk/*` (esbuild drops type-only ones) and the names it imports, so a baseline can keep exactly that surface.
 */
const sdkSurface = async (metafile: Metafile): Promise<Surface> => {
  const surface: Surface = new Map();
  for (const [path, input] of Object.entries(metafile.inputs)) {
    // build/ holds what serverless.yml's esbuild alias puts in the SDK's place: the SDK's, so in the baseline too.
    if (path.includes('node_modules/') || path.startsWith('build/')) continue;
    const packages = new Set(input.imports.map((i) => i.original ?? '').filter((p) => p.startsWith('@aws-sdk/')));
    if (packages.size === 0) continue;
    const source = ts.createSourceFile(path, await readFile(join(projectRoot, path), 'utf8'), ts.ScriptTarget.Latest);
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const from = statement.moduleSpecifier.text;
      const clause = statement.importClause;
      if (!packages.has(from) || !clause || clause.isTypeOnly) continue;
      const names = surface.get(from) ?? new Set<string>();
      surface.set(from, names);
      if (clause.name) names.add('default');
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add('*');
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          if (!element.isTypeOnly) names.add((element.propertyName ?? element.name).text);
        }
      }
    }
  }
  return surface;
};

/** What several functions import of the SDK, together: their shared baseline keeps all of it. */
const union = (surfaces: Surface[]): Surface => {
  const merged: Surface = new Map();
  for (const surface of surfaces) {
    for (const [from, names] of surface) merged.set(from, new Set([...(merged.get(from) ?? []), ...names]));
  }
  return new Map([...merged].sort(([a], [b]) => a.localeCompare(b)));
};

/**
 * A module of the same SDK surface and nothing of ours. It re-exports what our code imports, so esbuild keeps the
 * same SDK code, and constructs no client: ours are created lazily on the first invocation
 * (functions/dependencies.ts, `sfn ??=` in startSaga), so no client is built during init either.
 */
const baselineSource = (surface: Surface) =>
  [
    '// Generated by bench/coldStart.bench.ts: the AWS SDK surface of some functions, without their code.',
    ...[...surface].flatMap(([from, names], i) => {
      const named = [...names].filter((name) => name !== '*' && name !== 'default').sort();
      return [
        ...(named.length > 0 ? [`export { ${named.join(', ')} } from '${from}';`] : []),
        ...(names.has('default') ? [`export { default as default${i} } from '${from}';`] : []),
        ...(names.has('*') ? [`export * as namespace${i} from '${from}';`] : []),
      ];
    }),
    'export const handler = async () => undefined;',
    '',
  ].join('\n');

/** A value of serverless.yml's environment as a string; a CloudFormation `Ref`, known only on deploy, gets a stand-in. */
const environmentValue = (config: ServerlessConfig, value: unknown) => {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: unknown } | null)?.Ref;
  if (typeof ref === 'string') return `arn:aws:cloudformation:${config.provider.region}:000000000000:${ref}`;
  return JSON.stringify(value);
};

/**
 * What the function sees on Lambda, from serverless.yml (NODE_OPTIONS included: `--enable-source-maps` makes Node
 * read the .map at import), plus a region and dummy credentials. Nothing of this shell leaks in.
 */
const environmentOf = (config: ServerlessConfig, fn: FunctionConfig | undefined): Record<string, string> => ({
  ...Object.fromEntries(
    Object.entries({ ...config.provider.environment, ...fn?.environment }).map(([key, value]) => [
      key,
      environmentValue(config, value),
    ]),
  ),
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

// Runs in a fresh Node: the time `await import()` takes is the handler module's share of the Init phase.
const importTimer =
  'const started = performance.now(); await import(process.argv[1]); console.log(performance.now() - started);';

const initTime = async (code: string, env: Record<string, string>) => {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', importTimer, pathToFileURL(code).href], {
    env,
    cwd: workDir,
  });
  const ms = Number(stdout.trim().split('\n').at(-1));
  if (!Number.isFinite(ms)) throw new Error(`no init time from ${code}: ${stdout}`);
  return ms;
};

/** Runs `fn` over `items`, at most `limit` at a time. */
const mapLimit = async <T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>) => {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

type Sizes = { code: number; raw: number; zipped: number };

/** The deployed package's bytes (.mjs and .map, as serverless-esbuild zips them), raw and deflated, and the .mjs alone. */
const sizesOf = async ({ code, map }: Bundle): Promise<Sizes> => {
  const files = await Promise.all([code, ...(map ? [join(projectRoot, map)] : [])].map((path) => readFile(path)));
  return {
    code: files[0]?.length ?? 0,
    raw: files.reduce((sum, file) => sum + file.length, 0),
    // The plugin zips with archiver, whose zip stream (compress-commons) deflates at zlib's best speed, level 1, unless
    // told otherwise, and the plugin does not tell it: level 1 gives the .zip's sizes to ~100 header bytes a file.
    zipped: files.reduce((sum, file) => sum + deflateRawSync(file, { level: constants.Z_BEST_SPEED }).length, 0),
  };
};

type Case = { name: string; code: string; env: Record<string, string>; sizes: Sizes };

/**
 * Per function in serverless.yml, bundled as serverless-esbuild would: the package's size and the module's init time
 * (`await import` in a fresh Node, with the function's environment), beside a baseline bundle, same settings, of only
 * the AWS SDK the function imports. Functions that import the same SDK packages share a baseline (the union of what
 * they import from them) and a table. Runs go round-robin over every bundle, so machine noise weighs on all alike.
 */
export const coldStartBench = async ({ runs = 15, warmup = 1, concurrency = 2 } = {}): Promise<void> => {
  const config = await loadServerlessConfig('bench');
  const { options, extension, resolveExtensions } = esbuildOptions(config);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(join(workDir, 'entries'), { recursive: true });

  const functions = await mapLimit(Object.entries(config.functions ?? {}), concurrency, async ([name, fn]) => {
    const built = await bundle(options, extension, entryOf(fn, resolveExtensions), join(workDir, 'functions', name));
    const surface = await sdkSurface(built.metafile);
    const fnCase: Case = { name, code: built.code, env: environmentOf(config, fn), sizes: await sizesOf(built) };
    return { fnCase, surface, packages: [...surface.keys()].sort().join(', ') };
  });

  const groups = await mapLimit([...new Set(functions.map((f) => f.packages))], concurrency, async (packages, i) => {
    const members = functions.filter((f) => f.packages === packages);
    const entry = join(workDir, 'entries', `baseline${i}.ts`);
    await writeFile(entry, baselineSource(union(members.map((m) => m.surface))));
    const built = await bundle(options, extension, entry, join(workDir, 'baselines', String(i)));
    const baseline: Case = {
      name: packages ? 'baseline: the SDK alone' : 'baseline: a no-op handler',
      code: built.code,
      // The members' environments differ at most in values no module reads at import.
      env: members[0]?.fnCase.env ?? environmentOf(config, undefined),
      sizes: await sizesOf(built),
    };
    return {
      title: packages.replaceAll('@aws-sdk/', '') || 'no AWS SDK',
      cases: [baseline, ...members.map((m) => m.fnCase)],
    };
  });

  // One fresh process at a time, so no two imports compete for the two cores.
  const samples = new Map<Case, number[]>(groups.flatMap((g) => g.cases).map((c) => [c, []]));
  for (let i = -warmup; i < runs; i++) {
    for (const [c, times] of samples) {
      const ms = await initTime(c.code, c.env);
      if (i >= 0) times.push(ms);
    }
  }

  console.log(
    `\ncold start of ${functions.length} functions, bundled as serverless-esbuild does (esbuild ${version}, target ${String(options.target)}, ${String(options.format)}, minify ${String(options.minify)}, sourcemap ${String(options.sourcemap)}); Node ${process.version}, ${runs} runs each`,
  );
  for (const { title, cases } of groups) {
    // Sizes are exact, so one "run": median and p99 are the size itself.
    const sizeRows = (size: keyof Sizes, note?: (s: Sizes) => string) =>
      cases.map((c, r) => ({
        name: c.name,
        n: 1,
        median: c.sizes[size],
        p99: c.sizes[size],
        baseline: r === 0,
        unit: 'raw' as const,
        ...(note ? { note: note(c.sizes) } : {}),
      }));
    printTable(
      `${title}: package bytes, unzipped (.mjs + .map)`,
      sizeRows('raw', (s) => `.mjs ${s.code.toLocaleString('en')}`),
    );
    printTable(`${title}: package bytes, zipped (deflate level 1, as the plugin zips)`, sizeRows('zipped'));
    printTable(
      `${title}: module init, await import() in a fresh node`,
      cases.map((c, r) => ({ name: c.name, ...stats(samples.get(c) ?? []), baseline: r === 0 })),
    );
  }
};
