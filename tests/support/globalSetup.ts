import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../../local/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    kinesisEndpoint: string;
    environment: Record<string, string>;
  }
}

/**
 * One local stack for the whole run, as `npm start` runs it but in memory and for serverless.yml's `test` stage:
 * DynamoDB Local, kinesalite, the change relay and the Kinesis consumers (whose handlers run in this process).
 * Test files start the HTTP API themselves, against it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack({
    stage: 'test',
    log: (line) => {
      if (process.env.ORDERFLOW_STACK_LOG) console.log(`[stack] ${line}`);
    },
  });
  project.provide('dynamoEndpoint', stack.dynamo.endpoint);
  project.provide('kinesisEndpoint', stack.kinesis.endpoint);
  project.provide('environment', stack.environment);
  return () => stack.stop();
}
