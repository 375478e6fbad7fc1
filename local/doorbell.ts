/**
 * Local only: a push in front of a poll. The change relay and the stream consumers poll (DynamoDB Local's stream,
 * kinesalite) as Lambda's pollers do; polling an idle stream every 50 ms cost the stack about a sixth of a core for
 * nothing. So a poller that finds nothing waits longer each time, up to `maxIdleMs`, and whoever in this process
 * may just have given it work (an invocation that wrote, the relay that put records) rings, and it polls at once.
 * Work that comes from another process is found by the poll, within `maxIdleMs`.
 */
export type Doorbell = {
  /** Wakes every poller waiting on the bell, and makes the next wait of any poller that has not seen it return at once. */
  ring(): void;
  /** How many times the bell has rung: a poller takes it before it polls, and hands it to {@link Doorbell.wait}. */
  rung(): number;
  /** Waits `ms`, or less if the bell rings, or not at all if it rang since `seen` (while the poller was polling). */
  wait(ms: number, seen: number): Promise<void>;
};

export const doorbell = (): Doorbell => {
  let rings = 0;
  const waiting = new Set<() => void>();
  return {
    ring() {
      rings += 1;
      for (const wake of [...waiting]) wake();
    },
    rung: () => rings,
    wait: (ms, seen) =>
      rings !== seen
        ? Promise.resolve()
        : new Promise((resolve) => {
            const wake = () => {
              clearTimeout(timer);
              waiting.delete(wake);
              resolve();
            };
            const timer = setTimeout(wake, ms);
            waiting.add(wake);
          }),
  };
};

/** How long a poller waits after `emptyPolls` polls in a row found nothing: from `pollMs`, doubling, up to `maxIdleMs`. */
export const idleWait = (emptyPolls: number, pollMs: number, maxIdleMs: number): number =>
  Math.min(maxIdleMs, pollMs * 2 ** Math.min(emptyPolls, 16));

/** One poll loop's use of a bell: the relay's over its shards, and each event source mapping's over its shard. */
export type IdlePoller = {
  /** Before each poll: takes the bell's count, and after a ring watches closely again (work is on its way). */
  polling(): void;
  /** After each poll: whether it found anything, which ends or lengthens the run of empty polls. */
  polled(found: boolean): void;
  /** Waits after the run of empty polls so far ({@link idleWait}), or `ms` if given, cut short by a ring. */
  rest(ms?: number): Promise<void>;
};

export const idlePoller = (bell: Doorbell, pollMs: number, maxIdleMs: number): IdlePoller => {
  let emptyPolls = 0;
  let rungBefore = bell.rung();
  let seen = rungBefore;
  return {
    polling() {
      seen = bell.rung();
      if (seen !== rungBefore) [emptyPolls, rungBefore] = [0, seen];
    },
    polled(found) {
      emptyPolls = found ? 0 : emptyPolls + 1;
    },
    rest: (ms) => bell.wait(ms ?? idleWait(Math.max(0, emptyPolls - 1), pollMs, maxIdleMs), seen),
  };
};
