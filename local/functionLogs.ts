import { createWriteStream, mkdirSync } from 'node:fs';
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

/**
 * The local stand-in for CloudWatch Logs: every line the functions of this process write, as JSON lines in `file`
 * (truncated first). It records log events at `level` and above whatever the stage's LOG_LEVEL prints to stdout,
 * so a local run can be followed in detail without flooding the terminal, and the metrics documents too. With
 * `stdout: false` the functions' lines go only to the file until `stop()`, for commands that print a report.
 *
 * @example
 * const logs = recordFunctionLogs('.local/logs/dev.jsonl', 'info');
 * // … run the stack …
 * await logs.stop();
 */
export const recordFunctionLogs = (
  file: string,
  level: WritableLevel = 'debug',
  { stdout = true }: { stdout?: boolean } = {},
): FunctionLogs => {
  mkdirSync(dirname(file), { recursive: true });
  const out = createWriteStream(file, { flags: 'w' });
  // A file that cannot be written (a read-only folder, a full disk) costs the record, not the stack: said once.
  out.once('error', (error) => console.error(`Function logs are not recorded in ${file}: ${error.message}`));
  // A line that arrives after stop() (a stand-in still winding down) is dropped, not written after the end.
  const write = (line: string) => {
    if (!out.writableEnded) out.write(`${line}\n`);
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
      if (!out.writableEnded && !out.errored) await new Promise<void>((resolve) => out.end(resolve));
    },
  };
};
