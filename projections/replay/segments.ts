import { isTransient } from '../../eventstore/errors.js';
import type { DomainEvent, StoredEvent } from '../../eventstore/types.js';
import type { Checkpoints, EventScan, ParkingLot, SegmentProgress, UnreadableItem, ViewStore } from '../ports.js';
import { describeFailure, type Projection, isProjectionApplyError, type ReadRange } from '../projection.js';
import { applyStream } from '../runner.js';

/**
 * Notes an item of a scanned page that cannot be read (an upcaster throws on it): its stream gets a place among the
 * page's streams, though it may have no readable event there, and keeps its first such item, the lowest version,
 * which is where it is parked.
 */
export const noteUnreadable = (
  item: UnreadableItem,
  streams: Map<string, StoredEvent[]>,
  unreadable: Map<string, UnreadableItem>,
): void => {
  if (!streams.has(item.streamId)) streams.set(item.streamId, []);
  const known = unreadable.get(item.streamId);
  if (!known || item.version < known.version) unreadable.set(item.streamId, item);
};

/** A projection and the store of its views, with their types sealed in, so one rebuild can serve several. */
export type ReplayTarget = {
  name: string;
  /** Where a stream it cannot apply is parked: the name of the slot it writes (`parkedIn`). */
  parkedAs: string;
  streamPrefix: string;
  apply(streamId: string, events: StoredEvent[], readRange: ReadRange): Promise<void>;
  /** The version a stream's view is at (0 without a view). */
  versionOf(streamId: string): Promise<number>;
  /** Empties the read model (a rebuild from scratch); answers how many views it deleted. */
  clear(): Promise<number>;
};

export const replayTarget = <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  views: ViewStore<View>,
  parkedAs: string,
): ReplayTarget => ({
  name: projection.name,
  parkedAs,
  streamPrefix: projection.streamPrefix,
  apply: async (streamId, events, readRange) => {
    await applyStream(projection, streamId, events, { views, readRange });
  },
  versionOf: async (streamId) => (await views.get(projection.key(streamId)))?.version ?? 0,
  clear: () => views.clear(Object.keys(projection.key(`${projection.streamPrefix}any`))),
});

/** Tries `apply` again on a transient failure (a throttle, a timeout), with backoff, `retries` times at most. */
const applyWithRetries = async (apply: () => Promise<void>, retries = 4): Promise<void> => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await apply();
    } catch (error) {
      if (!isTransient(error) || attempt >= retries) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** attempt));
    }
  }
};

export type ReplaySegmentOptions = {
  events: EventScan;
  segment: number;
  totalSegments: number;
  targets: ReplayTarget[];
  readRange: ReadRange;
  parking: ParkingLot;
  checkpoints: Checkpoints;
  /** Streams folded at once within a page. */
  concurrency?: number;
  /** Items per scan page; each page is one checkpoint. */
  pageSize?: number;
  onProgress?: (progress: SegmentProgress) => void;
  /** Stop (with the checkpoint saved) once this returns true: a Lambda near its timeout hands over to the next. */
  shouldPause?: () => boolean;
  now?: () => Date;
  /** How often a stream's apply is tried again after a throttle or timeout before the segment fails (default 4). */
  transientRetries?: number;
};

/**
 * Rebuilds the views of every target from one parallel-scan segment of the events table. Within a segment a
 * stream's events come together and in version order; each stream is folded and written under the same version
 * guard as the live projector, so a rebuild is safe while traffic flows. A stream that fails to apply is parked,
 * as the live projector would, and the rebuild goes on.
 */
export const replaySegment = async (options: ReplaySegmentOptions): Promise<SegmentProgress> => {
  const {
    events,
    segment,
    totalSegments,
    targets,
    readRange,
    parking,
    checkpoints,
    pageSize = 500,
    concurrency = 16,
  } = options;
  const saved = await checkpoints.load(segment);
  const progress: SegmentProgress = saved?.progress ?? { segment, events: 0, streams: 0, failed: 0, done: false };
  if (progress.done) return progress;
  let lastKey = saved?.lastKey;

  let previousStream: string | undefined;
  // A stream cut by a page boundary is flushed once per page, and its rest parks it again where the first part did:
  // it counts once.
  const parkedHere = new Set<string>();
  const park = async (target: ReplayTarget, streamId: string, version: number, error: unknown) => {
    await parking.park({
      projection: target.parkedAs,
      streamId,
      version,
      error: describeFailure(error),
      parkedAt: (options.now?.() ?? new Date()).toISOString(),
    });
    const key = `${target.parkedAs} ${streamId}`;
    if (!parkedHere.has(key)) progress.failed++;
    parkedHere.add(key);
  };
  /** Applies a stream's events to each target that reads it; `unreadable`: the first of its items that cannot be read. */
  const flush = async (streamId: string, events: StoredEvent[], unreadable?: UnreadableItem) => {
    // Its events before an item that cannot be read are applied, and the stream is parked there, as the live
    // projection parks it; another projection's stream is not this one's to fail on.
    const readable = unreadable ? events.filter((event) => event.version < unreadable.version) : events;
    for (const target of targets) {
      if (!streamId.startsWith(target.streamPrefix)) continue;
      try {
        if (readable.length > 0) {
          await applyWithRetries(() => target.apply(streamId, readable, readRange), options.transientRetries);
        }
      } catch (error) {
        // A throttle or timeout that outlasted the retries says nothing about the stream: fail the segment, which
        // resumes from its checkpoint, rather than park a healthy stream the live projection would then hold back.
        if (isTransient(error)) throw error;
        const version = isProjectionApplyError(error) ? error.version : (await target.versionOf(streamId)) + 1;
        await park(target, streamId, version, error);
        continue;
      }
      if (unreadable) await park(target, streamId, unreadable.version, unreadable.error);
    }
  };

  do {
    const page = await events.page({ segment, totalSegments, limit: pageSize, ...(lastKey ? { after: lastKey } : {}) });
    // Group the page by stream; a stream cut by the page boundary continues on the next page, contiguously.
    const streams = new Map<string, StoredEvent[]>();
    for (const event of page.events) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event]);
    const unreadable = new Map<string, UnreadableItem>();
    for (const item of page.unreadable ?? []) noteUnreadable(item, streams, unreadable);
    // Streams are independent: fold a page's streams concurrently, a bounded number at a time.
    const pending = [...streams];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, pending.length) }, async () => {
        for (let next = pending.shift(); next; next = pending.shift()) {
          await flush(next[0], next[1], unreadable.get(next[0]));
        }
      }),
    );
    // The streams some target folds (not every stream read: a rebuild of orders reads the products' too), and a
    // stream cut by the page boundary once.
    const folded = [...streams.keys()].filter((id) => targets.some((target) => id.startsWith(target.streamPrefix)));
    progress.streams += folded.length - (previousStream !== undefined && folded.includes(previousStream) ? 1 : 0);
    previousStream = [...streams.keys()].at(-1);
    progress.events += page.events.length;
    lastKey = page.next;
    progress.done = lastKey === undefined;
    await checkpoints.save(lastKey, progress);
    options.onProgress?.({ ...progress });
  } while (lastKey && !options.shouldPause?.());
  return progress;
};
