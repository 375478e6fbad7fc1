import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateQuery,
} from '@aws-sdk/lib-dynamodb';
import type { ParkedStream, ParkingLot } from '../projections/ports.js';

const pk = (projection: string) => `parked#${projection}`;

/** Parked streams live in the projections table under `parked#<projection>`, one item per stream id. */
export const dynamoParkingLot = ({ client, table }: { client: DynamoDBDocumentClient; table: string }): ParkingLot => ({
  async parked(projection, streamIds) {
    const found = new Set<string>();
    const unique = [...new Set(streamIds)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, string>[] = unique.slice(i, i + 100).map((sk) => ({ pk: pk(projection), sk }));
      while (keys.length > 0) {
        const { Responses, UnprocessedKeys } = await client.send(
          new BatchGetCommand({
            RequestItems: { [table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'sk' } },
          }),
        );
        for (const item of Responses?.[table] ?? []) found.add(String(item.sk));
        keys = (UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, string>[];
      }
    }
    return found;
  },

  async park({ projection, streamId, ...rest }) {
    await client.send(
      new PutCommand({ TableName: table, Item: { pk: pk(projection), sk: streamId, projection, streamId, ...rest } }),
    );
  },

  async unpark(projection, streamId) {
    await client.send(new DeleteCommand({ TableName: table, Key: { pk: pk(projection), sk: streamId } }));
  },

  async list(projection) {
    const parked: ParkedStream[] = [];
    for await (const page of paginateQuery(
      { client },
      {
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk(projection) },
        ConsistentRead: true,
      },
    )) {
      for (const item of page.Items ?? []) {
        parked.push({
          projection,
          streamId: String(item.streamId),
          version: Number(item.version),
          error: String(item.error),
          parkedAt: String(item.parkedAt),
        });
      }
    }
    return parked;
  },
});
