import { randomInt, randomUUID } from 'node:crypto';
import type { DomainEvent, EventStore, StoredEvent } from '../../eventstore/types.js';
import { isTransient } from '../../eventstore/errors.js';
import {
  type Checkpoints,
  ClearStopped,
  type EventScan,
  type ParkingLot,
  type PointerStore,
  type RebuildNotes,
  type ScanPosition,
  type SegmentProgress,
  type UnreadableItem,
  type ViewStore,
} from '../ports.js';
import {
  catchUp,
  describeFailure,
  isProjectionApplyError,
  type Projection,
  type ReadRange,
  readRangeOf,
  type Versioned,
} from '../projection.js';
import {
  abortBuild,
  dropped,
  takeOverDrop,
  finalize,
  markReady,
  parkedIn,
  type ReadModelPointer,
  RebuildStateError,
  rollBack,
  scanDone,
  type Slot,
  startBuild,
  switchLive,
} from '../readModelVersions.js';
import { applyStream } from '../runner.js';
import { noteUnreadable } from './segments.js';

/**
 * A projection and its two tables, with the view type sealed in, so the rebuild's phases (ADR 0009) can serve any
 * read model. `fold` is the whole-stream fold of the bulk phase; `apply` the live, conditional path of the catch-up.
 */
export type RebuildTarget = {
  name: string;
  streamPrefix: string;
  keyNames: string[];
  /** A stream folded from nothing: the view to store (with its version), or the error that stopped it. */
  fold(streamId: string, events: StoredEvent[], readRange: ReadRange): Promise<FoldResult>;
  /** The conditional path of the live projection, on one slot's table. */
  apply(slot: Slot, streamId: string, events: StoredEvent[], readRange: ReadRange): Promise<void>;
  /** The stored view of a stream in one slot, if any. */
  stored(slot: Slot, streamId: string): Promise<Versioned<Record<string, unknown>> | undefined>;
  /** Writes folded views to one slot unconditionally: the bulk phase, where nothing else writes yet. */
  putAll(slot: Slot, views: Versioned<Record<string, unknown>>[], concurrency?: number): Promise<void>;
  /** Up to `limit` views stored in one slot. */
  sample(slot: Slot, limit: number): Promise<Versioned<Record<string, unknown>>[]>;
  /** Deletes every view of one slot; answers how many. */
  clear(slot: Slot, segments: number, keepGoing?: () => Promise<boolean>): Promise<number>;
};

type FoldResult = { item?: Versioned<Record<string, unknown>>; error?: { version: number; message: string } };

export const rebuildTarget = <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  views: Record<Slot, ViewStore<View>>,
): RebuildTarget => {
  const keyNames = Object.keys(projection.key(`${projection.streamPrefix}any`));
  return {
    name: projection.name,
    streamPrefix: projection.streamPrefix,
    keyNames,
    async fold(streamId, events, readRange) {
      try {
        const { view, version } = await catchUp(
          projection,
          streamId,
          { view: undefined, version: 0 },
          events,
          readRange,
        );
        return view ? { item: { view, version } } : {};
      } catch (error) {
        const message = describeFailure(error);
        if (!isProjectionApplyError(error)) return { error: { version: 1, message } };
        // Keep what applied before the poison event, as the live projection does, so the view stops where it is parked.
        const { view, version } = error.applied;
        return {
          ...(view ? { item: { view: view as View, version } } : {}),
          error: { version: error.version, message },
        };
      }
    },
    async apply(slot, streamId, events, readRange) {
      await applyStream(projection, streamId, events, { views: views[slot], readRange });
    },
    stored: (slot, streamId) => views[slot].get(projection.key(streamId)),
    putAll: (slot, items, concurrency) => views[slot].putAll(items as Versioned<View>[], concurrency),
    sample: (slot, limit) => views[slot].sample(limit),
    clear: (slot, segments, keepGoing) => views[slot].clear(keyNames, segments, keepGoing),
  };
};

/** What every phase needs: the store and its scan, the pointer, and how long readers cache it. */
export type RebuildDependencies = {
  events: EventScan;
  store: EventStore;
  parking: ParkingLot;
  pointers: PointerStore;
  notes: RebuildNotes;
  /** The pointer cache's lifetime in readers and live projections (`READ_MODEL_CACHE_MS`). */
  cacheMs: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
};

const sleeper = (deps: RebuildDependencies) => deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
const clock = (deps: RebuildDependencies) => deps.now?.() ?? new Date();

/**
 * How long a phase change waits before relying on every reader and live projection having seen it: one cache
 * lifetime, and as much again for a batch that read the old pointer to write what it read it for.
 */
export const settleMs = (cacheMs: number): number => 2 * cacheMs;

/** Views a segment writes between two checks that the pointer still names its run. */
const WRITE_CHUNK = 100;

/** Whether the pointer still names run `runId` as the build into `slot`: an aborted or replaced one writes no more. */
const isBuilding = async (deps: RebuildDependencies, target: RebuildTarget, runId: string, slot: Slot) => {
  const { building } = await deps.pointers.get(target.name);
  return building?.runId === runId && building.slot === slot;
};

/**
 * Empties `slot` while `keepGoing` answers true, asked every hundred keys; once it answers false, refuses with
 * `stopped`: the slot may be another run's by then.
 */
const clearWhile = async (
  target: RebuildTarget,
  slot: Slot,
  segments: number,
  keepGoing: () => Promise<boolean>,
  stopped: string,
): Promise<number> => {
  try {
    return await target.clear(slot, segments, keepGoing);
  } catch (error) {
    if (error instanceof ClearStopped) throw new RebuildStateError(stopped);
    throw error;
  }
};

export type RebuildSegmentOptions = {
  deps: RebuildDependencies;
  target: RebuildTarget;
  /** The build this segment belongs to: once the pointer names another, or none (`--abort`), it writes no more. */
  runId: string;
  slot: Slot;
  segment: number;
  totalSegments: number;
  checkpoints: Checkpoints;
  /** Items per scan page; each page's views are written, then checkpointed. */
  pageSize?: number;
  writeConcurrency?: number;
  onProgress?: (progress: SegmentProgress) => void;
  /** Stop (with the checkpoint saved) once this returns true: a Lambda near its timeout hands over to the next. */
  shouldPause?: () => boolean;
};

/**
 * The bulk phase for one parallel-scan segment: reads the events table (consistently, so every event appended
 * before the scan began is seen), folds each stream whole in memory and writes its view to the new slot with
 * unconditional BatchWriteItem: nothing else writes there yet (ADR 0009). Within a segment a stream's events come
 * together and in order; a stream cut by a page boundary is carried to the next page and folded whole, and the
 * checkpoint stays before it, so a resumed segment reads it again from its first event.
 */
export const rebuildSegment = async ({
  deps,
  target,
  runId,
  slot,
  segment,
  totalSegments,
  checkpoints,
  pageSize = 1000,
  writeConcurrency = 4,
  onProgress,
  shouldPause,
}: RebuildSegmentOptions): Promise<SegmentProgress> => {
  const { events: scan } = deps;
  const readRange = readRangeOf(deps.store);
  const saved = await checkpoints.load(segment);
  const progress: SegmentProgress = saved?.progress ?? { segment, events: 0, streams: 0, failed: 0, done: false };
  if (progress.done) return progress;
  let resumeKey: ScanPosition | undefined = saved?.lastKey;
  let scanKey = resumeKey;
  let carry: { streamId: string; events: StoredEvent[] } | undefined;
  // The first item of a stream that cannot be read (an upcaster throws on it), kept with a carried stream.
  const unreadable = new Map<string, UnreadableItem>();
  const stillBuilding = async () => {
    if (await isBuilding(deps, target, runId, slot)) return;
    const { building } = await deps.pointers.get(target.name);
    throw new RebuildStateError(
      `${target.name}: run ${runId} is no longer being built (${building ? `the pointer names run ${building.runId}` : 'aborted'}); this segment stops writing`,
    );
  };

  do {
    const page = await scan.page({
      segment,
      totalSegments,
      limit: pageSize,
      consistent: true,
      ...(scanKey ? { after: scanKey } : {}),
    });
    scanKey = page.next;
    const streams = new Map<string, StoredEvent[]>(carry ? [[carry.streamId, carry.events]] : []);
    // In scan order: an item that cannot be read stands among the events where the scan met it.
    const meet = (at: number) => {
      for (const item of (page.unreadable ?? []).filter((unread) => unread.at === at)) {
        noteUnreadable(item, streams, unreadable);
      }
    };
    page.events.forEach((event, at) => {
      meet(at);
      const events = streams.get(event.streamId);
      if (events) events.push(event);
      else streams.set(event.streamId, [event]);
    });
    meet(page.events.length);
    // The page's last stream may go on in the next page: fold it with the rest of its events, unless this was the end.
    const entries = [...streams];
    const last = scanKey ? entries.pop() : undefined;
    carry = last ? { streamId: last[0], events: last[1] } : undefined;

    // Before folding too: a stream the fold cannot apply is parked under the slot's name, which may be a later build's.
    await stillBuilding();
    const items: Versioned<Record<string, unknown>>[] = [];
    for (const [streamId, events] of entries) {
      const blocked = unreadable.get(streamId);
      unreadable.delete(streamId);
      // Another projection's stream, even one that cannot be read, is not this one's to fail on.
      if (!streamId.startsWith(target.streamPrefix)) continue;
      // Folded up to an item that cannot be read, and parked there, as the live projection parks it.
      const readable = blocked ? events.filter((event) => event.version < blocked.version) : events;
      const { item, error } = readable.length > 0 ? await target.fold(streamId, readable, readRange) : {};
      if (item) items.push(item);
      const failure =
        error ??
        (blocked && {
          version: blocked.version,
          message: describeFailure(blocked.error),
        });
      if (failure) {
        await parkInSlot(deps, target, slot, streamId, failure);
        progress.failed++;
      }
    }
    // Its writes are unconditional: an aborted build still running must not write into the slot a later one empties.
    // Asked before every hundred views, so a segment paused and resumed after an abort writes at most that many.
    for (let from = 0; from < items.length; from += WRITE_CHUNK) {
      if (from > 0) await stillBuilding();
      await target.putAll(slot, items.slice(from, from + WRITE_CHUNK), writeConcurrency);
    }
    progress.streams += entries.filter(([id]) => id.startsWith(target.streamPrefix)).length;
    // Counted once folded, as streams are: a carried stream is read again by a resumed segment, not counted twice.
    progress.events += entries.reduce((sum, [, events]) => sum + events.length, 0);
    const lastFlushed = entries.at(-1)?.[1].at(-1);
    if (lastFlushed) resumeKey = scan.positionAfter(lastFlushed);
    progress.done = scanKey === undefined;
    await checkpoints.save(progress.done ? undefined : resumeKey, progress);
    onProgress?.({ ...progress });
  } while (scanKey && !shouldPause?.());
  return progress;
};

/**
 * Starts a rebuild of `target` (or finds the one under way): the pointer names the slot and the run. A new build
 * empties its slot first when something was left there (a crashed finalize), then waits for every live projection to
 * see the scan phase, so from then on each event it applies is either in the scan or noted.
 */
export const beginRebuild = async (
  deps: RebuildDependencies,
  target: RebuildTarget,
  {
    runId,
    segments,
    resume,
    onBegun,
  }: {
    runId: string;
    segments: number;
    resume: boolean;
    /** Told once the pointer names the build, before anything waits: from then on, a stop leaves it to resume. */
    onBegun?: () => void;
  },
): Promise<{ pointer: ReadModelPointer; resumed: boolean }> => {
  const current = await deps.pointers.get(target.name);
  // Taking over a build someone else began only when asked to: two runs bulk-writing one slot at once would race,
  // and the pointer cannot tell a run that stopped from one still running.
  if (current.building && (resume || current.building.runId === runId)) {
    onBegun?.();
    // Resumed: the first run may have stopped before its wait was over.
    if (current.building.phase === 'scan') await sleeper(deps)(settleMs(deps.cacheMs));
    return { pointer: current, resumed: true };
  }
  // Asked to take over a build that is not there (it finished, or was aborted): a new one would rebuild and switch
  // readers unasked.
  if (resume) {
    // Say what would let a new one start: a version kept beside the live one, or one still being emptied, refuses it.
    const next = current.dropping
      ? `version ${current.dropping.version} is still being deleted: run --finalize or --abort again to finish that, then --rebuild`
      : current.previous
        ? `version ${current.previous.version} is still kept beside it: --finalize first (or --rollback to it), then --rebuild`
        : 'run --rebuild without --resume to start one';
    throw new RebuildStateError(
      `${target.name}: no build is in progress to resume (live: version ${current.live.version}); ${next}`,
    );
  }
  const pointer = startBuild(current, { runId, segments, now: clock(deps) });
  await deps.pointers.replace(pointer);
  onBegun?.();
  const slot = pointer.building?.slot;
  if (slot) {
    // Whatever a crashed finalize or abort left there, views and parked streams, is not this version's.
    await clearWhile(
      target,
      slot,
      segments,
      () => isBuilding(deps, target, runId, slot),
      `${target.name}: run ${runId} is no longer being built (aborted); it stops emptying ${slot}`,
    );
    await forgetParked(deps, target, slot);
  }
  await sleeper(deps)(settleMs(deps.cacheMs));
  return { pointer, resumed: false };
};

/** Every segment is written: the live projections write the new slot too from now on. */
export const endScan = async (deps: RebuildDependencies, target: RebuildTarget, runId: string) => {
  const current = await deps.pointers.get(target.name);
  if (current.building?.phase !== 'scan') return current;
  const pointer = scanDone(current, runId, clock(deps));
  await deps.pointers.replace(pointer);
  return pointer;
};

/**
 * The catch-up: once no live projection can still be noting streams (the settle time after the phase change), every
 * stream noted during the bulk phase is caught up from the store on the new slot, with the live conditional path.
 * Events applied after the phase change reached the new slot through the live projections themselves.
 */
export const catchUpNoted = async (
  deps: RebuildDependencies,
  target: RebuildTarget,
  { runId, slot, concurrency = 16 }: { runId: string; slot: Slot; concurrency?: number },
): Promise<{ streams: number; failed: number }> => {
  await sleeper(deps)(settleMs(deps.cacheMs));
  const noted = await deps.notes.noted(target.name, runId);
  const readRange = readRangeOf(deps.store);
  const pending = [...noted];
  let failed = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, pending.length) }, async () => {
      for (let streamId = pending.shift(); streamId; streamId = pending.shift()) {
        try {
          await target.apply(slot, streamId, await deps.store.readStream(streamId), readRange);
        } catch (error) {
          if (isTransient(error)) throw error;
          // Its view stopped before the event: the switch sees it. A stream whose events cannot be read (an upcaster
          // that throws) is parked at the first event its view lacks, as the live projection parks it.
          const failure = isProjectionApplyError(error)
            ? error
            : {
                version: ((await target.stored(slot, streamId))?.version ?? 0) + 1,
                message: describeFailure(error),
              };
          await parkInSlot(deps, target, slot, streamId, failure);
          failed++;
        }
      }
    }),
  );
  await deps.notes.forget(target.name, runId, noted);
  return { streams: noted.length, failed };
};

export type Mismatch = { streamId: string; reason: string };

/** Key order aside, the stored item and a fresh fold's item are the same JSON. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/** The top-level fields two views hold differently: what a parity mismatch names, so an operator knows where to look. */
const differingFields = (a: Record<string, unknown>, b: Record<string, unknown>): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((field) => canonical(a[field]) !== canonical(b[field]))
    .sort();

/**
 * The parity check: streams drawn from the events table at random (a page from each of a few random parallel-scan
 * segments), each view in the new slot compared with a fresh fold of its stream from the store. A view behind the
 * store may be an append the live projection has not applied yet: it is read again until `patienceMs` has passed,
 * or, while the live slot's view is no further along (the live projection is behind, as in a flash sale, not the new
 * version), until `lagPatienceMs` has. Parked streams are left out (they have no full view in any version).
 */
export const checkParity = async (
  deps: RebuildDependencies,
  target: RebuildTarget,
  {
    slot,
    sample = 200,
    patienceMs = 30_000,
    lagPatienceMs = 480_000,
    events = 100_000,
  }: {
    slot: Slot;
    sample?: number;
    /** How long a view whose version is not its stream's may take to catch up (the live projection's lag). */
    patienceMs?: number;
    /** How long, while the live slot's view is just as far behind: the live projection's lag, not the new version's. */
    lagPatienceMs?: number;
    /** About how many events the table holds. */
    events?: number;
  },
): Promise<{ sampled: number; mismatches: Mismatch[] }> => {
  const drawn = new Set<string>();
  // Segments of about 100 events, so a random one is a page; a small table is read whole.
  const totalSegments = Math.max(1, Math.min(1000, Math.floor(events / 100)));
  for (let draw = 0; draw < 4 * Math.ceil(sample / 25) && drawn.size < sample; draw++) {
    const streamIds = await deps.events.streamIds({ segment: randomInt(totalSegments), totalSegments, limit: 100 });
    for (const streamId of streamIds) {
      if (streamId.startsWith(target.streamPrefix) && drawn.size < sample) drawn.add(streamId);
    }
    // One segment reads the same first page every time: drawing it again adds nothing (32 reads of it took a second).
    if (totalSegments === 1) break;
  }
  // A projection of few streams among many (the products among orders) may draw none that way: top the
  // sample up from the new version's own views, so a check never passes for having compared nothing.
  if (drawn.size < sample) {
    const [keyName] = target.keyNames;
    for (const { view } of await target.sample(slot, sample - drawn.size)) {
      if (keyName && view[keyName]) drawn.add(`${target.streamPrefix}${String(view[keyName])}`);
    }
  }
  // Parked in this version (by the bulk phase, the catch-up, or the live projection writing it since).
  const parked = await deps.parking.parked(parkedIn(target.name, slot), [...drawn]);
  const streams = [...drawn].filter((id) => !parked.has(id));
  const readRange = readRangeOf(deps.store);
  const { live } = await deps.pointers.get(target.name);
  // One deadline for the lag over the whole check, however many sampled streams wait on it: the check must end
  // well within its Lambda's 15 minutes.
  const lagDeadline = Date.now() + lagPatienceMs;
  const mismatches: Mismatch[] = [];
  const pending = [...streams];
  await Promise.all(
    Array.from({ length: Math.min(8, pending.length) }, async () => {
      for (let streamId = pending.shift(); streamId; streamId = pending.shift()) {
        let reason: string | undefined;
        const started = Date.now();
        let deadline = started + patienceMs;
        for (let attempt = 0; attempt === 0 || Date.now() < deadline; attempt++) {
          if (attempt > 0) await sleeper(deps)(Math.max(250, deps.cacheMs / 2));
          const fresh = await target.fold(streamId, await deps.store.readStream(streamId), readRange);
          const stored = await target.stored(slot, streamId);
          if (fresh.error) {
            reason = undefined; // parked meanwhile: not a mismatch of the rebuild
            break;
          }
          const [storedVersion, freshVersion] = [stored?.version ?? 0, fresh.item?.version];
          // Versions apart: an append between the two reads, or one the live projection has not applied yet.
          const moving = storedVersion !== freshVersion;
          // The live table no further along: the live projection has not got there yet, in either version.
          const lagging =
            moving && live.slot !== slot && ((await target.stored(live.slot, streamId))?.version ?? 0) <= storedVersion;
          if (lagging) deadline = Math.max(deadline, lagDeadline);
          reason = !stored
            ? 'no view'
            : moving
              ? `at version ${storedVersion}, the stream at ${freshVersion}`
              : canonical(stored) === canonical(fresh.item)
                ? undefined
                : `differs from a fresh fold in ${differingFields(stored.view, fresh.item?.view ?? {}).join(', ')}`;
          if (reason && lagging) {
            reason += `, and the live table no further: the live projection's lag; --rebuild --resume once it has caught up`;
          }
          if (!reason || !moving) break;
        }
        if (reason) mismatches.push({ streamId, reason });
      }
    }),
  );
  return { sampled: streams.length, mismatches };
};

/** Records the parity check's outcome; refuses (RebuildStateError) when it found a mismatch. */
export const settleCheck = async (
  deps: RebuildDependencies,
  target: RebuildTarget,
  runId: string,
  checked: { sampled: number; mismatches: number; examples?: string[] },
): Promise<ReadModelPointer> => {
  const pointer = markReady(await deps.pointers.get(target.name), runId, checked, clock(deps));
  await deps.pointers.replace(pointer);
  return pointer;
};

/**
 * Refuses to move readers from the live slot to `to` while `to` has parked a stream earlier than the live slot has
 * (or one the live slot has not): its view there stops before an event the live one applied, and readers would see
 * it go back. A stream neither can apply is no reason: its view stops before the same event in both.
 */
const refuseStaleViews = async (
  deps: RebuildDependencies,
  target: RebuildTarget,
  { from, to, version, then }: { from: Slot; to: Slot; version: number; then: string },
): Promise<void> => {
  const [there, here] = await Promise.all([
    deps.parking.list(parkedIn(target.name, to)),
    deps.parking.list(parkedIn(target.name, from)),
  ]);
  const liveParkedAt = new Map(here.map((p) => [p.streamId, p.version]));
  const behind = there.filter((p) => (liveParkedAt.get(p.streamId) ?? Number.POSITIVE_INFINITY) > p.version);
  if (behind.length === 0) return;
  // Each named at the event it is parked on here, and there: "not parked" where the live version has no such stream.
  const named = behind
    .slice(0, 3)
    .map((p) => {
      const live = liveParkedAt.get(p.streamId);
      return `${p.streamId}@${p.version}, live ${live === undefined ? 'not parked' : `@${live}`}`;
    })
    .join('; ');
  throw new RebuildStateError(
    `${target.name}: ${behind.length} stream(s) are parked in read model version ${version} at an earlier event ` +
      `than in the live one (${named}${behind.length > 3 ? '; …' : ''}): fix the cause, run npm run redrive, ` +
      `then ${then}`,
  );
};

/**
 * Readers move to the checked version: one conditional write of the pointer. Refused while the new version has parked
 * streams the live one has not ({@link refuseStaleViews}).
 */
export const switchTo = async (deps: RebuildDependencies, target: RebuildTarget): Promise<ReadModelPointer> => {
  const current = await deps.pointers.get(target.name);
  if (current.building) {
    const { slot, version } = current.building;
    await refuseStaleViews(deps, target, { from: current.live.slot, to: slot, version, then: 'switch' });
  }
  const pointer = switchLive(current, clock(deps));
  await deps.pointers.replace(pointer);
  return pointer;
};

/** Readers move back to the version kept for rollback (kept current meanwhile by the live projection). */
export const rollBackTo = async (deps: RebuildDependencies, target: RebuildTarget): Promise<ReadModelPointer> => {
  const current = await deps.pointers.get(target.name);
  if (current.previous) {
    const { slot, version } = current.previous;
    await refuseStaleViews(deps, target, { from: current.live.slot, to: slot, version, then: 'roll back' });
  }
  const pointer = rollBack(current, clock(deps));
  await deps.pointers.replace(pointer);
  return pointer;
};

/**
 * Stops keeping the previous version (`finalize`) or drops a build not switched to (`abort`): the pointer first,
 * marking the slot as being emptied (no build may start into it meanwhile), then, once no live projection writes
 * that slot any more, its views are deleted and the mark cleared. A drop that stopped before its slot was empty is
 * finished by the next `finalize` or `abort`, instead of what that one asks.
 */
export const dropVersion = async (
  deps: RebuildDependencies,
  target: RebuildTarget,
  how: 'finalize' | 'abort',
  segments = 4,
  /** Told once the pointer marks the slot to empty: a drop the pointer refused (nothing to drop) never began. */
  onBegun?: () => void,
): Promise<{ pointer: ReadModelPointer; slot: Slot; deleted: number }> => {
  const current = await deps.pointers.get(target.name);
  const by = randomUUID();
  const { pointer, drop } = current.dropping
    ? { pointer: takeOverDrop(current, by, clock(deps)), drop: current.dropping.slot }
    : how === 'finalize'
      ? finalize(current, clock(deps), by)
      : abortBuild(current, clock(deps), by);
  await deps.pointers.replace(pointer);
  onBegun?.();
  await sleeper(deps)(settleMs(deps.cacheMs));
  // Another run may have taken the drop over meanwhile (this one looked stopped): then only that one deletes. Asked
  // before the parked streams are forgotten, and again every hundred keys: one paused past a check, and taken over
  // meanwhile, stops at the next instead of deleting a later build's views.
  const ours = async () => {
    const now = await deps.pointers.get(target.name);
    return now.dropping?.by === by && ![now.live.slot, now.previous?.slot, now.building?.slot].includes(drop);
  };
  const takenOver = `${target.name}: another --finalize or --abort took over emptying the ${drop} slot`;
  if (!(await ours())) throw new RebuildStateError(`${takenOver}; that one finishes it`);
  // What the dropped version parked goes with it: nothing reads or redrives that slot any more.
  await forgetParked(deps, target, drop);
  const deleted = await clearWhile(
    target,
    drop,
    segments,
    ours,
    `${takenOver} while this one was deleting; that one finishes it`,
  );
  return { pointer: await markDropped(deps, target, by), slot: drop, deleted };
};

/** Clears this run's mark once the slot is empty, reading the pointer again if another write came meanwhile. */
const markDropped = async (deps: RebuildDependencies, target: RebuildTarget, by: string): Promise<ReadModelPointer> => {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.pointers.get(target.name);
    const next = dropped(current, by, clock(deps));
    if (next === current) return current;
    try {
      await deps.pointers.replace(next);
      return next;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
};

/**
 * Parks a stream the new version cannot apply under that version's own name: the live version's streams are not held
 * back by what only this one refuses, and the switch sees it.
 */
const parkInSlot = (
  deps: RebuildDependencies,
  target: RebuildTarget,
  slot: Slot,
  streamId: string,
  failed: { version: number; message: string },
): Promise<void> =>
  deps.parking.park({
    projection: parkedIn(target.name, slot),
    streamId,
    version: failed.version,
    error: failed.message,
    parkedAt: clock(deps).toISOString(),
  });

/** Forgets what a slot parked: its views are gone, or about to be built again. */
const forgetParked = async (deps: RebuildDependencies, target: RebuildTarget, slot: Slot): Promise<void> => {
  const name = parkedIn(target.name, slot);
  for (const { streamId } of await deps.parking.list(name)) await deps.parking.unpark(name, streamId);
};
