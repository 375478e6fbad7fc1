import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { muteStdout, tapLogs, type WritableLevel } from '../functions/observability/logger.js';

export type FunctionLogs = {
  file: string;
  /**
   * Writes one of the local stack's own lines (what startLocalStack's `log` gets: saga states, relay, consumers) into
   * the file beside the functions' lines, as `{"timestamp","source":"stack","message"}`.
   */
  stack(line: string): void;
  /** Writes the local API's access log line for a request (local/accessLog.ts) as `{"timestamp","source":"api",…}`. */
  access(line: string): void;
  stop(): Promise<void>;
};

/** An access log line's fields when its format is JSON (serverless.yml's is), else the line as a message. */
const parsedLine = (line: string): Record<string, unknown> => {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { message: line };
  } catch {
    return { message: line };
  }
};

/** Where a run's function log moves when full: `local.jsonl` → `local.rotated.jsonl`. */
export const rotatedLogFile = (file: string): string => file.replace(/\.jsonl$/, '') + '.rotated.jsonl';

/** How large the file grows before it moves to `<name>.rotated.jsonl` and begins again: over an hour at 3 orders/s. */
export const FUNCTION_LOG_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The local stand-in for CloudWatch Logs: every line the functions of this process write, as JSON lines in `file`
 * (truncated first; past `maxBytes`, moved to `<name>.rotated.jsonl`, replacing the one before, so a run left going
 * all day keeps its latest lines and at most twice `maxBytes` on disk). It records log events at `level` and above
 * whatever the stage's LOG_LEVEL prints to stdout, so a local run can be followed in detail without flooding the
 * terminal, and the metrics documents too. With `stdout: false` the functions' lines go only to the file until
 * `stop()`, for commands that print a report.
 *
 * @example
 * const logs = recordFunctionLogs('.local/logs/dev.jsonl', 'info');
 * // … run the stack …
 * await logs.stop();
 */
export const recordFunctionLogs = (
  file: string,
  level: WritableLevel = 'debug',
  { stdout = true, maxBytes = FUNCTION_LOG_MAX_BYTES }: { stdout?: boolean; maxBytes?: number } = {},
): FunctionLogs => {
  mkdirSync(dirname(file), { recursive: true });
  // A run's own lines only: what the last run moved aside is dropped now (its file is kept, by npm start, whole).
  rmSync(rotatedLogFile(file), { force: true });
  // Each line is written as it comes, not buffered: the lines just before a `kill -9` (or a crash of the process) are
  // the ones a crash's reader needs, and a buffered stream loses them. A line costs one system call.
  let failed = false;
  const open = (): number | undefined => {
    try {
      return openSync(file, 'w');
    } catch (error) {
      // A file that cannot be written (a read-only folder, a full disk) costs the record, not the stack: said once.
      if (!failed) console.error(`Function logs are not recorded in ${file}: ${(error as Error).message}`);
      failed = true;
      return undefined;
    }
  };
  let fd = open();
  let written = 0;
  let stopped = false;
  let rotating = true;
  // A line that arrives after stop() (a stand-in still winding down) is dropped, not written after the end.
  const write = (line: string) => {
    if (stopped || fd === undefined) return;
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    if (rotating && written > 0 && written + bytes > maxBytes) {
      try {
        renameSync(file, rotatedLogFile(file));
        closeSync(fd);
        fd = open();
        written = 0;
      } catch {
        // Not moved (a file system that will not rename an open file): the file goes on growing, tried no more.
        rotating = false;
      }
    }
    if (fd === undefined) return;
    try {
      writeSync(fd, text);
      written += bytes;
    } catch (error) {
      if (!failed) console.error(`Function logs are not recorded in ${file}: ${(error as Error).message}`);
      failed = true;
    }
  };
  const untap = tapLogs(write, level);
  const unmute = stdout ? () => undefined : muteStdout();
  return {
    file,
    stack: (line) => write(JSON.stringify({ timestamp: new Date().toISOString(), source: 'stack', message: line })),
    access: (line) =>
      write(JSON.stringify({ timestamp: new Date().toISOString(), source: 'api', ...parsedLine(line) })),
    stop: async () => {
      untap();
      unmute();
      stopped = true;
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
};
