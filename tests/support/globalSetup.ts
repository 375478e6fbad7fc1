import type { TestProject } from 'vitest/node';
import { createTables, startDynamoLocal } from '../../local/dynamoLocal.js';
import { loadServerlessConfig } from '../../local/serverlessConfig.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    environment: Record<string, string>;
  }
}

/** One DynamoDB Local for the whole run, in memory, with the tables of serverless.yml's `test` stage. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = await loadServerlessConfig('test');
  const dynamo = await startDynamoLocal();
  await createTables(config, dynamo.endpoint);
  const environment = Object.fromEntries(
    Object.entries(config.provider.environment ?? {}).map(([key, value]) => [key, String(value)]),
  );
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('environment', environment);
  return () => dynamo.stop();
}
