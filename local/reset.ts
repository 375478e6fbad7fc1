import { lstat, readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliArgs } from '../ops/cliArgs.js';
import { stopOrphanedDynamoLocal } from './dynamoLocal.js';
import { rotatedLogFile } from './functionLogs.js';
import { stackHolding } from './runningStack.js';
import { localStateDir, projectRoot } from './paths.js';

/** Where `npm start` keeps the previous run's function log: `local.jsonl` → `local.previous.jsonl`. */
export const previousLogFile = (file: string): string => file.replace(/\.jsonl$/, '.previous.jsonl');

/**
 * What `npm run reset` removes from the state folder: what the local stack accumulates while it runs. Only
 * `npm start` keeps its tables, streams and checkpoints there; of the logs and failures, only its stage's files
 * go, since the test suite and the benchmarks write theirs alongside (a test run compares its failures file
 * before and after). The JWT signing keys (`jwt/`, so tokens already made keep working) and the parsed
 * serverless.yml (`cache/`) stay.
 */
export const stackStateEntries = (stage: string): string[] => [
  'dynamodb',
  'kinesis',
  'checkpoints',
  join('logs', `${stage}.jsonl`),
  previousLogFile(join('logs', `${stage}.jsonl`)),
  rotatedLogFile(join('logs', `${stage}.jsonl`)),
  join('failures', `${stage}.jsonl`),
  'stack.json',
];

const sizeOf = async (path: string): Promise<number> => {
  const stats = await lstat(path);
  if (!stats.isDirectory()) return stats.size;
  const entries = await readdir(path);
  const sizes = await Promise.all(entries.map((entry) => sizeOf(join(path, entry))));
  return sizes.reduce((a, b) => a + b, 0);
};

export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
};

export type ResetResult = { removed: { path: string; bytes: number }[]; kept: string[] };

/**
 * Empties the local stack's state: DynamoDB Local's tables, kinesalite's streams, the relay's and the consumers'
 * checkpoints, the function logs and the failures files (and a `stack.json` left by a crash). Refuses while an
 * `npm start` runs over it. Says exactly what it removed, with sizes, and what it kept.
 */
export const resetLocalState = async ({
  stateDir = localStateDir,
  stage = 'local',
  log = (line: string) => console.log(line),
  claimedBy,
}: {
  stateDir?: string;
  stage?: string;
  log?: (line: string) => void;
  /** The `npm start -- --fresh` that claimed the folder: its claim stays, and is no stack to refuse. */
  claimedBy?: number;
} = {}): Promise<ResetResult> => {
  const stackFile = join(stateDir, 'stack.json');
  // A stack still starting holds the folder too: its DynamoDB Local is no orphan.
  const running = await stackHolding(stackFile, claimedBy);
  if (running) {
    throw new Error(
      running.apiUrl
        ? `The local stack is running (pid ${running.pid}, API at ${running.apiUrl}): stop it (Ctrl-C) before resetting.`
        : `The local stack is starting (pid ${running.pid}): stop it (Ctrl-C) before resetting.`,
    );
  }
  // A JVM a killed stack left running would go on serving the files removed below, and keep their space.
  const orphan = await stopOrphanedDynamoLocal(join(stateDir, 'dynamodb'));
  if (orphan !== undefined)
    log(`reset: stopped DynamoDB Local (pid ${orphan}), left running by a stack that was killed`);
  const shown = (path: string) => (path.startsWith(projectRoot) ? relative(projectRoot, path) : path);
  const removed: ResetResult['removed'] = [];
  for (const entry of stackStateEntries(stage).filter((entry) => !claimedBy || entry !== 'stack.json')) {
    const path = join(stateDir, entry);
    const bytes = await sizeOf(path).catch(() => undefined);
    if (bytes === undefined) continue;
    await rm(path, { recursive: true, force: true });
    removed.push({ path, bytes });
  }
  // What is left: other commands' logs and failures files are named one by one, whole folders as folders.
  const kept: string[] = [];
  for (const entry of (await readdir(stateDir).catch(() => [] as string[])).sort()) {
    // The claim of the start that resets is its own, no state: not worth a word.
    if (claimedBy && entry === 'stack.json') continue;
    if (entry === 'logs' || entry === 'failures') {
      const files = (await readdir(join(stateDir, entry)).catch(() => [] as string[])).sort();
      if (files.length === 0) await rm(join(stateDir, entry), { recursive: true, force: true });
      kept.push(...files.map((file) => join(entry, file)));
    } else kept.push(entry);
  }
  if (removed.length === 0) {
    log(`reset: nothing to remove in ${shown(stateDir)}/: the local stack has no state yet.`);
  } else {
    const total = removed.reduce((sum, r) => sum + r.bytes, 0);
    const width = Math.max(...removed.map((r) => shown(r.path).length));
    log(`reset: removed the local stack's state (${formatBytes(total)}):`);
    for (const { path, bytes } of removed) log(`  ${shown(path).padEnd(width)}  ${formatBytes(bytes)}`);
  }
  if (kept.length > 0) {
    const folders = kept.filter((entry) => !entry.includes('/'));
    const files = kept.filter((entry) => entry.includes('/'));
    log(
      `kept: ${folders.map((entry) => `${shown(join(stateDir, entry))}/`).join(', ')}` +
        (folders.includes('jwt') ? ' (the JWT signing keys: tokens made before still work)' : ''),
    );
    if (files.length > 0) {
      log(`kept, written by tests and benchmarks: ${files.map((file) => shown(join(stateDir, file))).join(', ')}`);
    }
  }
  return { removed, kept };
};

// `npm run reset`
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // It takes no argument: one that is not --help (which only prints this) is refused before anything is removed.
  cliArgs({ options: {} }, "usage: npm run reset   (removes the local stack's tables, stream, checkpoints and logs)");
  try {
    await resetLocalState();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
