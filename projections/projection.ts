import type { ZodType } from 'zod';
import type { DomainEvent, StoredEvent, EventStore } from '../eventstore/types.js';
import { newerSchema } from '../eventstore/upcasting.js';

/**
 * A read model: a pure fold from stored events to one view per stream. The runner keeps each view's `version`
 * (the last applied stream version) beside it; the projection itself never sees versions.
 */
export type Projection<View extends Record<string, unknown>, Event extends DomainEvent> = {
  /** Also the read model's name everywhere: `orders`, `products`. */
  name: string;
  /** The streams it reads, by id prefix (`order-`, `product-`); others are skipped. */
  streamPrefix: string;
  /** The view item's key in its table, from the stream id. */
  key: (streamId: string) => Record<string, string>;
  /** Parses a stored event's type and data; an event that does not parse is a poison event. */
  events: ZodType<Event>;
  /** Folds one event into the view; `undefined` before the stream's first event. */
  evolve: (view: View | undefined, event: StoredEvent<Event>) => View;
};

/**
 * A stored event as the projection applies it: refused if a later release wrote it (`newerSchema`), else its type and
 * data parsed by the projection's schema, which throws on one it does not take.
 */
export const projectedEvent = <Event extends DomainEvent>(
  projection: Pick<Projection<Record<string, unknown>, Event>, 'events'>,
  event: StoredEvent,
): StoredEvent<Event> => {
  const newer = newerSchema(event);
  if (newer) throw newer;
  return { ...event, ...projection.events.parse({ type: event.type, data: event.data }) };
};

/** A view as stored: the projection's fields plus the last applied stream version. */
export type Versioned<View> = { view: View; version: number };

/** Reads a stream's events with versions in `(after, to]` from the event store, in order. */
export type ReadRange = (streamId: string, after: number, to: number) => Promise<StoredEvent[]>;

/** A store's events of a stream after `after` up to `to`: the gap a projection fills before it applies a batch. */
export const readRangeOf =
  (store: Pick<EventStore, 'readStream'>): ReadRange =>
  (streamId, after, to) =>
    store.readStream(streamId, { afterVersion: after, toVersion: to });

/** What catching up did: the new view (unchanged when every record was a duplicate) and how many events applied. */
export type CatchUp<View> = Versioned<View | undefined> & { applied: number; readFromStore: boolean };

/**
 * Brings one stream's view up to the highest version among `records`, which may arrive duplicated, out of order
 * or with gaps (Kinesis Data Streams for DynamoDB promises none of that). Records at or below the view's version
 * are duplicates and skipped; when the records do not cover every version up to the highest one, the events are
 * read from the store instead, so a gap is filled and never skipped.
 */
export const catchUp = async <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  streamId: string,
  current: Versioned<View | undefined>,
  records: StoredEvent[],
  readRange: ReadRange,
): Promise<CatchUp<View>> => {
  const target = Math.max(current.version, ...records.map((r) => r.version));
  if (target === current.version) return { ...current, applied: 0, readFromStore: false };

  const byVersion = new Map(records.filter((r) => r.version > current.version).map((r) => [r.version, r]));
  const contiguous = byVersion.size === target - current.version;
  const events = contiguous
    ? [...byVersion.values()].sort((a, b) => a.version - b.version)
    : await readRange(streamId, current.version, target);
  // The store answers with every version it holds up to the target; anything else means the store lost events.
  if (events.length !== target - current.version || events.some((e, i) => e.version !== current.version + i + 1)) {
    throw new Error(`${streamId}: expected versions ${current.version + 1}..${target} from the store`);
  }

  let view = current.view;
  let version = current.version;
  for (const event of events) {
    try {
      view = projection.evolve(view, projectedEvent(projection, event));
    } catch (error) {
      throw new ProjectionApplyError(projection.name, event, { view, version }, { cause: error });
    }
    version = event.version;
  }
  return { view, version: target, applied: events.length, readFromStore: !contiguous };
};

/**
 * An event the projection cannot apply (it does not parse, or evolve refuses it). It carries the view as far as it
 * got, so the runner can keep that progress and park the stream exactly at the failing version.
 */
export class ProjectionApplyError<View = unknown> extends Error {
  readonly streamId: string;
  readonly version: number;
  readonly type: string;

  constructor(
    readonly projection: string,
    event: Pick<StoredEvent, 'streamId' | 'version' | 'type'>,
    readonly applied: Versioned<View | undefined>,
    options?: { cause?: unknown },
  ) {
    const cause =
      options?.cause instanceof Error ? `${options.cause.name}: ${options.cause.message}` : String(options?.cause);
    super(`${projection} cannot apply ${event.type} at ${event.streamId}@${event.version}: ${cause}`, options);
    this.name = 'ProjectionApplyError';
    this.streamId = event.streamId;
    this.version = event.version;
    this.type = event.type;
  }
}

/**
 * Recognises a {@link ProjectionApplyError} by its shape, not by `instanceof`: a module loaded twice (the local
 * stack imports handlers at run time) has two classes of the same name, and a poison event must still be parked at
 * its exact version.
 */
export const isProjectionApplyError = (error: unknown): error is ProjectionApplyError =>
  error instanceof Error &&
  error.name === 'ProjectionApplyError' &&
  typeof (error as Partial<ProjectionApplyError>).version === 'number' &&
  typeof (error as Partial<ProjectionApplyError>).applied === 'object';

/**
 * What a parked stream says went wrong: the error's name and message, and its cause unless the message already says
 * it (a ProjectionApplyError's does). One wording wherever a stream is parked (live, redrive, replay, rebuild), so
 * `npm run redrive` lists a stream the same whoever parked it.
 */
export const describeFailure = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const { cause } = error;
  const told = !(cause instanceof Error) || error.message.includes(cause.message);
  return `${error.name}: ${error.message}${told ? '' : ` (${cause.message})`}`;
};
