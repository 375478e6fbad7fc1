import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress, startProgress } from '../../../bench/progress.js';

/** A stream that keeps what is written, and a clock the test moves: no timers, nothing waits. */
const given = ({ isTTY, columns }: { isTTY: boolean; columns?: number }) => {
  const writes: string[] = [];
  let ms = 0;
  const progress = startProgress({
    label: 'chaos',
    total: 10,
    stream: { write: (text: string) => writes.push(text), isTTY, ...(columns ? { columns } : {}) },
    now: () => ms,
    timer: false,
  });
  return { progress, writes, advance: (by: number) => (ms += by) };
};

describe('the progress line', () => {
  describe('formatProgress', () => {
    it('shows only the counts before the first order, with what the command is doing', () => {
      expect(
        formatProgress({ label: 'chaos', total: 300, placed: 0, settled: 0, note: 'starting the local stack' }),
      ).toBe('chaos  placed 0/300  settled 0/300  (starting the local stack)');
    });

    it('shows the rate of settled orders, the time so far and the time left at that rate', () => {
      expect(formatProgress({ label: 'chaos', total: 300, placed: 120, settled: 100, elapsedMs: 25_000 })).toBe(
        'chaos  placed 120/300  settled 100/300  4.0 orders/s  25s  ETA 50s',
      );
    });

    it('shows no rate or ETA until an order has settled', () => {
      expect(formatProgress({ label: 'cost', total: 20, placed: 4, settled: 0, elapsedMs: 1_500 })).toBe(
        'cost  placed 4/20  settled 0/20  2s',
      );
    });

    it('says how long the whole run took once done', () => {
      expect(
        formatProgress({ label: 'cost', total: 200, placed: 200, settled: 200, elapsedMs: 62_000, done: true }),
      ).toBe('cost  placed 200/200  settled 200/200  3.2 orders/s  done in 1m02s');
    });

    it('keeps the rate readable at any speed', () => {
      const line = (settled: number) =>
        formatProgress({ label: 'x', total: 1000, placed: settled, settled, elapsedMs: 10_000 });
      expect(line(4)).toContain('0.40 orders/s');
      expect(line(42)).toContain('4.2 orders/s');
      expect(line(420)).toContain('42 orders/s');
    });

    it('writes durations as seconds, minutes and seconds, or hours and minutes', () => {
      expect(formatDuration(0)).toBe('0s');
      expect(formatDuration(59_400)).toBe('59s');
      expect(formatDuration(62_000)).toBe('1m02s');
      expect(formatDuration(3_900_000)).toBe('1h05m');
    });
  });

  describe('on a terminal', () => {
    it('rewrites one line in place, at most ten times a second, and ends it when done', () => {
      const { progress, writes, advance } = given({ isTTY: true });
      expect(writes).toEqual(['\r\x1b[2Kchaos  placed 0/10  settled 0/10']);

      progress.placed();
      advance(50);
      progress.placed();
      expect(writes).toHaveLength(1);
      advance(100);
      progress.settled();
      expect(writes.at(-1)).toBe('\r\x1b[2Kchaos  placed 2/10  settled 1/10  6.7 orders/s  0s  ETA 1s');

      advance(1_000);
      progress.done();
      expect(writes.at(-1)).toBe('\r\x1b[2Kchaos  placed 2/10  settled 1/10  0.87 orders/s  done in 1s\n');
      progress.settled();
      progress.done();
      expect(writes.at(-1)?.endsWith('\n')).toBe(true);
    });

    it('cuts the line to the terminal width, so it never wraps', () => {
      const { progress, writes } = given({ isTTY: true, columns: 24 });
      progress.note('a note far too long for 24 columns');
      expect(writes.at(-1)).toBe('\r\x1b[2Kchaos  placed 0/10  set');
    });
  });

  describe('into a pipe or a file', () => {
    it('prints a line at most every 5 s, only when something changed, and the last one when done', () => {
      const { progress, writes, advance } = given({ isTTY: false });
      progress.placed();
      progress.settled();
      expect(writes).toEqual([]);

      advance(5_000);
      progress.placed();
      expect(writes).toEqual(['chaos  placed 2/10  settled 1/10  0.20 orders/s  5s  ETA 45s\n']);

      advance(2_000);
      progress.settled();
      expect(writes).toHaveLength(1);

      progress.note('waiting for the sagas');
      progress.done();
      expect(writes).toHaveLength(2);
      expect(writes[1]).toBe('chaos  placed 2/10  settled 2/10  0.29 orders/s  done in 7s\n');
    });

    it('prints a new note, even with the same counts, but not its clearing', () => {
      const { progress, writes, advance } = given({ isTTY: false });
      progress.note('starting the local stack');
      advance(5_000);
      progress.note();
      advance(5_000);
      progress.note('waiting for the sagas');
      expect(writes).toEqual(['chaos  placed 0/10  settled 0/10  (waiting for the sagas)\n']);
    });
  });
});
