import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';
import { StoredEventEnvelope } from '../eventstore/envelope.js';
import { type EventItem, itemEvents } from '../eventstore/eventItems.js';
import type { EventSchemaRegistry } from '../eventstore/upcasting.js';
import type { ChangeRecord } from '../projections/ports.js';

export type { ChangeRecord };

/** A record that is not a change of the events table: it can never be applied, only set aside. */
export class UndecodableRecordError extends Error {
  constructor(
    readonly sequenceNumber: string,
    options?: { cause?: unknown },
  ) {
    super(`Kinesis record ${sequenceNumber} is not a change of the events table.`, options);
    this.name = 'UndecodableRecordError';
  }
}

type DynamoChange = {
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, AttributeValue> };
};

/**
 * Decodes a Kinesis record into the stored events it carries, in version order and upcast to the current schema, or
 * throws. A record is one item of the events table: the events one append added to one stream (ADR 0016), which
 * share the record's sequence number.
 */
export const decodeChangeRecords = (record: KinesisStreamRecord, schemas: EventSchemaRegistry): ChangeRecord[] => {
  const { sequenceNumber, data } = record.kinesis;
  try {
    const change = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as DynamoChange;
    const image = change.dynamodb?.NewImage;
    if (!image || !change.eventName) throw new Error('no eventName or NewImage');
    const { eventName } = change;
    const item = StoredEventEnvelope.parse(unmarshall(image)) as EventItem;
    return itemEvents(item, schemas).map((event) => ({ sequenceNumber, eventName, event }));
  } catch (error) {
    throw new UndecodableRecordError(sequenceNumber, { cause: error });
  }
};
