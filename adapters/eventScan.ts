import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type EventItem, itemEvents } from '../eventstore/eventItems.js';
import type { EventSchemaRegistry } from '../eventstore/upcasting.js';
import type { EventScan } from '../projections/ports.js';

/**
 * The events table read by parallel Scan. Its key is (streamId, version), and a segment holds whole partitions in
 * key order, so a stream's events come together and in version order.
 */
export const dynamoEventScan = ({
  client,
  table,
  schemas,
}: {
  client: DynamoDBDocumentClient;
  table: string;
  schemas: EventSchemaRegistry;
}): EventScan => ({
  async page({ segment, totalSegments, after, limit, consistent = false }) {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        Segment: segment,
        TotalSegments: totalSegments,
        Limit: limit,
        ...(consistent ? { ConsistentRead: true } : {}),
        ...(after ? { ExclusiveStartKey: after } : {}),
      }),
    );
    return {
      events: ((page.Items ?? []) as EventItem[]).flatMap((item) => itemEvents(item, schemas)),
      ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}),
    };
  },
  async streamIds({ segment, totalSegments, limit }) {
    const { Items = [] } = await client.send(
      new ScanCommand({
        TableName: table,
        Segment: segment,
        TotalSegments: totalSegments,
        Limit: limit,
        ProjectionExpression: 'streamId',
      }),
    );
    return Items.map((item) => String(item.streamId));
  },
  positionAfter: ({ streamId, version }) => ({ streamId, version }),
  async approximateCount() {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    return Number(Table?.ItemCount ?? 0);
  },
});
