import { describe, expect, it } from 'vitest';
import {
  abortBuild,
  dropped,
  finalize,
  initialPointer,
  markReady,
  type ReadModelPointer,
  RebuildStateError,
  rollBack,
  scanDone,
  startBuild,
  switchLive,
  writePlan,
} from '../../../projections/readModelVersions.js';

const now = new Date('2026-11-29T10:00:00Z');
const start = (pointer: ReadModelPointer = initialPointer('orders')) =>
  startBuild(pointer, { runId: 'run-1', segments: 4, now });
const finalizedAndEmptied = (pointer: ReadModelPointer) => {
  const { pointer: finalized } = finalize(pointer, now, 'run-d');
  return dropped(finalized, 'run-d', now);
};
const ready = () => markReady(scanDone(start(), 'run-1', now), 'run-1', { sampled: 200, mismatches: 0 }, now);

describe('a read model version through a blue-green rebuild', () => {
  it('builds into the idle slot, noting streams while the bulk writes run, then writing both slots', () => {
    const scanning = start();
    expect(scanning.building).toMatchObject({ slot: 'green', version: 2, phase: 'scan', runId: 'run-1' });
    expect(scanning.revision).toBe(1);
    // The bulk writes are unconditional: the live projection must not write there yet, only note what it saw.
    expect(writePlan(scanning)).toEqual({ slots: ['blue'], noteFor: 'run-1' });
    const catchingUp = scanDone(scanning, 'run-1', now);
    expect(writePlan(catchingUp)).toEqual({ slots: ['blue', 'green'] });
    expect(writePlan(ready())).toEqual({ slots: ['blue', 'green'] });
  });

  it('switches readers in one step and keeps writing the old version, so a rollback loses nothing', () => {
    const switched = switchLive(ready(), now);
    expect(switched.live).toEqual({ slot: 'green', version: 2 });
    expect(switched.previous).toEqual({ slot: 'blue', version: 1 });
    expect(switched.building).toBeUndefined();
    expect(writePlan(switched)).toEqual({ slots: ['green', 'blue'] });
    const rolledBack = rollBack(switched, now);
    expect(rolledBack.live).toEqual({ slot: 'blue', version: 1 });
    expect(rolledBack.previous).toEqual({ slot: 'green', version: 2 });
    // Rolling back is undone by rolling back again.
    expect(rollBack(rolledBack, now).live).toEqual({ slot: 'green', version: 2 });
  });

  it('drops the kept version on finalize, and never gives a version number twice', () => {
    const { pointer, drop } = finalize(rollBack(switchLive(ready(), now), now), now, 'run-d');
    expect(drop).toBe('green');
    expect(pointer.previous).toBeUndefined();
    expect(writePlan(pointer)).toEqual({ slots: ['blue'] });
    // Until its views are deleted, no build may go into the dropped slot; then one may, under a new number.
    expect(pointer.dropping).toEqual({ slot: 'green', version: 2, since: now.toISOString(), by: 'run-d' });
    expect(() => start(pointer)).toThrow(/version 2's views are still being deleted from the green slot/);
    // Only the run that marked it (or took it over) clears the mark.
    expect(dropped(pointer, 'another', now)).toBe(pointer);
    const emptied = dropped(pointer, 'run-d', now);
    expect(emptied).toMatchObject({ revision: pointer.revision + 1, live: { slot: 'blue', version: 1 } });
    expect(emptied.dropping).toBeUndefined();
    expect(dropped(emptied, 'run-d', now)).toBe(emptied);
    expect(start(emptied).building).toMatchObject({ slot: 'green', version: 3 });
  });

  it('marks an aborted build’s slot as being emptied, keeping the version kept for rollback', () => {
    const kept = switchLive(ready(), now);
    const rebuilding = startBuild(finalizedAndEmptied(kept), { runId: 'run-2', segments: 4, now });
    const { pointer, drop } = abortBuild(rebuilding, now, 'run-d');
    expect(drop).toBe('blue');
    expect(pointer).toMatchObject({ live: { slot: 'green' }, dropping: { slot: 'blue', version: 3 } });
    expect(pointer.building).toBeUndefined();
  });

  it('refuses a switch before the parity check, and a ready mark when it found a mismatch', () => {
    expect(() => switchLive(start(), now)).toThrow(RebuildStateError);
    expect(() => switchLive(initialPointer('orders'), now)).toThrow(/nothing to switch to/);
    expect(() =>
      markReady(scanDone(start(), 'run-1', now), 'run-1', { sampled: 200, mismatches: 1, examples: ['x'] }, now),
    ).toThrow(/1 of 200 views/);
    // The bulk phase is not over: a catch-up cannot be marked ready from it.
    expect(() => markReady(start(), 'run-1', { sampled: 1, mismatches: 0 }, now)).toThrow(RebuildStateError);
    expect(() => scanDone(start(), 'run-2', now)).toThrow(/run run-2/);
  });

  it('refuses a second build while one runs or an old version is kept', () => {
    expect(() => start(start())).toThrow(/already being built .*resume it \(--rebuild --resume/);
    // One built and checked needs no resume: the refusal says to switch to it.
    expect(() => start(ready())).toThrow(/already being built .*switch readers to it \(--switch\)/);
    expect(() => start(switchLive(ready(), now))).toThrow(/--finalize/);
    expect(() => rollBack(initialPointer('orders'), now)).toThrow(/nothing to roll back/);
    expect(() => finalize(initialPointer('orders'), now, 'run-d')).toThrow(/nothing to finalize/);
  });

  it('aborts a build not switched to, emptying its slot and leaving readers where they are', () => {
    const { pointer, drop } = abortBuild(start(), now, 'run-d');
    expect(drop).toBe('green');
    expect(pointer.building).toBeUndefined();
    expect(pointer.live).toEqual({ slot: 'blue', version: 1 });
    expect(writePlan(pointer)).toEqual({ slots: ['blue'] });
  });
});
