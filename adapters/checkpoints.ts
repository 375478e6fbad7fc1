import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Checkpoints, ReplayRuns, ScanPosition, SegmentProgress } from '../projections/ports.js';

/** A replay or rebuild run's checkpoints in the projections table: `replay#<runId>`, one item per segment. */
export const dynamoCheckpoints = ({
  client,
  table,
  runId,
}: {
  client: DynamoDBDocumentClient;
  table: string;
  runId: string;
}): Checkpoints => {
  const pk = `replay#${runId}`;
  const sk = (segment: number) => `segment#${String(segment).padStart(5, '0')}`;
  return {
    async load(segment) {
      const { Item } = await client.send(
        new GetCommand({ TableName: table, Key: { pk, sk: sk(segment) }, ConsistentRead: true }),
      );
      if (!Item) return undefined;
      return { lastKey: Item.lastKey as ScanPosition | undefined, progress: Item.progress as SegmentProgress };
    },
    async save(lastKey, progress) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { pk, sk: sk(progress.segment), lastKey, progress, updatedAt: new Date().toISOString() },
        }),
      );
    },
    async list() {
      const { Items = [] } = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
        }),
      );
      return Items.map((item) => item.progress as SegmentProgress);
    },
  };
};

/** The last replay run of each set of projections, in the projections table (`replay-latest`, one item per set). */
export const dynamoReplayRuns = ({ client, table }: { client: DynamoDBDocumentClient; table: string }): ReplayRuns => ({
  async latest(projections) {
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: { pk: 'replay-latest', sk: projections }, ConsistentRead: true }),
    );
    return Item
      ? { runId: String(Item.runId), totalSegments: Number(Item.totalSegments), done: Boolean(Item.done) }
      : undefined;
  },
  async save(projections, run) {
    await client.send(new PutCommand({ TableName: table, Item: { pk: 'replay-latest', sk: projections, ...run } }));
  },
});
