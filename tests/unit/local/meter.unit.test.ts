import { describe, expect, it } from 'vitest';
import { startMeter } from '../../../local/meter.js';

describe('the cost meter on the change stream', () => {
  it('bills a change data capture unit per KB of each item, and a PUT payload unit per 25 KiB of each record', async () => {
    // No request reaches these: the proxies only start.
    const meter = await startMeter({ dynamodb: 'http://127.0.0.1:9', sfn: 'http://127.0.0.1:9' });
    try {
      meter.recordChange(1_500, 870, 'order-1'); // a placement's one item of two events, under 1 KB
      meter.recordChange(2_600, 1_025, 'order-1'); // just over 1 KB: two units
      meter.recordChange(30_000, 20_000, 'payment-1'); // 20,000 B: 20 units; 30,000 B of record: two payload units
      expect(meter.usage().kinesis).toEqual({ records: 3, bytes: 34_100, payloadUnits: 4, changeUnits: 23 });
      expect(meter.usage().appends).toEqual({ order: 2, payment: 1 });
      meter.reset();
      expect(meter.usage().kinesis).toEqual({ records: 0, bytes: 0, payloadUnits: 0, changeUnits: 0 });
    } finally {
      await meter.stop();
    }
  });
});

describe('the cost meter on DynamoDB', () => {
  it('bills a write refused on its condition, and a query that found nothing, as DynamoDB does', async () => {
    // A stand-in that refuses every PutItem on its condition and finds nothing for any Query, reporting no units.
    const { createServer } = await import('node:http');
    const server = createServer((request, response) => {
      const target = String(request.headers['x-amz-target']);
      const refused = target.endsWith('PutItem');
      if (target.endsWith('TransactWriteItems')) {
        // Cancelled on a condition when the first action's table is `events`, for a conflict otherwise.
        let sent = '';
        request.on('data', (chunk: Buffer) => (sent += chunk.toString()));
        request.on('end', () => {
          const onCondition = sent.includes('"TableName":"events"');
          response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          response.end(
            JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
              CancellationReasons: [{ Code: onCondition ? 'ConditionalCheckFailed' : 'TransactionConflict' }],
            }),
          );
        });
        return;
      }
      request.resume().on('end', () => {
        response.writeHead(refused ? 400 : 200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          JSON.stringify(
            refused
              ? { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'refused' }
              : { Items: [], Count: 0, ConsumedCapacity: { TableName: 'events', CapacityUnits: 0 } },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const meter = await startMeter({ dynamodb: `http://127.0.0.1:${port}`, sfn: 'http://127.0.0.1:9' });
    const send = (operation: string, input: object) =>
      fetch(meter.endpoints.dynamodb, {
        method: 'POST',
        headers: { 'x-amz-target': `DynamoDB_20120810.${operation}`, 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify(input),
      });
    try {
      expect((await send('PutItem', { TableName: 'events', Item: { streamId: { S: 'order-1' } } })).status).toBe(400);
      expect((await send('Query', { TableName: 'events', ConsistentRead: true })).status).toBe(200);
      const usage = meter.usage();
      expect(usage.dynamodb).toEqual({
        PutItem: { requests: 1, readUnits: 0, writeUnits: 1 },
        Query: { requests: 1, readUnits: 1, writeUnits: 0 },
      });
      expect(usage.refused).toEqual({ 'PutItem events': { requests: 1, writeUnits: 1 } });
      // A transaction cancelled on a condition is billed as attempted; one cancelled for a conflict is not.
      const put = (table: string) => ({
        TransactItems: [{ Put: { TableName: table, Item: { streamId: { S: 'a' } } } }],
      });
      expect((await send('TransactWriteItems', put('events'))).status).toBe(400);
      expect((await send('TransactWriteItems', put('snapshots'))).status).toBe(400);
      expect(meter.usage().dynamodb.TransactWriteItems).toEqual({ requests: 1, readUnits: 0, writeUnits: 2 });
    } finally {
      await meter.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
