import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { localClientConfig, startDynamoLocal } from '../../local/dynamoLocal.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('DynamoDB Local as the stack starts it', () => {
  it("outlives a Ctrl-C (SIGINT) until the stack stops it, so functions still writing don't lose it", async () => {
    const dynamo = await startDynamoLocal();
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, ...localClientConfig });
    try {
      // What a terminal's Ctrl-C sends every process of the stack's group.
      process.kill(dynamo.pid, 'SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(alive(dynamo.pid)).toBe(true);
      expect(await client.send(new ListTablesCommand({}))).toMatchObject({ TableNames: [] });
    } finally {
      client.destroy();
      await dynamo.stop();
    }
    expect(alive(dynamo.pid)).toBe(false);
  });
});
