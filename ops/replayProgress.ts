import { eventsPerSecond, type ReplayProgress } from '../projections/replay/replayJob.js';

type Progress = ReplayProgress & { phase?: string };

export const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** `16,467 (310 events/s)`, or for a resumed run `16,467, 2,100 of them by this run (310 events/s)`. */
export const eventsRead = (summary: ReplayProgress & { eventsPerSecond: number }): string =>
  `${summary.events.toLocaleString('en')}${
    summary.eventsBefore > 0
      ? `, ${(summary.events - summary.eventsBefore).toLocaleString('en')} of them by this run`
      : ''
  } (${summary.eventsPerSecond.toLocaleString('en')} events/s)`;

/** One line of progress: phase, bar, events against the estimate, streams, rate, ETA and segments. */
export const progressBar = (progress: Progress): string => {
  // The estimate counts items, and an item may hold several events: past it, the total is not known until the end.
  const done = progress.segmentsDone === progress.segments;
  const past = progress.events >= progress.estimatedTotal;
  const total = done || !past ? Math.max(progress.estimatedTotal, progress.events) : undefined;
  const share = total === undefined ? 0.99 : total === 0 ? 1 : progress.events / total;
  const rate = eventsPerSecond(progress);
  const eta = rate > 0 && total !== undefined && share < 1 ? seconds(((total - progress.events) / rate) * 1000) : '–';
  const width = 30;
  const filled = Math.round(share * width);
  return `${progress.phase ? `${progress.phase.padEnd(8)} ` : ''}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(share * 100)}% ${progress.events.toLocaleString('en')}${total === undefined ? ` events (past the estimate of ${progress.estimatedTotal.toLocaleString('en')})` : `/${total.toLocaleString('en')} events`} · ${progress.streams.toLocaleString('en')} streams · ${rate.toLocaleString('en')} events/s · ETA ${eta} · segments ${progress.segmentsDone}/${progress.segments}`;
};

/**
 * Prints progress: at most one line each 200 ms on a terminal (redrawn in place), each 2 s in a log. A new phase
 * always gets its line, and so does the `final` one, the summary's; a line the same as the last is not repeated.
 */
export const progressPrinter = ({
  isTTY,
  write,
  now = Date.now,
}: {
  isTTY: boolean;
  write: (text: string) => void;
  now?: () => number;
}) => {
  let lastPrint = Number.NEGATIVE_INFINITY;
  let lastPhase: string | undefined;
  let lastLine = '';
  return (progress: Progress, { final = false } = {}): void => {
    const at = now();
    const newPhase = progress.phase !== lastPhase;
    if (!final && !newPhase && at - lastPrint < (isTTY ? 200 : 2000)) return;
    lastPrint = at;
    lastPhase = progress.phase;
    const line = progressBar(progress);
    if (line === lastLine) return;
    lastLine = line;
    // `\x1b[K` clears what a longer line before this one left on the terminal's line.
    write(isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  };
};
