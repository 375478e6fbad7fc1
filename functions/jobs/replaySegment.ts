import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import {
  beginRebuild,
  catchUpNoted,
  checkParity,
  endScan,
  rebuildSegment,
  settleCheck,
  switchTo,
} from '../../projections/replay/rebuild.js';
import { readModelNames } from '../../projections/index.js';
import { replaySegment } from '../../projections/replay/segments.js';
import { MAX_REPLAY_SEGMENTS } from '../../projections/replay/replayJob.js';
import { services } from '../dependencies.js';
import { baseLogger } from '../observability/log.js';
import { telemetry } from '../observability/telemetry.js';
import { readRangeOf } from '../../projections/projection.js';
import { isTransient } from '../../eventstore/errors.js';

/**
 * A throttle, a timeout or a 5xx the worker's own retries did not outlast, under the one name the replay state
 * machine retries (statemachines/replay.asl.json): the segment runs again from its checkpoint. Any error
 * `isTransient` accepts is one, so the two lists cannot drift apart.
 */
export class TransientReplayError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause), { cause });
    this.name = 'TransientReplayError';
  }
}

/** What the state machine is told of a worker's failure: a transient one by the name it retries, others as they are. */
export const asJobError = (error: unknown): unknown => (isTransient(error) ? new TransientReplayError(error) : error);

const Projection = z.enum(readModelNames);
const Projections = z.array(Projection).min(1);
const Slot = z.enum(['blue', 'green']);
const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('clear'), projections: Projections }),
  // The blue-green rebuild's phases (ADR 0009), as `npm run replay -- --rebuild` runs them in one process.
  z.object({
    action: z.literal('rebuildBegin'),
    projection: Projection,
    runId: z.string().min(1),
    totalSegments: z.int().min(1).max(MAX_REPLAY_SEGMENTS),
  }),
  z.object({
    action: z.literal('rebuildSegment'),
    projection: Projection,
    runId: z.string().min(1),
    slot: Slot,
    segment: z.int().min(0),
    totalSegments: z.int().min(1).max(MAX_REPLAY_SEGMENTS),
  }),
  z.object({
    action: z.literal('rebuildCheck'),
    projection: Projection,
    runId: z.string().min(1),
    slot: Slot,
    sample: z.int().min(1).max(10_000),
  }),
  z.object({ action: z.literal('rebuildSwitch'), projection: Projection }),
  z.object({
    action: z.literal('segment'),
    runId: z.string().min(1),
    segment: z.int().min(0),
    totalSegments: z.int().min(1).max(MAX_REPLAY_SEGMENTS),
    projections: Projections,
  }),
]);

/** Time left for a last page and its checkpoint before Lambda's timeout: the next invocation resumes. */
const HANDOVER_MS = 60_000;

/** One phase of a blue-green rebuild; what it answers is what the state machine's next state reads. */
const rebuildPhase = async (
  input: Exclude<z.infer<typeof Input>, { action: 'clear' | 'segment' }>,
  context: Context,
): Promise<unknown> => {
  const stage = services();
  const deps = stage.rebuildDependencies;
  const target = stage.rebuildTargets[input.projection];
  switch (input.action) {
    case 'rebuildBegin': {
      const { pointer, resumed } = await beginRebuild(deps, target, {
        runId: input.runId,
        segments: input.totalSegments,
        // The run is the execution: a redriven execution resumes its own build; a new one is refused while any is.
        resume: false,
      });
      const building = pointer.building;
      if (!building) throw new Error(`${input.projection}: the pointer names no build`);
      return { runId: building.runId, slot: building.slot, totalSegments: building.segments, resumed };
    }
    case 'rebuildSegment':
      return rebuildSegment({
        deps,
        target,
        runId: input.runId,
        slot: input.slot,
        segment: input.segment,
        totalSegments: input.totalSegments,
        checkpoints: stage.checkpoints(input.runId),
        shouldPause: () => context.getRemainingTimeInMillis() < HANDOVER_MS,
      });
    case 'rebuildCheck': {
      await endScan(deps, target, input.runId);
      const caughtUp = await catchUpNoted(deps, target, { runId: input.runId, slot: input.slot });
      // About how many events the table holds, for drawing the sample: what the segments scanned.
      const events = (await stage.checkpoints(input.runId).list()).reduce((sum, segment) => sum + segment.events, 0);
      const parity = await checkParity(deps, target, { slot: input.slot, sample: input.sample, events });
      // Refuses (RebuildStateError) on a mismatch: the execution fails, readers stay where they are.
      const ready = await settleCheck(deps, target, input.runId, {
        sampled: parity.sampled,
        mismatches: parity.mismatches.length,
        examples: parity.mismatches.map(({ streamId, reason }) => `${streamId}: ${reason}`),
      });
      return {
        caughtUp: caughtUp.streams,
        sampled: parity.sampled,
        mismatches: parity.mismatches.length,
        version: ready.building?.version,
      };
    }
    case 'rebuildSwitch': {
      const pointer = await switchTo(deps, target);
      return { live: pointer.live };
    }
  }
};

const work = async (event: unknown, context: Context): Promise<unknown> => {
  const input = Input.parse(event);
  const logger = baseLogger().child({ function: context.functionName, job: 'replay', ...input });
  if (input.action !== 'clear' && input.action !== 'segment') {
    const answer = await rebuildPhase(input, context);
    logger.info('rebuild phase done', { answer });
    return answer;
  }
  // The live table of each read model, as the stored pointer names it (as `npm run replay` does): after a switch, not blue.
  const all = await services().liveTargets();
  if (input.action === 'clear') {
    let cleared = 0;
    for (const name of input.projections) cleared += await all[name].clear();
    logger.info('read models cleared', { cleared });
    return { cleared };
  }
  const { store, events, parking, checkpoints } = services();
  const progress = await replaySegment({
    events,
    segment: input.segment,
    totalSegments: input.totalSegments,
    targets: input.projections.map((name) => all[name]),
    readRange: readRangeOf(store),
    parking,
    checkpoints: checkpoints(input.runId),
    shouldPause: () => context.getRemainingTimeInMillis() < HANDOVER_MS,
  });
  logger.info(progress.done ? 'segment replayed' : 'handing over before the timeout', { ...progress });
  return progress;
};

/**
 * One worker of the replay job (statemachines/replay.asl.json): clears the read models, or rebuilds them from one
 * scan segment until it is done or the invocation nears its timeout; Step Functions invokes it again until done.
 */
export const handler = middy<unknown, unknown, Error, Context>()
  .use(telemetry())
  .handler(async (event, context) => {
    try {
      return await work(event, context);
    } catch (error) {
      throw asJobError(error);
    }
  });
