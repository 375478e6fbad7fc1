import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { tapLogs } from '../functions/_shared/logger.js';

export type FunctionLogs = { file: string; stop(): Promise<void> };

/**
 * The local stand-in for CloudWatch Logs: every line the functions of this process write, as JSON lines in `file`
 * (truncated first). It records log events at `level` and above whatever the stage's LOG_LEVEL prints to stdout,
 * so a local run can be followed in detail without flooding the terminal, and the metrics documents too.
 *
 * @example
 * const logs = recordFunctionLogs('.local/logs/dev.jsonl', 'info');
 * // … run the stack …
 * await logs.stop();
 */
export const recordFunctionLogs = (file: string, level: 'debug' | 'info' = 'debug'): FunctionLogs => {
  mkdirSync(dirname(file), { recursive: true });
  const out = createWriteStream(file, { flags: 'w' });
  const untap = tapLogs((line) => void out.write(`${line}\n`), level);
  return {
    file,
    stop: async () => {
      untap();
      await new Promise<void>((resolve) => out.end(resolve));
    },
  };
};
