import { afterEach, describe, expect, it } from 'vitest';
import { addInvocationHook, invoke, invokeOneAtATime, type LambdaHandler } from '../../../local/lambda.js';
import type { ServerlessConfig } from '../../../local/serverlessConfig.js';

const config: ServerlessConfig = {
  service: 'orderflow',
  provider: { stage: 'unit', region: 'eu-west-1' },
  functions: { step: { handler: 'functions/step.handler', timeout: 5 } },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A handler that waits `ms`, writing down when it begins and ends. */
const recording = (seen: string[], ms: number): LambdaHandler => {
  return async (event: { id: string }) => {
    seen.push(`${event.id} begins`);
    await sleep(ms);
    seen.push(`${event.id} ends`);
    return event.id;
  };
};

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

describe('local invocations', () => {
  it('overlap, as Lambda runs them, unless asked to take turns', async () => {
    const seen: string[] = [];
    await Promise.all(['a', 'b'].map((id) => invoke(config, 'step', recording(seen, 20), { id })));
    expect(seen).toEqual(['a begins', 'b begins', 'a ends', 'b ends']);
  });

  it('run one at a time while invokeOneAtATime is on, a failure included, and overlap again once it is off', async () => {
    const seen: string[] = [];
    const off = invokeOneAtATime();
    cleanups.push(off);
    const failing: LambdaHandler = async () => {
      seen.push('x begins');
      await sleep(5);
      seen.push('x fails');
      throw new Error('x failed');
    };
    const results = await Promise.allSettled([
      invoke(config, 'step', recording(seen, 20), { id: 'a' }),
      invoke(config, 'step', failing, {}),
      invoke(config, 'step', recording(seen, 5), { id: 'b' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(seen).toEqual(['a begins', 'a ends', 'x begins', 'x fails', 'b begins', 'b ends']);

    off();
    seen.length = 0;
    await Promise.all(['c', 'd'].map((id) => invoke(config, 'step', recording(seen, 20), { id })));
    expect(seen).toEqual(['c begins', 'd begins', 'c ends', 'd ends']);
  });

  it('tell their hooks the duration and, when a hook asks, the CPU time the process spent meanwhile', async () => {
    const measured: { durationMs: number; cpuMs: number }[] = [];
    const unmeasured: number[] = [];
    const listen = (measuresCpu: boolean) =>
      cleanups.push(
        addInvocationHook({
          after: (_name, durationMs, _failed, _event, cpuMs) =>
            void (measuresCpu ? measured.push({ durationMs, cpuMs }) : unmeasured.push(cpuMs)),
          measuresCpu,
        }),
      );
    // Computes until the process has used 30 ms of CPU (on a loaded machine that takes longer than 30 ms), then sleeps.
    // The CPU counted is the whole process's (GC, the JIT, other workers' threads), so 30 ms of it can pass in less
    // than 30 ms of wall time: the handler times itself, and the invocation's duration must cover that.
    let handlerMs = 0;
    const busy: LambdaHandler = async () => {
      const began = performance.now();
      const start = process.cpuUsage();
      for (let used = process.cpuUsage(start); used.user + used.system < 30_000; used = process.cpuUsage(start));
      await sleep(150);
      handlerMs = performance.now() - began;
    };
    // No hook asks: the CPU time is not read.
    listen(false);
    await invoke(config, 'step', busy, {});
    expect(unmeasured).toEqual([0]);

    listen(true);
    await invoke(config, 'step', busy, {});
    const [only] = measured;
    expect(handlerMs).toBeGreaterThanOrEqual(150);
    expect(only?.durationMs).toBeGreaterThanOrEqual(handlerMs);
    // The CPU time counts the computing and not the sleep: the process's other threads (GC, I/O) may add some, but
    // nothing near the 150 ms of sleep.
    expect(only?.cpuMs).toBeGreaterThanOrEqual(30);
    expect(only?.cpuMs).toBeLessThan((only?.durationMs ?? 0) - 100);
  });
});
