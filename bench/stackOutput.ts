import { join, relative } from 'node:path';
import { levels, type WritableLevel } from '../functions/observability/logger.js';
import { recordFunctionLogs } from '../local/functionLogs.js';
import { localStateDir } from '../local/paths.js';
import { loadServerlessConfig } from '../local/serverlessConfig.js';

export type StackOutput = {
  /** The `log` to give startLocalStack or startDrivenStack. */
  log(line: string): void;
  /** The log file, relative to the working directory. */
  file: string;
  /** Whether the stack's lines print as well (`--verbose`): a progress line must then not be rewritten in place. */
  verbose: boolean;
  /** Where the lines went, to print after the report. */
  where: string;
  /** Flushes the file; after the stack has stopped. */
  stop(): Promise<void>;
};

/**
 * Where the local stack's lines go while a command that prints a report drives it (`npm run chaos`, `cost`, the
 * whole-stack benchmarks): the stack's own lines (saga states, relay, consumers) and the functions' log lines go to
 * `.local/logs/<stage>-<command>.jsonl`, one file per command so commands run side by side keep theirs, and stdout
 * keeps the progress line and the report. The functions' lines are recorded at the stage's LOG_LEVEL, the ones that
 * used to print, so the handlers do the same work as before. With `verbose` they print as well, as they used to:
 * the stack's on stderr as `[stack] …`, the functions' on stdout.
 *
 * @example
 * const output = await stackOutput({ stage: 'bench', command: 'chaos', verbose });
 * const { stop } = await startDrivenStack({ stage: 'bench', log: output.log });
 * // … drive it, stop it, print the report …
 * await output.stop();
 * console.log(output.where);
 */
export const stackOutput = async ({
  stage,
  command,
  verbose = false,
}: {
  stage: string;
  command: string;
  verbose?: boolean;
}): Promise<StackOutput> => {
  const config = await loadServerlessConfig(stage);
  const stageLevel = config.provider.environment?.LOG_LEVEL;
  const level = (levels as readonly unknown[]).includes(stageLevel) && stageLevel !== 'silent' ? stageLevel : 'info';
  const logs = recordFunctionLogs(join(localStateDir, 'logs', `${stage}-${command}.jsonl`), level as WritableLevel, {
    stdout: verbose,
  });
  const file = relative(process.cwd(), logs.file);
  return {
    log: (line) => {
      logs.stack(line);
      if (verbose) process.stderr.write(`[stack] ${line}\n`);
    },
    file,
    verbose,
    where: verbose
      ? `Logs: ${file} (printed above too)`
      : `Logs: ${file} (the local stack's lines and the functions' ${level} and up; --verbose prints them as they come)`,
    stop: () => logs.stop(),
  };
};
