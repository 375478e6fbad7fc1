import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { packageStage } from './packaged.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Per stage, the folder `sls package --stage <stage>` wrote: its template and its artifacts. */
    packaged: Record<string, string>;
  }
}

/**
 * Packages the stages the template tests read, once for the whole run: every file that asserts on the CloudFormation
 * reads the same packaging, and none packages beside another (serverless-esbuild builds in the project's .esbuild).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dirs: Record<string, string> = {};
  for (const stage of ['prod', 'dev', 'staging']) dirs[stage] = (await packageStage(stage)).dir;
  project.provide('packaged', dirs);
  return async () => {
    await Promise.all(Object.values(dirs).map((dir) => rm(dir, { recursive: true, force: true })));
  };
}
