import { defineConfig } from 'vitest/config';
import { unitEnvironment } from './tests/support/lambdaEvents.js';

// Three tiers, told apart by suffix. Unit tests touch no network; int and e2e share one local stack
// (DynamoDB Local and friends) that the global setup starts once and stops at the end.
const standalone = [
  'tests/int/package.int.test.ts',
  'tests/int/operations.int.test.ts',
  'tests/int/stackRestart.int.test.ts',
  'tests/int/startCommand.int.test.ts',
  'tests/e2e/sagaSettles.e2e.test.ts',
  'tests/e2e/gatewayOutage.e2e.test.ts',
  'tests/e2e/iamGrants.e2e.test.ts',
];

export default defineConfig({
  test: {
    // The SDK warns that its 2027 releases drop Node 20; the Lambdas run on nodejs22.x, so in tests it is noise.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        // Unit files share their workers' module cache: a fresh process per file cost twice the CPU of the tests
        // themselves (unit tier alone: 25 s of wall time isolated, 12 s shared, on 2 cores).
        // Shared modules keep what they read of the environment at first use (the metrics' stage, say): every unit
        // file starts with the unit stage and tables, whichever file a worker ran first. (What a file sets itself,
        // LOG_LEVEL say, stays set for the files after it in the same worker.)
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/**/*.unit.test.ts'],
          isolate: false,
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...unitEnvironment },
        },
      },
      {
        // Files that need no shared stack: the templates (packaged once, by the global setup) and the files that start
        // stacks of their own. They run one at a time, and `npm test` runs them in a Vitest process of their own
        // (tests/run.ts), beside the shared stack's files: in one process, `fileParallelism: false` makes Vitest's one
        // worker pool a single worker, so they would run after those files, not beside them.
        extends: true,
        test: {
          name: 'standalone',
          include: standalone,
          globalSetup: ['tests/support/packagedSetup.ts'],
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Integration and end-to-end tests share one stack, started once: filter by suffix to run one tier.
        extends: true,
        test: {
          name: 'stack',
          include: ['tests/**/*.int.test.ts', 'tests/**/*.e2e.test.ts'],
          exclude: standalone,
          globalSetup: ['tests/support/globalSetup.ts'],
          // One file at a time: they share the stack, and a rebuild from scratch must not pull views from under another.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
