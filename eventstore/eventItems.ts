import type { StoredEvent } from './types.js';
import { type EventSchemaRegistry, upcastItem } from './upcasting.js';

/** An event after the first of its item: its envelope is the first's, its version the one after the event before. */
export type FollowingEvent = Pick<StoredEvent, 'eventId' | 'type' | 'data' | 'schemaVersion'>;

/**
 * What the events table holds: the events one append adds to one stream, in one item keyed by the first one's version
 * (ADR 0016). The item is that first event, as it always was, and the rest ride in `following`, sharing its stream,
 * time and metadata: a placement's two events are one write, one change record and one Kinesis record.
 *
 * Concurrency is unchanged: two writers that read the same version write the same key, and the second is refused.
 * A version inside an item is never a key, so it is never an expected version either: every expected version comes
 * from a read or an append's result, which end at an item's last event.
 */
export type EventItem = StoredEvent & { following?: FollowingEvent[] };

/** The items that hold `events` (as one append made them: each stream's events together and in version order). */
export const eventItems = (events: readonly StoredEvent[]): EventItem[] => {
  const items: EventItem[] = [];
  for (const event of events) {
    const item = items.at(-1);
    const last = item ? item.version + (item.following?.length ?? 0) : undefined;
    if (item && item.streamId === event.streamId && last === event.version - 1) {
      const { eventId, type, data, schemaVersion } = event;
      (item.following ??= []).push({ eventId, type, data, schemaVersion });
    } else {
      items.push({ ...event });
    }
  }
  return items;
};

/** The events an item holds, as they were written. */
export const storedItemEvents = (item: EventItem): StoredEvent[] => {
  const { following = [], ...first } = item;
  return [first, ...following.map((event, index) => ({ ...first, ...event, version: first.version + index + 1 }))];
};

/** The events an item holds, each brought to its type's current schema. */
export const itemEvents = (item: EventItem, schemas: EventSchemaRegistry): StoredEvent[] =>
  storedItemEvents(item).map((event) => upcastItem(event, schemas));
