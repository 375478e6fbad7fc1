import { describe, expect, it } from 'vitest';
import {
  itemBytes,
  leastReadUnits,
  refusedWriteUnits,
  transactWriteUnits,
  valueBytes,
} from '../../../local/capacity.js';

describe("a transaction's write units, as DynamoDB bills them", () => {
  it('sizes values by DynamoDB’s rules: UTF-8 strings, numbers by digits, containers with their overhead', () => {
    expect(valueBytes({ S: 'héllo' })).toBe(6);
    expect(valueBytes({ N: '12345' })).toBe(4);
    expect(valueBytes({ N: '-0.5' })).toBe(2);
    expect(valueBytes({ BOOL: true })).toBe(1);
    expect(valueBytes({ L: [{ S: 'ab' }, { N: '1' }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(valueBytes({ M: { a: { S: 'xy' } } })).toBe(3 + 1 + 1 + 2);
    expect(itemBytes({ streamId: { S: 'order-1' }, version: { N: '2' } })).toBe(8 + 7 + 7 + 2);
    // A binary counts its bytes, whether the SDK holds them or the wire carries them as base64.
    expect(valueBytes({ B: new Uint8Array([1, 2, 3]) })).toBe(3);
    expect(valueBytes({ B: Buffer.from([1, 2, 3]).toString('base64') })).toBe(3);
    expect(valueBytes({ N: '1.5e3' })).toBe(2);
  });

  it('charges every action, a ConditionCheck included, 2 units per KB rounded up, by table', () => {
    const units = transactWriteUnits({
      TransactItems: [
        { ConditionCheck: { TableName: 'events', Key: { streamId: { S: 'order-1' }, version: { N: '2' } } } },
        { Put: { TableName: 'events', Item: { streamId: { S: 'reservation-A/1' }, data: { S: 'x'.repeat(1500) } } } },
        {
          Update: {
            TableName: 'snapshots',
            Key: { streamId: { S: 'stock-A' } },
            ExpressionAttributeValues: { ':q': { N: '-1' } },
          },
        },
      ],
    });
    // The guard 2, the 1.5 KB event 4 (two KB), the balance 2; DynamoDB Local says 4 and 2 for such a transaction.
    expect(Object.fromEntries(units)).toEqual({ events: 6, snapshots: 2 });
  });

  it('charges nothing for an empty request', () => {
    expect(transactWriteUnits({}).size).toBe(0);
  });
});

describe('what DynamoDB bills that DynamoDB Local does not report', () => {
  const key = (id: string) => ({ streamId: { S: id } });

  it('bills a write refused on its condition by the size the request holds, and a cancelled transaction in full', () => {
    expect(
      refusedWriteUnits('PutItem', { TableName: 'events', Item: { ...key('a'), data: { S: 'x'.repeat(1500) } } }),
    ).toEqual(new Map([['events', 2]]));
    expect(refusedWriteUnits('UpdateItem', { TableName: 'simulator', Key: key('a') })).toEqual(
      new Map([['simulator', 1]]),
    );
    expect(
      refusedWriteUnits('TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'events', Item: key('a') } },
          { ConditionCheck: { TableName: 'snapshots', Key: key('b') } },
        ],
      }),
    ).toEqual(
      new Map([
        ['events', 2],
        ['snapshots', 2],
      ]),
    );
    // Reads are not writes, and a request without a table bills nothing.
    expect(refusedWriteUnits('GetItem', { TableName: 'events', Key: key('a') }).size).toBe(0);
  });

  it('bills each key a BatchGetItem asks for, found or not, and an empty query its minimum', () => {
    const input = {
      RequestItems: {
        views: { Keys: [key('a'), key('b'), key('c'), key('d')], ConsistentRead: true },
        parked: { Keys: [key('a'), key('b')] },
      },
    };
    // One of four views found (under 4 KB), one key left unprocessed; no parked stream found, read eventually.
    const answer = { Responses: { views: [key('a')], parked: [] }, UnprocessedKeys: { views: { Keys: [key('d')] } } };
    expect(leastReadUnits('BatchGetItem', input, answer)).toEqual(
      new Map([
        ['views', 3],
        ['parked', 1],
      ]),
    );
    expect(leastReadUnits('Query', { TableName: 'events', ConsistentRead: true }, {})).toEqual(
      new Map([['events', 1]]),
    );
    expect(leastReadUnits('Query', { TableName: 'events' }, {})).toEqual(new Map([['events', 0.5]]));
    expect(leastReadUnits('GetItem', { TableName: 'events' }, {}).size).toBe(0);
  });
});
