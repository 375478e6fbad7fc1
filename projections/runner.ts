import { isTransient } from '../eventstore/errors.js';
import type { DomainEvent, StoredEvent } from '../eventstore/types.js';
import type { Logger } from '../ports/logger.js';
import type { ChangeRecord, ParkedStream, ParkingLot, UnreadableChange, ViewStore } from './ports.js';
import {
  type CatchUp,
  catchUp,
  describeFailure,
  isProjectionApplyError,
  type Projection,
  type ReadRange,
  type Versioned,
} from './projection.js';

export type RunnerDependencies<View> = {
  /** Only the conditional path: the live projection never writes in bulk. */
  views: Pick<ViewStore<View>, 'get' | 'getMany' | 'put'>;
  parking: ParkingLot;
  readRange: ReadRange;
  logger: Logger;
  /** How often one stream is tried within an invocation before it is parked (or left to Lambda's retry). */
  attempts?: number;
  now?: () => Date;
  /** Told of the batch's events a stream applied (not its duplicates), for logs and the lag metric; must not throw. */
  onApplied?: (events: StoredEvent[]) => void;
  /** How many of a batch's streams are applied at once (default 8). */
  streamConcurrency?: number;
  /**
   * The name its poison streams are parked under, when not the projection's own (a version of the read model in
   * another slot): logs still name the projection.
   */
  parkedUnder?: string;
};

export type RunResult = {
  applied: number;
  duplicates: number;
  /** Records of parked streams, held back: the store has them for the redrive. */
  heldBack: number;
  parked: string[];
  /** Streams whose failure may pass (throttling, a timeout): Lambda should deliver them again. */
  retry: { streamId: string; sequenceNumber: string }[];
};

/** The version a stream is parked at: the event that failed, or else the first one its view lacks. */
const failedVersion = async <View>(
  error: unknown,
  projection: { key: (streamId: string) => Record<string, string> },
  streamId: string,
  views: Pick<ViewStore<View>, 'get' | 'put'>,
): Promise<number> =>
  isProjectionApplyError(error) ? error.version : ((await views.get(projection.key(streamId)))?.version ?? 0) + 1;

/** Parks the stream at the version that failed (`at`, or else the one `error` names), with the error; answers it. */
const parkStream = async <View>(
  projection: { name: string; key: (streamId: string) => Record<string, string> },
  streamId: string,
  error: unknown,
  {
    views,
    parking,
    now = () => new Date(),
  }: { views: Pick<ViewStore<View>, 'get' | 'put'> } & Pick<RunnerDependencies<View>, 'parking' | 'now'>,
  at?: number,
): Promise<number> => {
  const version = at ?? (await failedVersion(error, projection, streamId, views));
  await parking.park({
    projection: projection.name,
    streamId,
    version,
    error: describeFailure(error),
    parkedAt: now().toISOString(),
  });
  return version;
};

/**
 * Brings one stream's view up to date under the version guard; a lost race re-reads and tries again. `stored` is the
 * view as the caller just read it, if it did (`undefined`: none stored): the first try starts from it.
 */
export const applyStream = async <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  streamId: string,
  events: StoredEvent[],
  { views, readRange }: { views: Pick<ViewStore<View>, 'get' | 'put'>; readRange: ReadRange },
  read?: { stored: Versioned<View> | undefined },
): Promise<{ applied: number; version?: number }> => {
  const key = projection.key(streamId);
  for (let race = 0; race < 10; race++) {
    const stored = race === 0 && read ? read.stored : await views.get(key);
    const current = stored ?? { view: undefined, version: 0 };
    let result: CatchUp<View>;
    try {
      result = await catchUp(projection, streamId, current, events, readRange);
    } catch (error) {
      // Keep what applied before the poison event, so the view stops exactly where the stream is parked.
      const { applied } = isProjectionApplyError(error) ? error : { applied: undefined };
      if (applied?.view && applied.version > current.version) {
        if ((await views.put(applied.view as View, applied.version, current.version)) === 'stale') continue;
      }
      throw error;
    }
    if (result.applied === 0 || result.view === undefined) return { applied: 0 };
    if ((await views.put(result.view, result.version, current.version)) === 'written')
      return { applied: result.applied, version: result.version };
  }
  throw new Error(`${streamId}: the view kept changing under ${projection.name}; giving up for now`);
};

/**
 * Applies a batch of change records to one projection. Records are grouped by stream; each stream is handled on
 * its own, so a poison event holds back only its stream: after `attempts` tries the stream is parked (its version
 * and the error recorded) and every other stream keeps flowing. A transient failure is handed back for Lambda to
 * deliver again instead. A change whose events cannot be read (`unreadable`) parks its stream at its version, after
 * the events before it are applied, as a poison event does.
 */
export const runProjection = async <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  records: ChangeRecord[],
  dependencies: RunnerDependencies<View>,
  unreadable: UnreadableChange[] = [],
): Promise<RunResult> => {
  const { parking, logger, attempts = 3, streamConcurrency = 8 } = dependencies;
  const byStream = new Map<string, ChangeRecord[]>();
  for (const record of records) {
    if (record.eventName !== 'INSERT' || !record.event.streamId.startsWith(projection.streamPrefix)) continue;
    byStream.set(record.event.streamId, [...(byStream.get(record.event.streamId) ?? []), record]);
  }
  // The changes of this projection's streams that cannot be read, lowest version first.
  const unreadableOf = new Map<string, UnreadableChange[]>();
  for (const change of [...unreadable].sort((a, b) => a.version - b.version)) {
    if (!change.streamId.startsWith(projection.streamPrefix)) continue;
    unreadableOf.set(change.streamId, [...(unreadableOf.get(change.streamId) ?? []), change]);
    if (!byStream.has(change.streamId)) byStream.set(change.streamId, []);
  }
  const result: RunResult = { applied: 0, duplicates: 0, heldBack: 0, parked: [], retry: [] };
  if (byStream.size === 0) return result;

  const parkedUnder = { ...projection, name: dependencies.parkedUnder ?? projection.name };
  const parked = await parking.parked(parkedUnder.name, [...byStream.keys()]);
  // Every view the batch touches in one read, rather than one read per stream.
  const live = [...byStream.keys()].filter((streamId) => !parked.has(streamId));
  const read = await dependencies.views.getMany(live.map((streamId) => projection.key(streamId)));
  const storedViews = new Map(live.map((streamId, index) => [streamId, read[index]]));
  const handleStream = async ([streamId, streamRecords]: [string, ChangeRecord[]]): Promise<void> => {
    const log = logger.child({
      projection: projection.name,
      streamId,
      // The view's key (`orderId`, `sku`): what the runbook's queries follow one order by, whichever request of its
      // the batch's last record came from.
      ...projection.key(streamId),
      correlationId: streamRecords.at(-1)?.event.metadata.correlationId,
    });
    if (parked.has(streamId)) {
      result.heldBack += streamRecords.length;
      log.debug('stream is parked; records held back', { records: streamRecords.length });
      return;
    }
    // The first unreadable change the view does not hold yet parks the stream; one it holds (a redelivery of a change
    // applied before an upcaster that throws on it was deployed) is a duplicate, as a readable one would be.
    const seen = storedViews.get(streamId)?.version ?? 0;
    const unreadableHere = unreadableOf.get(streamId) ?? [];
    const unreadableChange = unreadableHere.find((change) => change.version > seen);
    result.duplicates += unreadableHere.filter((change) => change.version <= seen).length;
    // What follows an unreadable change waits for the redrive, which reads the stream again from there.
    const readable = unreadableChange
      ? streamRecords.filter((r) => r.event.version < unreadableChange.version)
      : streamRecords;
    result.heldBack += streamRecords.length - readable.length;
    const events = readable.map((r) => r.event);
    for (let attempt = 1; events.length > 0; attempt++) {
      try {
        // The batch's read serves the first try only: a retry reads the view again.
        const first = attempt === 1 ? { stored: storedViews.get(streamId) } : undefined;
        const { applied, version } = await applyStream(projection, streamId, events, dependencies, first);
        result.applied += applied;
        // The view moved from `version - applied` to `version`: the batch's events in between are the applied ones.
        if (applied > 0 && version !== undefined) {
          const fresh = events.filter((e) => e.version > version - applied && e.version <= version);
          dependencies.onApplied?.([...new Map(fresh.map((e) => [e.version, e])).values()]);
        }
        result.duplicates += applied === 0 ? events.length : 0;
        log.debug('applied', { applied, upTo: Math.max(...events.map((e) => e.version)) });
        break;
      } catch (error) {
        if (attempt < attempts) continue;
        if (isTransient(error)) {
          const first = streamRecords.reduce((a, b) => (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? a : b));
          result.retry.push({ streamId, sequenceNumber: first.sequenceNumber });
          log.warn('transient failure; Lambda will deliver the records again', { error });
          return;
        }
        const version = await parkStream(parkedUnder, streamId, error, dependencies);
        result.parked.push(streamId);
        log.error('poison event: stream parked until redriven', { version, error });
        return;
      }
    }
    if (!unreadableChange) return;
    const { error } = unreadableChange;
    const version = await parkStream(parkedUnder, streamId, error, dependencies, unreadableChange.version);
    result.parked.push(streamId);
    log.error('poison event: stream parked until redriven', { version, error });
  };
  // Streams are independent, and each is applied in order by one worker: a few at a time, so a batch takes the
  // time of its slowest streams rather than the sum of all of them.
  const queue = [...byStream];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await handleStream(next);
  };
  await Promise.all(Array.from({ length: Math.min(streamConcurrency, queue.length) }, worker));
  return result;
};

export type RedriveResult = {
  streamId: string;
  outcome: 'completed' | 'parked-again';
  applied: number;
  error?: string;
};

/** A table a redrive brings up to date, and the names its streams are parked under (see `redrivePlan`). */
export type RedriveTarget<View> = {
  views: Pick<ViewStore<View>, 'get' | 'put'>;
  /** Where a stream that fails again is parked for this table. */
  parkedAs: string;
  alsoParkedAs?: string[];
};

/**
 * Re-applies parked streams in order, from the store, once their cause is fixed, to every table given (the live one
 * first; a version being built or kept for rollback too, or a switch or rollback would show their views stale). A
 * stream is unparked before it is caught up, so no record that arrives meanwhile is held back unseen; a table it
 * fails on again parks it again. Streams parked under `dropped` names (slots no version holds) are only forgotten.
 */
export const redrive = async <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  {
    targets,
    dropped = [],
    parking,
    readAll,
    readRange,
    now,
  }: Pick<RunnerDependencies<View>, 'parking' | 'readRange' | 'now'> & {
    targets: RedriveTarget<View>[];
    dropped?: string[];
    readAll: (streamId: string) => Promise<StoredEvent[]>;
  },
  only?: string,
): Promise<RedriveResult[]> => {
  const names = [...targets.flatMap((t) => [t.parkedAs, ...(t.alsoParkedAs ?? [])]), ...dropped];
  const parkedUnder = new Map<string, ParkedStream[]>();
  for (const name of names) {
    for (const parked of await parking.list(name)) {
      const { streamId } = parked;
      if (only === undefined || streamId === only)
        parkedUnder.set(streamId, [...(parkedUnder.get(streamId) ?? []), { ...parked, projection: name }]);
    }
  }
  const results: RedriveResult[] = [];
  for (const [streamId, under] of parkedUnder) {
    for (const { projection: name } of under) await parking.unpark(name, streamId);
    try {
      const events = await readAll(streamId);
      let applied = 0;
      let error: string | undefined;
      for (const { views, parkedAs } of targets) {
        try {
          applied = Math.max(applied, (await applyStream(projection, streamId, events, { views, readRange })).applied);
        } catch (failure) {
          await parkStream({ ...projection, name: parkedAs }, streamId, failure, {
            views,
            parking,
            ...(now ? { now } : {}),
          });
          error ??= describeFailure(failure);
        }
      }
      results.push(
        error === undefined
          ? { streamId, outcome: 'completed', applied }
          : { streamId, outcome: 'parked-again', applied, error },
      );
    } catch (failure) {
      // The read, or parking it again, failed: parked again as it was, so its records stay held back and a later
      // redrive finds it.
      for (const parked of under) await parking.park(parked);
      results.push({ streamId, outcome: 'parked-again', applied: 0, error: describeFailure(failure) });
    }
  }
  return results;
};
