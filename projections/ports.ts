import type { StoredEvent } from '../eventstore/types.js';
import type { Versioned } from './projection.js';
import type { ReadModelPointer } from './readModelVersions.js';

// What the read side needs from storage, declared here and implemented in adapters/ (DynamoDB), so nothing in
// projections/ knows a table, a client or a key schema.

/** Where a projection keeps its views: one per stream, each with the last applied stream version. */
export type ViewStore<View> = {
  /** The stored view, read consistently. */
  get(key: Record<string, string>): Promise<Versioned<View> | undefined>;
  /** The stored views of `keys`, in their order, read consistently: a batch's views in a request or a few. */
  getMany(keys: Record<string, string>[]): Promise<(Versioned<View> | undefined)[]>;
  /**
   * Writes `view` at `version` only if the stored one is still at `previousVersion` (0: absent), so a live projector
   * and a rebuild never overwrite newer state. Answers `stale` when someone else wrote first.
   */
  put(view: View, version: number, previousVersion: number): Promise<'written' | 'stale'>;
  /** Writes views unconditionally, many at a time: a rebuild's bulk phase, into a slot nothing else writes yet. */
  putAll(views: Versioned<View>[], concurrency?: number): Promise<void>;
  /** Up to `limit` stored views, in storage order: the parity check's top-up sample. */
  sample(limit: number): Promise<Versioned<View>[]>;
  /**
   * Deletes every view (`segments` scans at once); answers how many. `keepGoing`, asked before each page's deletes,
   * stops every scan (with {@link ClearStopped}) once it answers false: a drop another run took over.
   */
  clear(keyNames: string[], segments?: number, keepGoing?: () => Promise<boolean>): Promise<number>;
};

/** A stream a projection set aside: its view stays at `version - 1` until the stream is redriven. */
export type ParkedStream = { projection: string; streamId: string; version: number; error: string; parkedAt: string };

export type ParkingLot = {
  /** Which of these streams are parked for the projection. */
  parked(projection: string, streamIds: string[]): Promise<Set<string>>;
  park(stream: ParkedStream): Promise<void>;
  unpark(projection: string, streamId: string): Promise<void>;
  list(projection: string): Promise<ParkedStream[]>;
};

/** One change of the event store as the change stream delivers it. */
export type ChangeRecord = { sequenceNumber: string; eventName: string; event: StoredEvent };

/**
 * An item of the events table whose events cannot be read (a schema or an upcaster refuses them): which stream's
 * append it is (the version it starts at), and why. A projection parks that stream there, as on an event it cannot
 * apply.
 */
export type UnreadableItem = { streamId: string; version: number; error: unknown };

/** An unreadable item as the change stream delivers it. */
export type UnreadableChange = UnreadableItem & { sequenceNumber: string };

/** Where each read model's pointer is kept (ADR 0009). */
export type PointerStore = {
  /** The pointer as stored (strongly consistent), or the initial one when none was ever written. */
  get(projection: string): Promise<ReadModelPointer>;
  /** Writes `next` only if the stored pointer is still at `next.revision - 1`: one atomic step. */
  replace(next: ReadModelPointer): Promise<void>;
};

/** The streams the live projection saw while a rebuild's bulk writes ran: the catch-up re-applies exactly these. */
export type RebuildNotes = {
  note(projection: string, runId: string, streamIds: string[]): Promise<void>;
  noted(projection: string, runId: string): Promise<string[]>;
  forget(projection: string, runId: string, streamIds: string[]): Promise<void>;
};

export type SegmentProgress = { segment: number; events: number; streams: number; failed: number; done: boolean };

/** Where one scan segment stopped: opaque to the read side, meaningful to the store that scans. */
export type ScanPosition = Record<string, unknown>;

/** Where a replay or rebuild run stands, per segment: what makes it resumable. */
export type Checkpoints = {
  load(segment: number): Promise<{ lastKey?: ScanPosition; progress: SegmentProgress } | undefined>;
  save(lastKey: ScanPosition | undefined, progress: SegmentProgress): Promise<void>;
  list(): Promise<SegmentProgress[]>;
};

/** An unreadable item as a scan reads it, and where it stood in the page: before `events[at]`. */
export type ScannedUnreadableItem = UnreadableItem & { at: number };

/**
 * The whole event store read in parallel segments, as a replay or rebuild reads it. Within a segment a stream's
 * events come together and in version order; every event comes upcast to its current schema.
 */
export type EventScan = {
  /** A page of events in scan order; the items whose events cannot be read are told apart, not thrown. */
  page(options: {
    segment: number;
    totalSegments: number;
    after?: ScanPosition;
    limit: number;
    /** Every event appended before the scan began is seen. */
    consistent?: boolean;
  }): Promise<{ events: StoredEvent[]; unreadable?: ScannedUnreadableItem[]; next?: ScanPosition }>;
  /** The stream ids of up to `limit` events of one segment: a cheap random draw for sampling. */
  streamIds(options: { segment: number; totalSegments: number; limit: number }): Promise<string[]>;
  /** The position just after `event`: a resumed segment goes on from there. */
  positionAfter(event: StoredEvent): ScanPosition;
  /** About how many events the store holds (DynamoDB refreshes its count every few hours): for progress only. */
  approximateCount(): Promise<number>;
};

/** Which replay run of a set of projections came last, and whether it finished: what a new run resumes. */
export type ReplayRun = { runId: string; totalSegments: number; done: boolean };
export type ReplayRuns = {
  latest(projections: string): Promise<ReplayRun | undefined>;
  save(projections: string, run: ReplayRun): Promise<void>;
};

/** A `clear` its `keepGoing` stopped before the table was empty. */
export class ClearStopped extends Error {
  constructor() {
    super('stopped before the table was empty');
    this.name = 'ClearStopped';
  }
}
