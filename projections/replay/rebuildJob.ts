import { randomUUID } from 'node:crypto';
import {
  beginRebuild,
  catchUpNoted,
  checkParity,
  dropVersion,
  endScan,
  type Mismatch,
  rebuildSegment,
  type RebuildDependencies,
  type RebuildTarget,
  rollBackTo,
  settleCheck,
  switchTo,
} from './rebuild.js';
import type { ReadModelPointer, RebuildPhase } from '../readModelVersions.js';
import type { Checkpoints, SegmentProgress } from '../ports.js';
import { eventsPerSecond, jobProgress, type ReplayProgress } from './replayJob.js';
import { type ReadModelName, readModelNames } from '../index.js';

export type RebuildProgress = ReplayProgress & { phase: RebuildPhase | 'switched' };

export type RebuildSummary = RebuildProgress & {
  resumed: boolean;
  version: number;
  slot: string;
  eventsPerSecond: number;
  caughtUp: number;
  /** The parity check's outcome; `earlier`: a resumed build was checked by the run that built it, not by this one. */
  parity: { sampled: number; mismatches: Mismatch[]; earlier?: boolean };
  switched: boolean;
  pointer: ReadModelPointer;
};

/** What a rebuild uses of a stage: its tables, store, pointer and targets (a test passes tables of its own). */
export type RebuildClients = {
  rebuildDependencies: RebuildDependencies;
  rebuildTargets: Record<ReadModelName, RebuildTarget>;
  checkpoints(runId: string): Checkpoints;
};

export type RebuildOptions = {
  clients: RebuildClients;
  projection: ReadModelName;
  segments?: number;
  pageSize?: number;
  /** Streams the parity check compares with a fresh fold before the switch. */
  sample?: number;
  /** Switch readers to the new version once it is checked (the default); false stops at `ready`. */
  switchWhenReady?: boolean;
  onProgress?: (progress: RebuildProgress) => void;
  /**
   * Once aborted, each segment stops after its current page, checkpoint saved, and the rebuild returns in phase
   * `scan`; run again, it resumes. How an interruption is tested without killing a process.
   */
  signal?: AbortSignal;
  /**
   * Take over the build in progress (another run's, which stopped) instead of refusing to start while one is: the
   * pointer cannot tell a run that stopped from one still running, and two at once would race on one slot.
   */
  resume?: boolean;
  /** Told once the pointer names the build: from then on, a run that fails can be resumed. */
  onBegun?: () => void;
};

/**
 * `--rebuild`: builds the next version of a read model beside the live one and switches readers to it (ADR 0009).
 * Phases: begin (the pointer names the idle slot) → bulk (parallel scan, whole-stream folds, BatchWriteItem) →
 * catch-up (the streams the live projection saw meanwhile, through the conditional path) → parity check → switch.
 * Run again with `resume` after an interruption, it resumes the build the pointer names, each segment from its
 * checkpoint; without it, a build in progress is refused.
 */
export const runRebuild = async ({
  clients,
  projection,
  segments = 4,
  pageSize,
  sample = 200,
  switchWhenReady = true,
  onProgress,
  signal,
  resume = false,
  onBegun,
}: RebuildOptions): Promise<RebuildSummary> => {
  const deps = clients.rebuildDependencies;
  const target = clients.rebuildTargets[projection];
  const started = Date.now();
  const { pointer: begun, resumed } = await beginRebuild(deps, target, {
    runId: `rebuild-${projection}-${new Date().toISOString()}-${randomUUID().slice(0, 8)}`,
    segments,
    resume,
    ...(onBegun ? { onBegun } : {}),
  });
  const building = begun.building;
  if (!building) throw new Error(`${projection}: the pointer names no build`);
  const { runId, slot, version } = building;
  const totalSegments = building.segments;

  const estimatedTotal = await clients.rebuildDependencies.events.approximateCount();
  const checkpoints = clients.checkpoints(runId);
  const bySegment = new Map<number, SegmentProgress>((await checkpoints.list()).map((p) => [p.segment, p]));
  const eventsBefore = [...bySegment.values()].reduce((sum, p) => sum + p.events, 0);
  let phase: RebuildProgress['phase'] = building.phase;
  const overall = (): RebuildProgress => ({
    ...jobProgress(bySegment.values(), { runId, estimatedTotal, eventsBefore, started, segments: totalSegments }),
    phase,
  });
  const summarize = (outcome: Pick<RebuildSummary, 'caughtUp' | 'parity' | 'switched' | 'pointer'>): RebuildSummary => {
    const summary = overall();
    return { ...summary, resumed, version, slot, eventsPerSecond: eventsPerSecond(summary), ...outcome };
  };

  if (phase === 'scan') {
    await Promise.all(
      Array.from({ length: totalSegments }, (_, segment) =>
        rebuildSegment({
          deps,
          target,
          runId,
          slot,
          segment,
          totalSegments,
          checkpoints,
          ...(pageSize ? { pageSize } : {}),
          onProgress: (progress) => {
            bySegment.set(segment, progress);
            onProgress?.(overall());
          },
          shouldPause: () => signal?.aborted ?? false,
        }),
      ),
    );
    if (overall().segmentsDone < totalSegments) {
      // Stopped mid-scan: the build stays in phase `scan`, each segment at its checkpoint, readers untouched.
      return summarize({
        caughtUp: 0,
        parity: { sampled: 0, mismatches: [] },
        switched: false,
        pointer: await clients.rebuildDependencies.pointers.get(projection),
      });
    }
    await endScan(deps, target, runId);
    phase = 'catchup';
    onProgress?.(overall());
  }
  let caughtUp = 0;
  // A build resumed once ready was checked already: its outcome is the pointer's.
  let parity: RebuildSummary['parity'] =
    phase === 'ready' && building.checked
      ? { sampled: building.checked.sampled, mismatches: [], earlier: true }
      : { sampled: 0, mismatches: [] };
  if (phase === 'catchup') {
    caughtUp = (await catchUpNoted(deps, target, { runId, slot })).streams;
    parity = await checkParity(deps, target, { slot, sample, events: Math.max(estimatedTotal, overall().events) });
    // Refuses (RebuildStateError) on a mismatch: the build stays in catch-up, readers stay where they are.
    await settleCheck(deps, target, runId, {
      sampled: parity.sampled,
      mismatches: parity.mismatches.length,
      examples: parity.mismatches.map(({ streamId, reason }) => `${streamId}: ${reason}`),
    });
    phase = 'ready';
    onProgress?.(overall());
  }
  let pointer = await clients.rebuildDependencies.pointers.get(projection);
  if (switchWhenReady) {
    pointer = await switchTo(deps, target);
    phase = 'switched';
    onProgress?.(overall());
  }
  return summarize({ caughtUp, parity, switched: switchWhenReady, pointer });
};

/** `--switch`: readers move to a checked build. */
export const switchReadModel = (clients: RebuildClients, projection: ReadModelName) =>
  switchTo(clients.rebuildDependencies, clients.rebuildTargets[projection]);

/** `--rollback`: readers move back to the version the last switch replaced. */
export const rollbackReadModel = (clients: RebuildClients, projection: ReadModelName) =>
  rollBackTo(clients.rebuildDependencies, clients.rebuildTargets[projection]);

/**
 * `--finalize`: the previous version is dropped; `--abort`: a build not switched to is. Its views are deleted by
 * `segments` parallel scans.
 */
export const dropReadModelVersion = (
  clients: RebuildClients,
  projection: ReadModelName,
  how: 'finalize' | 'abort',
  segments?: number,
  onBegun?: () => void,
) => dropVersion(clients.rebuildDependencies, clients.rebuildTargets[projection], how, segments, onBegun);

export const rebuildReadModelUsage = `Usage: npm run replay -- --projection ${readModelNames.join('|')} (--rebuild [--resume] [--no-switch] [--sample N] | --switch | --rollback | --finalize | --abort) [--segments N] [--stage <name>]`;
