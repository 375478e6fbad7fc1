import { defineConfig } from 'vitest/config';

// Three tiers, told apart by suffix. Unit tests touch no network; int and e2e share one local stack
// (DynamoDB Local and friends) that the global setup starts once and stops at the end.
export default defineConfig({
  test: {
    // The SDK warns that its 2027 releases drop Node 20; the Lambdas run on nodejs22.x, so in tests it is noise.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/**/*.unit.test.ts'] } },
      {
        // `sls package` needs no stack: packaging (most of a minute) runs beside the stack's files instead of before them.
        extends: true,
        test: {
          name: 'package',
          include: ['tests/int/package.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Integration and end-to-end tests share one stack, started once: filter by suffix to run one tier.
        extends: true,
        test: {
          name: 'stack',
          include: ['tests/**/*.int.test.ts', 'tests/**/*.e2e.test.ts'],
          exclude: ['tests/int/package.int.test.ts'],
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
