/**
 * One progress line for a command that drives orders through the local stack (`npm run chaos`, `cost`, the
 * whole-stack benchmarks): orders placed and settled, the rate and the time left. On a terminal the line is rewritten
 * in place; into a pipe or a file it is printed at most every `everyMs` (5 s), and only when it changed.
 *
 * @example
 * const progress = startProgress({ label: 'chaos', total: 300 });
 * // for each order: progress.placed() once it is accepted, progress.settled() once it has ended
 * progress.note('waiting for the read models');
 * progress.done(); // before printing the report
 */
export type Progress = {
  /** `count` more orders accepted. The clock (rate, ETA) starts at the first. */
  placed(count?: number): void;
  /** `count` more orders ended (as they should or not). */
  settled(count?: number): void;
  /** Words after the counts, e.g. what the command waits for once every order has settled; none clears them. */
  note(text?: string): void;
  /** Draws the last line and ends it; nothing is drawn after. Safe to call twice (e.g. again in a `finally`). */
  done(): void;
};

export type ProgressStream = { write(text: string): unknown; isTTY?: boolean; columns?: number };

export type ProgressOptions = {
  label: string;
  /** How many orders the run places. */
  total: number;
  /** process.stdout unless told. */
  stream?: ProgressStream;
  /** Rewrite one line in place; by default when the stream is a terminal. */
  inPlace?: boolean;
  /** Not in place: at most one line per this many ms. In place: how often the clock on the line moves. */
  everyMs?: number;
  /** Milliseconds from any fixed point; performance.now() unless told (tests). */
  now?: () => number;
  /** Redraw on a clock as well as on each order; tests turn it off and drive the line by hand. */
  timer?: boolean;
};

export type ProgressState = {
  label: string;
  total: number;
  placed: number;
  settled: number;
  /** Since the first order was placed; undefined before. */
  elapsedMs?: number;
  note?: string;
  done?: boolean;
};

/** `42s`, `1m02s`, `1h05m`. */
export const formatDuration = (ms: number): string => {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
};

/** `0.42`, `4.1`, `37`: two significant figures or more. */
const formatRate = (perSecond: number): string =>
  perSecond < 1 ? perSecond.toFixed(2) : perSecond < 10 ? perSecond.toFixed(1) : perSecond.toFixed(0);

/**
 * The line itself, e.g. `chaos  placed 120/300  settled 98/300  4.1 orders/s  24s  ETA 44s  (waiting for sagas)`.
 * The rate is orders settled per second since the first was placed; the ETA assumes it holds.
 */
export const formatProgress = ({ label, total, placed, settled, elapsedMs, note, done }: ProgressState): string => {
  const parts = [label, `placed ${placed}/${total}`, `settled ${settled}/${total}`];
  if (elapsedMs !== undefined) {
    const rate = elapsedMs > 0 ? settled / (elapsedMs / 1000) : 0;
    if (settled > 0) parts.push(`${formatRate(rate)} orders/s`);
    if (done) parts.push(`done in ${formatDuration(elapsedMs)}`);
    else {
      parts.push(formatDuration(elapsedMs));
      if (settled > 0 && settled < total) parts.push(`ETA ${formatDuration(((total - settled) / rate) * 1000)}`);
    }
  }
  if (note) parts.push(`(${note})`);
  return parts.join('  ');
};

/** Erases the terminal's current line and returns to its start. */
const clearLine = '\r\x1b[2K';

export const startProgress = ({
  label,
  total,
  stream = process.stdout,
  inPlace = stream.isTTY === true,
  everyMs = inPlace ? 1000 : 5000,
  now = () => performance.now(),
  timer = true,
}: ProgressOptions): Progress => {
  const state: ProgressState = { label, total, placed: 0, settled: 0 };
  let firstPlacedAt: number | undefined;
  let lastDrawnAt = now();
  let finished = false;

  const current = (): ProgressState => ({
    ...state,
    ...(firstPlacedAt === undefined ? {} : { elapsedMs: now() - firstPlacedAt }),
  });
  /** What must change before another line is printed into a file: the counts, or a note not printed yet. */
  const counts = () => `${state.placed} ${state.settled}`;
  // Nothing to say before the first order, unless a note says it.
  let printed: { counts: string; note?: string } = { counts: counts() };
  const changed = () => counts() !== printed.counts || (state.note !== undefined && state.note !== printed.note);

  const draw = ({ force = false, final = false } = {}) => {
    if (finished) return;
    const at = now();
    if (inPlace) {
      // Each order may redraw, but not more than ten times a second: a terminal is slow to write to as well.
      if (!force && at - lastDrawnAt < 100) return;
      const line = formatProgress({ ...current(), done: final });
      const width = (stream.columns ?? 0) > 1 ? (stream.columns as number) - 1 : Infinity;
      stream.write(`${clearLine}${line.length > width ? line.slice(0, width) : line}${final ? '\n' : ''}`);
    } else {
      if (!force && (at - lastDrawnAt < everyMs || !changed())) return;
      stream.write(`${formatProgress({ ...current(), done: final })}\n`);
      printed = { counts: counts(), ...(state.note === undefined ? {} : { note: state.note }) };
    }
    lastDrawnAt = at;
  };

  const clock = timer ? setInterval(() => draw({ force: inPlace }), everyMs) : undefined;
  // The line must never keep a finished command alive.
  clock?.unref();
  if (inPlace) draw({ force: true });

  return {
    placed: (count = 1) => {
      firstPlacedAt ??= now();
      state.placed += count;
      draw();
    },
    settled: (count = 1) => {
      firstPlacedAt ??= now();
      state.settled += count;
      draw();
    },
    note: (text) => {
      if (text) state.note = text;
      else delete state.note;
      draw({ force: inPlace });
    },
    done: () => {
      if (finished) return;
      if (clock) clearInterval(clock);
      delete state.note;
      draw({ force: true, final: true });
      finished = true;
    },
  };
};
