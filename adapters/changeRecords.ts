import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';
import { StoredEventEnvelope } from '../eventstore/envelope.js';
import { type EventItem, itemEvents } from '../eventstore/eventItems.js';
import type { EventSchemaRegistry } from '../eventstore/upcasting.js';
import type { ChangeRecord, UnreadableChange } from '../projections/ports.js';

export type { ChangeRecord, UnreadableChange };

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

/**
 * A change of the events table whose events cannot be read: an upcaster or the envelope's schema refuses them. Unlike
 * a record from elsewhere, its stream and version are known, so a projection can park the stream there and a redrive
 * can read it again once the cause is fixed.
 */
export class UnreadableEventsError extends Error {
  constructor(
    readonly change: UnreadableChange,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `Kinesis record ${change.sequenceNumber}: the events of ${change.streamId} from version ${change.version} cannot be read: ${why}`,
      { cause },
    );
    this.name = 'UnreadableEventsError';
  }
}

/** The item's key, when the image has one: then it is an item of the events table, whatever else it holds. */
const keyOf = (image: Record<string, AttributeValue>): { streamId: string; version: number } | undefined => {
  const streamId = image.streamId?.S;
  const version = Number(image.version?.N);
  return streamId && Number.isInteger(version) && version >= 1 ? { streamId, version } : undefined;
};

type DynamoChange = {
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, AttributeValue> };
};

/**
 * Decodes a Kinesis record into the stored events it carries, in version order and upcast to the current schema, or
 * throws. A record is one item of the events table: the events one append added to one stream (ADR 0016), which
 * share the record's sequence number. An inserted item whose events cannot be read throws
 * {@link UnreadableEventsError}; anything else that is not an item of the events table, {@link UndecodableRecordError}.
 */
export const decodeChangeRecords = (record: KinesisStreamRecord, schemas: EventSchemaRegistry): ChangeRecord[] => {
  const { sequenceNumber, data } = record.kinesis;
  let change: DynamoChange;
  try {
    change = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as DynamoChange;
  } catch (error) {
    throw new UndecodableRecordError(sequenceNumber, { cause: error });
  }
  const image = change.dynamodb?.NewImage;
  const { eventName } = change;
  const key = image && keyOf(image);
  if (!image || !eventName || !key) {
    throw new UndecodableRecordError(sequenceNumber, { cause: new Error('no eventName, NewImage or item key') });
  }
  try {
    const item = StoredEventEnvelope.parse(unmarshall(image)) as EventItem;
    return itemEvents(item, schemas).map((event) => ({ sequenceNumber, eventName, event }));
  } catch (error) {
    if (eventName !== 'INSERT') throw new UndecodableRecordError(sequenceNumber, { cause: error });
    throw new UnreadableEventsError({ sequenceNumber, ...key, error }, error);
  }
};
