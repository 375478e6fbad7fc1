import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { coresBusy, cpuMeter, cpuPerUnit } from '../../../bench/lib.js';

describe('the CPU a benchmark measures per unit', () => {
  it.runIf(process.platform === 'linux')('counts CPU time spent here, and in the other process from /proc', () => {
    // The other process is this one: both counts see the same work, /proc's in ticks of 10 ms.
    const meter = cpuMeter(process.pid);
    // Spins until this process has used 80 ms of CPU, however long that takes on a busy machine.
    const start = process.cpuUsage();
    let spin = 0;
    while (process.cpuUsage(start).user < 80_000) spin += 1;
    const { selfMs, otherMs, machineMs, wallMs } = meter.stop();

    expect(spin).toBeGreaterThan(0);
    // The machine was busy at least while this process was (within two ticks), for no longer than the wall time
    // on every core.
    expect(machineMs).toBeGreaterThanOrEqual(selfMs - 20);
    expect(machineMs).toBeLessThanOrEqual(wallMs * availableParallelism() + 20);
    expect(selfMs).toBeGreaterThanOrEqual(80);
    // Both count every thread of this process, /proc in ticks of 10 ms: the same figure within two ticks.
    expect(otherMs).toBeGreaterThanOrEqual(selfMs - 20);
    expect(otherMs).toBeLessThanOrEqual(selfMs + 20);
  });

  it('answers nothing for a process it cannot read', () => {
    expect(cpuMeter(2 ** 22 + 7).stop().otherMs).toBeUndefined();
  });

  it('says the cost of a unit in each process, and the most a second the cores could do at that cost', () => {
    const cores = availableParallelism();
    expect(cpuPerUnit({ selfMs: 12_400, otherMs: 8_200 }, 2000, 'an order')).toBe(
      `6.20 ms here + 4.10 ms DynamoDB Local = 10.30 ms an order: at most ${Math.round((cores * 1000) / 10.3)}/s on ${cores} cores`,
    );
    // The HTTP clients' process is load: said apart, and counted in the ceiling, since it shares the cores.
    expect(cpuPerUnit({ selfMs: 12_400, otherMs: 8_200, clientsMs: 4_000 }, 2000, 'an order')).toBe(
      "6.20 ms here + 4.10 ms DynamoDB Local = 10.30 ms an order, and 2.00 ms in the HTTP clients' process: " +
        `at most ${Math.round((cores * 1000) / 12.3)}/s on ${cores} cores`,
    );
    expect(cpuPerUnit({ selfMs: 800, otherMs: undefined }, 2000, 'a write')).toBe(
      "0.40 ms here a write (DynamoDB Local's CPU time is not readable)",
    );
  });

  it('says how many cores each process kept busy, and the machine with whatever else ran', () => {
    const cores = availableParallelism();
    expect(coresBusy({ selfMs: 30_000, otherMs: 20_000, machineMs: 70_000, wallMs: 40_000 })).toBe(
      `cores busy: this process 0.75 + DynamoDB Local 0.50, the machine 1.75 (others 0.50), of ${cores}`,
    );
    expect(coresBusy({ selfMs: 30_000, otherMs: 20_000, clientsMs: 10_000, machineMs: 70_000, wallMs: 40_000 })).toBe(
      `cores busy: this process 0.75 + DynamoDB Local 0.50 + the HTTP clients 0.25, the machine 1.75 (others 0.25), of ${cores}`,
    );
    expect(coresBusy({ selfMs: 4_000, otherMs: undefined, machineMs: undefined, wallMs: 8_000 })).toBe(
      `cores busy: this process 0.50 + DynamoDB Local ?, of ${cores}`,
    );
  });
});
