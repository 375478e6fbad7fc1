import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { ParkedStream, ParkingLot } from '../projections/ports.js';
import { batchGetAll } from './batch.js';

const pk = (projection: string) => `parked#${projection}`;

/** Parked streams live in the projections table under `parked#<projection>`, one item per stream id. */
export const dynamoParkingLot = ({ client, table }: { client: DynamoDBDocumentClient; table: string }): ParkingLot => ({
  async parked(projection, streamIds) {
    const keys = [...new Set(streamIds)].map((sk) => ({ pk: pk(projection), sk }));
    const items = await batchGetAll(client, table, keys, { projection: 'sk' });
    return new Set(items.map((item) => String(item.sk)));
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
