import { afterEach, describe, expect, it, vi } from 'vitest';
import { doorbell, idlePoller, idleWait } from '../../../local/doorbell.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Whether `promise` has settled by now (after the microtasks queued so far). */
const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void promise.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
};

describe('local doorbell', () => {
  it('lets a waiting poller sleep its whole wait when nobody rings', async () => {
    vi.useFakeTimers();
    const bell = doorbell();
    const wait = bell.wait(1000, bell.rung());
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(wait)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(wait)).toBe(true);
  });

  it('wakes every waiting poller at once when it rings', async () => {
    vi.useFakeTimers();
    const bell = doorbell();
    const waits = [bell.wait(1000, bell.rung()), bell.wait(500, bell.rung())];
    bell.ring();
    expect(await Promise.all(waits.map(settled))).toEqual([true, true]);
    // No timer is left behind by a wait the bell cut short.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not let a poller sleep through a ring that came while it polled', async () => {
    vi.useFakeTimers();
    const bell = doorbell();
    const seen = bell.rung(); // taken before the poll
    bell.ring(); // work arrived while the poll was in flight
    expect(await settled(bell.wait(1000, seen))).toBe(true);
    // Once seen, it waits again.
    expect(await settled(bell.wait(1000, bell.rung()))).toBe(false);
  });

  it('backs off from the poll interval, doubling, up to the idle ceiling', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((empty) => idleWait(empty, 50, 1000))).toEqual([
      50, 100, 200, 400, 800, 1000, 1000,
    ]);
    expect(idleWait(10_000, 50, 1000)).toBe(1000);
  });

  it('lets a poll loop rest ever longer while its polls find nothing, and closely again once one finds work or the bell rings', async () => {
    vi.useFakeTimers();
    const bell = doorbell();
    const poller = idlePoller(bell, 50, 1000);
    /** How long one empty poll's rest lasts, to the millisecond. */
    const restAfterEmptyPoll = async () => {
      poller.polling();
      poller.polled(false);
      const rest = poller.rest();
      for (let ms = 1; ; ms++) {
        await vi.advanceTimersByTimeAsync(1);
        if (await settled(rest)) return ms;
      }
    };
    expect([await restAfterEmptyPoll(), await restAfterEmptyPoll(), await restAfterEmptyPoll()]).toEqual([
      50, 100, 200,
    ]);
    // A poll that found records ends the run.
    poller.polling();
    poller.polled(true);
    expect(await restAfterEmptyPoll()).toBe(50);
    expect(await restAfterEmptyPoll()).toBe(100);
    // A ring between polls: the next poll watches closely again.
    bell.ring();
    expect(await restAfterEmptyPoll()).toBe(50);
    // A rest of a given length, as a batching window's.
    poller.polling();
    poller.polled(false);
    const windowRest = poller.rest(20);
    await vi.advanceTimersByTimeAsync(20);
    expect(await settled(windowRest)).toBe(true);
    // A ring during the poll: the rest after it does not wait at all.
    poller.polling();
    bell.ring();
    poller.polled(false);
    expect(await settled(poller.rest())).toBe(true);
  });
});
