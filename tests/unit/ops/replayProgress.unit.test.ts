import { describe, expect, it } from 'vitest';
import { progressBar, progressPrinter } from '../../../ops/replayProgress.js';
import type { ReplayProgress } from '../../../projections/replay/replayJob.js';

const progress = (events: number, phase?: string): ReplayProgress & { phase?: string } => ({
  runId: 'run-1',
  events,
  streams: events,
  failed: 0,
  eventsBefore: 0,
  estimatedTotal: 1_000,
  elapsedMs: 1_000,
  segmentsDone: 0,
  segments: 4,
  ...(phase ? { phase } : {}),
});

/** A printer on a clock the test moves, and what it wrote. */
const printer = (isTTY: boolean) => {
  let clock = 0;
  const written: string[] = [];
  const print = progressPrinter({ isTTY, write: (text) => written.push(text), now: () => clock });
  return { print, written, advance: (ms: number) => (clock += ms) };
};

describe('the replay command’s progress (ops/replayProgress.ts)', () => {
  it('in a log, prints a line each 2 s, and every new phase at once', () => {
    const { print, written, advance } = printer(false);
    print(progress(10, 'scan'));
    advance(500);
    print(progress(20, 'scan'));
    expect(written).toEqual([`${progressBar(progress(10, 'scan'))}\n`]);
    advance(1_500);
    print(progress(30, 'scan'));
    advance(10);
    // The catch-up, 10 ms after the last line: a phase of its own, not swallowed by the throttle.
    print(progress(30, 'catchup'));
    expect(written.slice(1)).toEqual([
      `${progressBar(progress(30, 'scan'))}\n`,
      `${progressBar(progress(30, 'catchup'))}\n`,
    ]);
  });

  it('prints the final line even within the throttle, but not twice the same', () => {
    const { print, written, advance } = printer(false);
    print(progress(10, 'ready'));
    advance(5);
    print(progress(10, 'ready'), { final: true });
    expect(written).toHaveLength(1);
    print(progress(11, 'ready'), { final: true });
    expect(written).toHaveLength(2);
  });

  it('on a terminal, redraws one line in place, clearing what a longer one left', () => {
    const { print, written, advance } = printer(true);
    print(progress(1_100, 'scan'));
    advance(100);
    print(progress(1_000, 'scan'));
    expect(written).toHaveLength(1);
    advance(100);
    advance(200);
    print(progress(5, 'scan'));
    expect(written).toEqual([
      `\r${progressBar(progress(1_100, 'scan'))}\x1b[K`,
      `\r${progressBar(progress(5, 'scan'))}\x1b[K`,
    ]);
    expect(progressBar(progress(1_100, 'scan'))).toContain('1,100 events (past the estimate of 1,000)');
  });
});
