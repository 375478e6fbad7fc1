import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { decodeChangeRecords, UndecodableRecordError, UnreadableEventsError } from '../../../adapters/changeRecords.js';
import { UpcasterError } from '../../../eventstore/errors.js';
import { eventSchemaRegistry } from '../../../eventstore/upcasting.js';
import { stored } from '../projections/givenView.js';
import { changeRecord } from '../../support/lambdaEvents.js';
import { orderPlaced } from '../../support/orderEvents.js';

const orderId = '00000000-0000-4000-8000-0000000000e1';
const [placed] = stored(`order-${orderId}`, [orderPlaced(orderId)]);
/** A registry whose one step, from OrderPlaced v1, throws: an upcaster with a bug. */
const broken = eventSchemaRegistry({
  OrderPlaced: {
    1: () => {
      throw new TypeError('the upcaster failed');
    },
  },
});
const raw = (change: unknown): KinesisStreamRecord =>
  ({
    kinesis: { sequenceNumber: '9', data: Buffer.from(JSON.stringify(change)).toString('base64') },
  }) as KinesisStreamRecord;
const caught = (decode: () => unknown): unknown => {
  try {
    decode();
  } catch (error) {
    return error;
  }
  throw new Error('it decoded');
};

describe('decodeChangeRecords', () => {
  it('decodes an item of the events table into its events', () => {
    expect(decodeChangeRecords(changeRecord('1', placed ?? {}), eventSchemaRegistry())).toEqual([
      { sequenceNumber: '1', eventName: 'INSERT', event: placed },
    ]);
  });

  it('names the stream and version of an item whose events an upcaster cannot read, with the upcaster’s error', () => {
    const error = caught(() => decodeChangeRecords(changeRecord('7', placed ?? {}), broken));

    expect(error).toBeInstanceOf(UnreadableEventsError);
    expect(error).toMatchObject({
      change: { sequenceNumber: '7', streamId: `order-${orderId}`, version: 1 },
      message:
        `Kinesis record 7: the events of order-${orderId} from version 1 cannot be read: The upcaster of OrderPlaced ` +
        `from schema version 1 throws on order-${orderId}@1: TypeError: the upcaster failed`,
    });
    // The store's own error, as every reader of the stream meets it, with the upcaster's behind it.
    const cause = (error as UnreadableEventsError).change.error;
    expect(cause).toBeInstanceOf(UpcasterError);
    expect((cause as UpcasterError).cause).toBeInstanceOf(TypeError);
  });

  it.each([
    ['not JSON', { kinesis: { sequenceNumber: '9', data: 'bm90IGpzb24=' } } as KinesisStreamRecord],
    ['no image', raw({ eventName: 'INSERT', dynamodb: {} })],
    ['an item of another table', raw({ eventName: 'INSERT', dynamodb: { NewImage: { sku: { S: 'MUG-1' } } } })],
    [
      'a removal, whose image cannot be read',
      raw({
        eventName: 'REMOVE',
        dynamodb: { NewImage: { streamId: { S: `order-${orderId}` }, version: { N: '1' } } },
      }),
    ],
  ])('calls a record that is %s undecodable: no stream to park', (_, record) => {
    expect(caught(() => decodeChangeRecords(record, eventSchemaRegistry()))).toBeInstanceOf(UndecodableRecordError);
  });
});
