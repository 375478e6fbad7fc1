/**
 * Blue-green read models (ADR 0009). Each projection has two physical tables, its slots `blue` and `green`; one
 * item per projection (the pointer) says which slot is live, which is being built, and which is kept for rollback.
 * This module is the pointer's pure part: its shape, where the live projection writes, and the transitions a
 * rebuild goes through. The adapter (adapters/readModelPointer.ts) stores it with a condition on `revision`.
 */

export const SLOTS = ['blue', 'green'] as const;
export type Slot = (typeof SLOTS)[number];
export const otherSlot = (slot: Slot): Slot => (slot === 'blue' ? 'green' : 'blue');

/**
 * A rebuild's phases. `scan`: the bulk writes fill the slot, and the live projection only notes which streams it
 * saw (a conditional write there could be overwritten by a bulk write). `catchup`: the bulk writes are done, the live
 * projection writes the slot too, and the rebuild re-applies the noted streams. `ready`: caught up and checked.
 */
export type RebuildPhase = 'scan' | 'catchup' | 'ready';

export type SlotVersion = { slot: Slot; version: number };

export type Building = SlotVersion & {
  runId: string;
  phase: RebuildPhase;
  segments: number;
  startedAt: string;
  /** The parity check's outcome, once it ran. */
  checked?: { sampled: number; mismatches: number };
};

export type ReadModelPointer = {
  projection: string;
  /** Bumped by every change; each write is conditional on the revision it read, so transitions never interleave. */
  revision: number;
  live: SlotVersion;
  /** The version the last switch replaced, kept current by the live projection until `--finalize`, for rollback. */
  previous?: SlotVersion;
  building?: Building;
  /**
   * A version `--finalize` or `--abort` dropped whose slot is still being emptied: no build may start into that slot
   * until it is empty, or the emptying would delete the new build's views. `by` names the run emptying it: another
   * that takes over (the first stopped) renames it, and only the run named may delete or clear it.
   */
  dropping?: SlotVersion & { since: string; by: string };
  /** The highest version ever started, so a version number is never given twice (a rolled-back one included). */
  lastVersion: number;
  changedAt: string;
};

/** Before any rebuild there is no item: the original tables (the blue slot) hold version 1. */
export const initialPointer = (projection: string): ReadModelPointer => ({
  projection,
  revision: 0,
  live: { slot: 'blue', version: 1 },
  lastVersion: 1,
  changedAt: new Date(0).toISOString(),
});

/**
 * The name a slot parks its poison streams under, the same whichever slot is live: blue's under the projection's own
 * name (where every stream was parked before there were slots), green's under `<projection>@green`. A switch or a
 * rollback moves no parked stream from one version to the other, and a slot's parked streams hold back its writes
 * only.
 */
export const parkedIn = (projection: string, slot: Slot): string =>
  slot === 'blue' ? projection : `${projection}@${slot}`;

/** Where blue's streams were parked while another slot was live, before names were fixed per slot: still blue's. */
const formerlyParkedIn = (projection: string, slot: Slot): string[] => (slot === 'blue' ? [`${projection}@blue`] : []);

/**
 * What a redrive brings up to date: every slot the live projection writes, each with the names its streams are parked
 * under, and the names of slots no version holds any more, whose parked streams are only forgotten. A version still
 * in its bulk phase keeps its parked streams: its views are not written yet.
 */
export const redrivePlan = (
  pointer: ReadModelPointer,
): { slots: { slot: Slot; parkedAs: string; alsoParkedAs: string[] }[]; dropped: string[] } => {
  const name = pointer.projection;
  const held = new Set<Slot>([pointer.live.slot]);
  if (pointer.previous) held.add(pointer.previous.slot);
  if (pointer.building) held.add(pointer.building.slot);
  return {
    slots: writePlan(pointer).slots.map((slot) => ({
      slot,
      parkedAs: parkedIn(name, slot),
      alsoParkedAs: formerlyParkedIn(name, slot),
    })),
    dropped: SLOTS.filter((slot) => !held.has(slot)).flatMap((slot) => [
      parkedIn(name, slot),
      ...formerlyParkedIn(name, slot),
    ]),
  };
};

/**
 * Where the live projection writes a batch: the live slot, the version kept for rollback, and a version being built
 * once its bulk writes are done. While they are not, it notes the streams it saw under `noteFor` (the run id)
 * instead, for the rebuild's catch-up. Every write is the conditional one, so writing a slot twice is harmless.
 */
export const writePlan = (pointer: ReadModelPointer): { slots: Slot[]; noteFor?: string } => {
  const slots = new Set<Slot>([pointer.live.slot]);
  if (pointer.previous) slots.add(pointer.previous.slot);
  const { building } = pointer;
  if (building && building.phase !== 'scan') slots.add(building.slot);
  return { slots: [...slots], ...(building?.phase === 'scan' ? { noteFor: building.runId } : {}) };
};

/** A transition the pointer's state does not allow: the CLI answers it as a 409 problem. */
export class RebuildStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RebuildStateError';
  }
}

const changed = (pointer: ReadModelPointer, next: Partial<ReadModelPointer>, now: Date): ReadModelPointer => {
  const { previous: _, building: __, ...kept } = pointer;
  return { ...kept, ...next, revision: pointer.revision + 1, changedAt: now.toISOString() };
};

/** Starts building the next version into the idle slot; refused while a previous version is still kept. */
export const startBuild = (
  pointer: ReadModelPointer,
  { runId, segments, now }: { runId: string; segments: number; now: Date },
): ReadModelPointer => {
  if (pointer.building) {
    throw new RebuildStateError(
      `${pointer.projection}: version ${pointer.building.version} is already being built (run ${pointer.building.runId}, ${pointer.building.phase}, since ${pointer.building.startedAt}); ${pointer.building.phase === 'ready' ? 'it is built and checked: switch readers to it (--switch), or drop it with --abort' : 'if that run has stopped, resume it (--rebuild --resume, or redrive its replay execution), or drop it with --abort'}`,
    );
  }
  if (pointer.previous) {
    throw new RebuildStateError(
      `${pointer.projection}: version ${pointer.previous.version} is still kept beside the live version ${pointer.live.version}; --finalize first, which drops it (--rollback to it first to keep it instead)`,
    );
  }
  if (pointer.dropping) {
    throw new RebuildStateError(
      `${pointer.projection}: version ${pointer.dropping.version}'s views are still being deleted from the ${pointer.dropping.slot} slot (since ${pointer.dropping.since}); wait for that --finalize or --abort to end; if it has stopped (be sure it has), run either again to finish it`,
    );
  }
  const slot = otherSlot(pointer.live.slot);
  const version = pointer.lastVersion + 1;
  return changed(
    pointer,
    { building: { slot, version, runId, phase: 'scan', segments, startedAt: now.toISOString() }, lastVersion: version },
    now,
  );
};

/** The bulk writes are done: from now on the live projection writes the new slot too. */
export const scanDone = (pointer: ReadModelPointer, runId: string, now: Date): ReadModelPointer => {
  const building = buildingRun(pointer, runId, ['scan', 'catchup']);
  return changed(pointer, { building: { ...building, phase: 'catchup' } }, now);
};

/** Caught up and checked: the new version may be switched to. */
export const markReady = (
  pointer: ReadModelPointer,
  runId: string,
  { sampled, mismatches, examples = [] }: { sampled: number; mismatches: number; examples?: string[] },
  now: Date,
): ReadModelPointer => {
  const building = buildingRun(pointer, runId, ['catchup', 'ready']);
  if (mismatches > 0) {
    throw new RebuildStateError(
      `${pointer.projection}: the parity check found ${mismatches} of ${sampled} views unlike a fresh fold (${examples.slice(0, 3).join('; ')}); not switching`,
    );
  }
  return changed(pointer, { building: { ...building, phase: 'ready', checked: { sampled, mismatches } } }, now);
};

/** Readers move to the new version; the old one is kept, still written, for rollback. */
export const switchLive = (pointer: ReadModelPointer, now: Date): ReadModelPointer => {
  const { building } = pointer;
  if (building?.phase !== 'ready') {
    throw new RebuildStateError(
      building
        ? `${pointer.projection}: version ${building.version} is in phase ${building.phase}, not ready; finish it with --rebuild --resume first (after a failed parity check: fix the cause, or --abort it and --rebuild)`
        : `${pointer.projection}: no version is being built; nothing to switch to`,
    );
  }
  return changed(pointer, { live: { slot: building.slot, version: building.version }, previous: pointer.live }, now);
};

/** Readers move back to the version the last switch replaced; the newer one is kept, so this can be undone too. */
export const rollBack = (pointer: ReadModelPointer, now: Date): ReadModelPointer => {
  if (!pointer.previous) {
    throw new RebuildStateError(`${pointer.projection}: no previous version is kept; nothing to roll back to`);
  }
  return changed(pointer, { live: pointer.previous, previous: pointer.live }, now);
};

const dropping = ({ slot, version }: SlotVersion, now: Date, by: string) => ({
  dropping: { slot, version, since: now.toISOString(), by },
});

/** Stops keeping the previous version: answers the pointer and the slot whose views are to be dropped. */
export const finalize = (
  pointer: ReadModelPointer,
  now: Date,
  by: string,
): { pointer: ReadModelPointer; drop: Slot } => {
  if (!pointer.previous) {
    throw new RebuildStateError(`${pointer.projection}: no previous version is kept; nothing to finalize`);
  }
  return { pointer: changed(pointer, dropping(pointer.previous, now, by), now), drop: pointer.previous.slot };
};

/** Gives up a build that has not been switched to: answers the pointer and the slot to empty. */
export const abortBuild = (
  pointer: ReadModelPointer,
  now: Date,
  by: string,
): { pointer: ReadModelPointer; drop: Slot } => {
  if (!pointer.building) throw new RebuildStateError(`${pointer.projection}: no version is being built`);
  return {
    pointer: changed(
      pointer,
      { ...(pointer.previous ? { previous: pointer.previous } : {}), ...dropping(pointer.building, now, by) },
      now,
    ),
    drop: pointer.building.slot,
  };
};

/** A run takes over a drop another began and did not finish (it stopped): the other may no longer delete. */
export const takeOverDrop = (pointer: ReadModelPointer, by: string, now: Date): ReadModelPointer => {
  if (!pointer.dropping) throw new RebuildStateError(`${pointer.projection}: no version is being dropped`);
  return {
    ...pointer,
    dropping: { ...pointer.dropping, by },
    revision: pointer.revision + 1,
    changedAt: now.toISOString(),
  };
};

/** The run `by` has emptied the dropped slot: a build may use it again. Everything else the pointer says stays. */
export const dropped = (pointer: ReadModelPointer, by: string, now: Date): ReadModelPointer => {
  if (pointer.dropping?.by !== by) return pointer;
  const { dropping: _, ...rest } = pointer;
  return { ...rest, revision: pointer.revision + 1, changedAt: now.toISOString() };
};

const buildingRun = (pointer: ReadModelPointer, runId: string, phases: RebuildPhase[]): Building => {
  const { building } = pointer;
  if (!building || building.runId !== runId || !phases.includes(building.phase)) {
    throw new RebuildStateError(
      `${pointer.projection}: run ${runId} is not in phase ${phases.join(' or ')} (the pointer says ${building ? `run ${building.runId}, ${building.phase}` : 'nothing is being built'})`,
    );
  }
  return building;
};
