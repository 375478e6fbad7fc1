import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { recordFunctionLogs } from '../../local/functionLogs.js';
import { startLocalStack } from '../../local/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    kinesisEndpoint: string;
    environment: Record<string, string>;
    /** JSON lines written by the handlers this process runs (saga steps, stream consumers): their CloudWatch Logs. */
    functionLogFile: string;
  }
}

/**
 * One local stack for the whole run, as `npm start` runs it but in memory and for serverless.yml's `test` stage:
 * DynamoDB Local, kinesalite, the change relay and the Kinesis consumers (whose handlers run in this process).
 * Test files start the HTTP API themselves, against it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A file per run, so runs side by side do not mix their lines; removed with the stack.
  const logDir = mkdtempSync(join(tmpdir(), 'orderflow-logs-'));
  const functionLogs = recordFunctionLogs(join(logDir, 'functions.jsonl'));
  const stack = await startLocalStack({
    stage: 'test',
    log: (line) => {
      if (process.env.ORDERFLOW_STACK_LOG) console.log(`[stack] ${line}`);
    },
  });
  project.provide('dynamoEndpoint', stack.dynamo.endpoint);
  project.provide('kinesisEndpoint', stack.kinesis.endpoint);
  project.provide('environment', stack.environment);
  project.provide('functionLogFile', functionLogs.file);
  return async () => {
    await stack.stop();
    await functionLogs.stop();
    rmSync(logDir, { recursive: true, force: true });
  };
}
