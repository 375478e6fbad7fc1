import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { dirname, relative } from 'node:path';
import { projectRoot } from '../local/paths.js';

/** The parts of a V8 CPU profile (`.cpuprofile`) a summary needs. */
export type CpuProfile = {
  nodes: { id: number; callFrame: { url: string; functionName: string } }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};

/**
 * Where a function's code lives, coarse enough to act on: an npm package (`aws-local-stepfunctions`, `@smithy/core`),
 * a folder of this project (`functions/`, `local/`), Node's own code, or V8's pseudo-frames (GC, idle, program).
 */
export const areaOf = (url: string, functionName: string): string => {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const [scope, name] = path.slice(inModules + '/node_modules/'.length).split('/');
    return scope?.startsWith('@') ? `${scope}/${name ?? ''}` : (scope ?? 'node_modules');
  }
  const inProject = relative(projectRoot, path);
  if (!inProject.startsWith('..')) return `${inProject.split('/')[0] ?? ''}/`;
  return path;
};

/** Self time per area, largest first, as shares of the profile's whole time. */
export const summarize = (profile: CpuProfile): { area: string; ms: number; share: number }[] => {
  const area = new Map(profile.nodes.map((node) => [node.id, areaOf(node.callFrame.url, node.callFrame.functionName)]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const name = area.get(id) ?? '(unknown)';
    self.set(name, (self.get(name) ?? 0) + delta);
    total += delta;
  });
  return [...self]
    .map(([name, us]) => ({ area: name, ms: us / 1000, share: total > 0 ? us / total : 0 }))
    .sort((a, b) => b.ms - a.ms);
};

/** Prints the top areas by self time, leaving out idle time, which is no work. */
export const printProfileSummary = (profile: CpuProfile, top = 12): void => {
  const rows = summarize(profile).filter((row) => row.area !== '(idle)');
  const busy = rows.reduce((sum, row) => sum + row.ms, 0);
  console.log(`\nCPU profile of this process: self time by area (${(busy / 1000).toFixed(1)} s busy, idle left out)`);
  for (const row of rows.slice(0, top)) {
    console.log(
      `  ${row.area.padEnd(40)}${`${(row.ms / 1000).toFixed(2)} s`.padStart(10)}${`${((row.ms / busy) * 100).toFixed(1)}%`.padStart(8)}`,
    );
  }
};

/**
 * Profiles this process with V8's sampling profiler (what `node --cpu-prof` does) between `start` and `stop`, and
 * writes the profile where Chrome DevTools or speedscope can open it.
 */
export const startCpuProfile = async (file: string) => {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(): Promise<CpuProfile> {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      session.disconnect();
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
      return profile;
    },
  };
};

/** Reads a `.cpuprofile` written by `node --cpu-prof` or {@link startCpuProfile}. */
export const readCpuProfile = async (file: string): Promise<CpuProfile> =>
  JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
