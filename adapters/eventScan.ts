import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type EventItem, itemEvents } from '../eventstore/eventItems.js';
import type { EventSchemaRegistry } from '../eventstore/upcasting.js';
import type { StoredEvent } from '../eventstore/types.js';
import type { EventScan, ScannedUnreadableItem } from '../projections/ports.js';

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
    // An item an upcaster throws on is one stream's problem: told apart, where it stood, for its projection to park.
    const events: StoredEvent[] = [];
    const unreadable: ScannedUnreadableItem[] = [];
    for (const item of (page.Items ?? []) as EventItem[]) {
      try {
        events.push(...itemEvents(item, schemas));
      } catch (error) {
        unreadable.push({ streamId: String(item.streamId), version: Number(item.version), error, at: events.length });
      }
    }
    return {
      events,
      ...(unreadable.length > 0 ? { unreadable } : {}),
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
