import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../eventstore/types.js';
import type { Checkpoints, EventScan, ParkingLot, ReplayRuns, SegmentProgress } from '../ports.js';
import { replaySegment, type ReplayTarget } from './segments.js';
import { readRangeOf } from '../projection.js';
import type { ReadModelName } from '../index.js';

export type ReplayProgress = {
  runId: string;
  events: number;
  streams: number;
  failed: number;
  /** Of `events`, those an earlier run read before this one resumed: this run's rate leaves them out. */
  eventsBefore: number;
  /**
   * The table's approximate item count (DynamoDB refreshes it every few hours on AWS). An item holds one append's
   * events, so the events read pass it.
   */
  estimatedTotal: number;
  elapsedMs: number;
  segmentsDone: number;
  segments: number;
};

/** A whole job's progress, summed from its segments' checkpoints. */
export const jobProgress = (
  segments: Iterable<SegmentProgress>,
  job: Pick<ReplayProgress, 'runId' | 'estimatedTotal' | 'segments' | 'eventsBefore'> & { started: number },
): ReplayProgress => {
  const all = [...segments];
  return {
    runId: job.runId,
    events: all.reduce((sum, p) => sum + p.events, 0),
    eventsBefore: job.eventsBefore,
    streams: all.reduce((sum, p) => sum + p.streams, 0),
    failed: all.reduce((sum, p) => sum + p.failed, 0),
    estimatedTotal: job.estimatedTotal,
    elapsedMs: Date.now() - job.started,
    segmentsDone: all.filter((p) => p.done).length,
    segments: job.segments,
  };
};

/** The events this run read per second (not those an earlier run read before it resumed). */
export const eventsPerSecond = (progress: ReplayProgress): number =>
  Math.round((progress.events - progress.eventsBefore) / Math.max(0.001, progress.elapsedMs / 1000));

export type ReplaySummary = ReplayProgress & { resumed: boolean; cleared: number; eventsPerSecond: number };

/**
 * The most scan segments a replay or rebuild runs. On AWS one STANDARD execution runs them all in an inline Map, and
 * its history holds at most 25,000 events: a segment takes 11, and each hand-over before the worker's 15 minutes run
 * out 7 more, so 250 segments leave each about 12 hand-overs (3 hours). The Map runs 40 at a time: more segments
 * than a few hundred add history, not speed.
 */
export const MAX_REPLAY_SEGMENTS = 250;

/** What a replay needs of a stage (the composition root's `Stage` has it all). */
export type ReplayDependencies = {
  store: EventStore;
  events: EventScan;
  parking: ParkingLot;
  checkpoints(runId: string): Checkpoints;
  replayRuns: ReplayRuns;
  /** The replay targets on each read model's live table, as the pointer says now. */
  liveTargets(): Promise<Record<ReadModelName, ReplayTarget>>;
};

export type ReplayOptions = {
  clients: ReplayDependencies;
  projections: ReadModelName[];
  /** Empty the read models first, then rebuild them whole. */
  fromScratch?: boolean;
  /** Start over even if an earlier run of the same projections did not finish. */
  restart?: boolean;
  segments?: number;
  pageSize?: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** Told once the stage has answered and the run is about to change it (empty views, record the run). */
  onBegun?: () => void;
};

/**
 * Rebuilds read models from the event store while the API keeps serving: a parallel scan, each segment folding its
 * streams under the version guard. An interrupted run is resumed from its checkpoints by the next one for the same
 * projections, unless `restart` or `fromScratch` is given.
 */
export const runReplay = async ({
  clients,
  projections,
  fromScratch = false,
  restart = false,
  segments = 4,
  pageSize,
  onProgress,
  onBegun,
}: ReplayOptions): Promise<ReplaySummary> => {
  const { store, parking, events, replayRuns } = clients;
  // In place, on whichever table of each read model is live now (ADR 0009); `--rebuild` builds beside it instead.
  const targets = await clients.liveTargets();
  const started = Date.now();
  const set = [...projections].sort().join('+');
  const latest = await replayRuns.latest(set);
  const resumable = latest && !latest.done && !restart && !fromScratch;
  const runId = resumable ? latest.runId : `${set}-${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;
  const totalSegments = resumable ? latest.totalSegments : segments;

  onBegun?.();
  let cleared = 0;
  if (fromScratch) {
    for (const name of projections) cleared += await targets[name].clear();
  }
  await replayRuns.save(set, { runId, totalSegments, done: false });

  const estimatedTotal = await events.approximateCount();
  const checkpoints = clients.checkpoints(runId);
  const bySegment = new Map<number, SegmentProgress>((await checkpoints.list()).map((p) => [p.segment, p]));
  const eventsBefore = [...bySegment.values()].reduce((sum, p) => sum + p.events, 0);
  const overall = (): ReplayProgress =>
    jobProgress(bySegment.values(), { runId, estimatedTotal, eventsBefore, started, segments: totalSegments });

  await Promise.all(
    Array.from({ length: totalSegments }, (_, segment) =>
      replaySegment({
        events,
        segment,
        totalSegments,
        targets: projections.map((name) => targets[name]),
        readRange: readRangeOf(store),
        parking,
        checkpoints,
        ...(pageSize ? { pageSize } : {}),
        onProgress: (progress) => {
          bySegment.set(segment, progress);
          onProgress?.(overall());
        },
      }),
    ),
  );
  await replayRuns.save(set, { runId, totalSegments, done: true });
  const summary = overall();
  return {
    ...summary,
    resumed: Boolean(resumable),
    cleared,
    eventsPerSecond: eventsPerSecond(summary),
  };
};
