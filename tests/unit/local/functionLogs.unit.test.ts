import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { recordFunctionLogs } from '../../../local/functionLogs.js';

const folders: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('the local record of the functions’ logs', () => {
  it('says once that it cannot write its file, and the stack goes on: no crash, and its stop ends', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'orderflow-logs-'));
    folders.push(folder);
    const said = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // A folder where the file should be: opening it for writing fails (EISDIR), as a read-only one would (EROFS).
    const logs = recordFunctionLogs(folder, 'info', { stdout: false });
    logs.stack('one');
    await new Promise((resolve) => setTimeout(resolve, 50));
    logs.stack('two');
    await Promise.race([
      logs.stop(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('stop did not end')), 2_000)),
    ]);
    expect(said.mock.calls).toEqual([[expect.stringContaining(`Function logs are not recorded in ${folder}`)]]);
  });
});
