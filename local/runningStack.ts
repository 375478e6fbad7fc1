import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
 * The `npm start` that holds this state folder, if one does: still starting (it claims the folder before anything
 * starts, `{ pid, stage }` alone) or running. A file left behind by a crash is not one.
 */
export const stackHolding = async (
  file = runningStackFile,
): Promise<(Partial<RunningStack> & { pid: number }) | undefined> => {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const held = JSON.parse(text) as Partial<RunningStack>;
    if (typeof held.pid !== 'number' || held.pid === process.pid) return undefined;
    return (await isRunningStack(held.pid)) ? { ...held, pid: held.pid } : undefined;
  } catch {
    return undefined;
  }
};

/** The `npm start` that is running over this state folder and serving, if one is. */
export const runningStack = async (file = runningStackFile): Promise<RunningStack | undefined> => {
  const held = await stackHolding(file);
  return held?.apiUrl ? (held as RunningStack) : undefined;
};
