import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { localStateDir } from './paths.js';

/** What `npm start` leaves in `.local/stack.json` while it runs, so ops commands find the local stack. */
export type RunningStack = {
  stage: string;
  dynamoEndpoint: string;
  kinesisEndpoint: string;
  stepFunctionsEndpoint: string;
  apiUrl: string;
  pid: number;
  /** The region its config was resolved in (serverless.yml falls back to AWS_REGION): its ARNs name it. */
  region?: string;
};
export const runningStackFile = join(localStateDir, 'stack.json');

/** Whether a process with this id is alive: one this user may not signal (EPERM) is alive too. */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Whether a process with this id is alive and, where /proc tells, is an `npm start` (not a reused pid). */
const isRunningStack = async (pid: number): Promise<boolean> => {
  if (!processAlive(pid)) return false;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return commandLine === undefined || commandLine.includes('start.ts');
};

/**
 * The claim file as it stands: `none` while absent or still empty (the exclusive-create fallback writes it just after
 * creating it), `garbled` when it is not JSON.
 */
const readClaim = async (file: string): Promise<Partial<RunningStack> | 'none' | 'garbled'> => {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (!text) return 'none';
  try {
    return JSON.parse(text) as Partial<RunningStack>;
  } catch {
    return 'garbled';
  }
};

/**
 * The `npm start` that holds this state folder, if one does: still starting (it claims the folder before anything
 * starts, `{ pid, stage }` alone) or running. A file left behind by a crash is not one.
 */
export const stackHolding = async (
  file = runningStackFile,
  self = process.pid,
): Promise<(Partial<RunningStack> & { pid: number }) | undefined> => {
  const held = await readClaim(file);
  if (typeof held === 'string' || typeof held.pid !== 'number' || held.pid === self) return undefined;
  return (await isRunningStack(held.pid)) ? { ...held, pid: held.pid } : undefined;
};

/**
 * Whether the claim file holds a claim whose start is dead. Not one that is absent: another start may be creating it
 * that instant, and removing the name then would remove its claim (two starts would both hold the folder). Under the
 * takeover lock a dead claim stays as read, since only the lock's holder removes one and none can be created over it.
 * Nor one still empty, which is being written.
 */
export const deadClaim = async (file: string, self: number): Promise<boolean> => {
  const held = await readClaim(file);
  if (held === 'none') return false;
  if (held === 'garbled' || typeof held.pid !== 'number') return true;
  return held.pid !== self && !(await isRunningStack(held.pid));
};

/** The stack that holds the folder, if it serves already (a stack still starting has claimed it but serves nothing). */
export const serving = (held: (Partial<RunningStack> & { pid: number }) | undefined): RunningStack | undefined =>
  held?.apiUrl ? (held as RunningStack) : undefined;

/**
 * Claims the state folder for the `npm start` of `pid`, before anything starts. The claim is written whole to a file
 * of its own, then linked as the claim file: a link is created at once, with its content, and fails if the name
 * exists, so of two starts at once one claims it, and no start ever reads a claim half written. A claim a crashed
 * stack left is removed only under a lock of its own (`<file>.takeover`, created exclusively), by the one start that
 * holds it, after looking again that it is still a dead start's: no start ever removes a live one's claim, however
 * many start at once. Answers the stack that holds the folder instead, or nothing once it is claimed.
 */
export const claimStateFolder = async ({
  stage,
  file = runningStackFile,
  pid = process.pid,
}: {
  stage: string;
  file?: string;
  pid?: number;
}): Promise<(Partial<RunningStack> & { pid: number }) | undefined> => {
  await mkdir(dirname(file), { recursive: true });
  const claim = JSON.stringify({ stage, pid });
  const written = `${file}.${pid}.claim`;
  const lock = `${file}.takeover`;
  await writeFile(written, claim);
  // A file system with no hard links (some shared mounts): an exclusive create, written just after.
  const create = () =>
    link(written, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPERM' && error.code !== 'ENOTSUP' && error.code !== 'ENOSYS') throw error;
      return writeFile(file, claim, { flag: 'wx' });
    });
  const exists = (error: unknown) => (error as NodeJS.ErrnoException).code === 'EEXIST';
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        await create();
        return undefined;
      } catch (error) {
        if (!exists(error)) throw error;
      }
      const holder = await stackHolding(file, pid);
      if (holder) return holder;
      // A dead start's claim: whoever holds the takeover lock removes it; the others wait and look again.
      try {
        await writeFile(lock, String(pid), { flag: 'wx' });
      } catch (error) {
        if (!exists(error)) throw error;
        const taker = Number(await readFile(lock, 'utf8').catch(() => ''));
        // A lock its taker died holding (it held it for an instant) is stale: gone, and the next look takes it.
        if (taker > 0 && !processAlive(taker)) await rm(lock, { force: true });
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      try {
        if (await deadClaim(file, pid)) await rm(file, { force: true });
      } finally {
        await rm(lock, { force: true });
      }
    }
    return { pid: -1 };
  } finally {
    await rm(written, { force: true });
  }
};
