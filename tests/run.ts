import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../local/paths.js';

/*
 * `npm test`'s tests: two Vitest processes side by side. The files that start stacks of their own (the `standalone`
 * project) spend much of their time waiting on their scenarios' clocks (an outage, a bound, a restart), so they run
 * beside the unit tests and the shared stack's files instead of after them. One process cannot do that: a project
 * with `fileParallelism: false` makes Vitest's whole pool a single worker. Arguments (file filters, `-t`) go to both.
 */
const args = process.argv.slice(2);
/** A tool's script, through the link npm made for it (some packages export no path to their bin). */
const bin = (name: string) => join(projectRoot, 'node_modules', '.bin', name);
const vitest = (projects: string[]) => [
  bin('vitest'),
  'run',
  ...projects.flatMap((project) => ['--project', project]),
  // A filter may match files of one process only; the other then has nothing to run, which is no failure.
  ...(args.length ? ['--passWithNoTests'] : []),
  ...args,
];
const tasks: { name: string; args: string[] }[] = [
  { name: 'stack', args: vitest(['unit', 'stack']) },
  { name: 'standalone', args: vitest(['standalone']) },
];

const run = ({ name, args }: { name: string; args: string[] }): Promise<number> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Vitest colours only a terminal; its output here is a pipe, so say when this process has one.
      env: process.stdout.isTTY ? { ...process.env, FORCE_COLOR: '1' } : process.env,
    });
    // Each line prefixed with its task, so the reports stay readable side by side.
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ] as const) {
      createInterface({ input: stream }).on('line', (line) => out.write(`[${name}] ${line}\n`));
    }
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });

const codes = await Promise.all(tasks.map(run));
for (const [i, task] of tasks.entries()) console.log(`vitest (${task.name}): ${codes[i] === 0 ? 'passed' : 'FAILED'}`);
process.exitCode = codes.some((code) => code !== 0) ? 1 : 0;
