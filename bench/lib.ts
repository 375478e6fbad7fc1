import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { eventSchemas } from '../composition/schemas.js';

/** A process's CPU time so far (user and system, all its threads) in ms, from /proc: Linux only, else undefined. */
const procCpuMs = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis start at field 3; utime and stime are fields 14 and 15, in clock
    // ticks of USER_HZ, 100 a second on Linux.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
};

/** What a {@link cpuMeter} measured, in ms: see its `stop`. */
export type CpuUsed = {
  selfMs: number;
  otherMs: number | undefined;
  machineMs: number | undefined;
  wallMs: number;
  /** The HTTP clients' process (httpClients.ts), where a bench runs one: load, not the backend's work. */
  clientsMs?: number | undefined;
};

/** The difference of two readings, when both could be read. */
const between = (before: number | undefined, after: number | undefined) =>
  before === undefined || after === undefined ? undefined : after - before;

/** The whole machine's busy CPU time so far (every core, every process), in ms, from /proc/stat: Linux only. */
const machineBusyMs = (): number | undefined => {
  try {
    const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
    // user nice system idle iowait irq softirq steal …, in USER_HZ ticks: busy is all but idle and iowait.
    const ticks = (cpu ?? '').split(/\s+/).slice(1, 9).map(Number);
    const busy = ticks.reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
    return Number.isFinite(busy) ? busy * 10 : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Starts counting the CPU time this process and another one (DynamoDB Local's JVM) spend from now: what the work
 * costs on this machine, whichever process does it. `stop` answers both, in ms (`other` undefined off Linux), the
 * whole machine's (`machineMs`: whatever else ran meanwhile shows as the difference) and the wall time.
 */
export const cpuMeter = (otherPid: number, clientsPid?: number) => {
  const self = process.cpuUsage();
  const other = procCpuMs(otherPid);
  const clients = clientsPid === undefined ? undefined : procCpuMs(clientsPid);
  const machine = machineBusyMs();
  const started = performance.now();
  return {
    stop: (): CpuUsed => {
      const used = process.cpuUsage(self);
      return {
        selfMs: (used.user + used.system) / 1000,
        otherMs: between(other, procCpuMs(otherPid)),
        machineMs: between(machine, machineBusyMs()),
        wallMs: performance.now() - started,
        ...(clientsPid === undefined ? {} : { clientsMs: between(clients, procCpuMs(clientsPid)) }),
      };
    },
  };
};

/**
 * How many cores were busy meanwhile: with this process and DynamoDB Local's, and on the whole machine. A figure
 * below the cores with both processes busy means they waited (on each other, or on a timer), not that the cores ran
 * out; the machine's above theirs is other work sharing the cores (a figure taken then is not this stack's alone).
 */
export const coresBusy = ({ selfMs, otherMs, machineMs, wallMs, clientsMs }: CpuUsed): string => {
  const of = (ms: number) => (ms / wallMs).toFixed(2);
  const ours = selfMs + (otherMs ?? 0) + (clientsMs ?? 0);
  const machine =
    machineMs === undefined ? '' : `, the machine ${of(machineMs)} (others ${of(Math.max(0, machineMs - ours))})`;
  const clients = clientsMs === undefined ? '' : ` + the HTTP clients ${of(clientsMs)}`;
  return `cores busy: this process ${of(selfMs)} + DynamoDB Local ${otherMs === undefined ? '?' : of(otherMs)}${clients}${machine}, of ${availableParallelism()}`;
};

/**
 * `6.20 ms here + 4.10 ms DynamoDB Local = 10.30 ms an order`, and the most a second this machine's cores could do at
 * that cost, were all of them busy with nothing else: the ceiling a throughput figure meets.
 */
export const cpuPerUnit = (
  { selfMs, otherMs, clientsMs }: Pick<CpuUsed, 'selfMs' | 'otherMs' | 'clientsMs'>,
  units: number,
  unit: string,
) => {
  const here = selfMs / units;
  if (otherMs === undefined) return `${here.toFixed(2)} ms here ${unit} (DynamoDB Local's CPU time is not readable)`;
  const there = otherMs / units;
  const cores = availableParallelism();
  // The clients share the cores: the ceiling counts them, the backend's cost does not.
  const load = (clientsMs ?? 0) / units;
  const clients = clientsMs === undefined ? '' : `, and ${load.toFixed(2)} ms in the HTTP clients' process`;
  return (
    `${here.toFixed(2)} ms here + ${there.toFixed(2)} ms DynamoDB Local = ${(here + there).toFixed(2)} ms ${unit}` +
    `${clients}: at most ${Math.round((cores * 1000) / (here + there + load)).toLocaleString('en-US')}/s on ${cores} cores`
  );
};
/** Median and 99th percentile of a sample, in the sample's unit. */
export const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { n: sorted.length, median: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
};

/** Times `fn` `runs` times after `warmup` untimed runs; answers milliseconds per run. */
export const time = async (
  fn: (i: number) => Promise<unknown>,
  { runs, warmup = 20 }: { runs: number; warmup?: number },
) => {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return stats(samples);
};

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

/** Prints a benchmark's rows beside its baseline, with the ratio of medians. */
export const printTable = (
  title: string,
  rows: {
    name: string;
    median: number;
    p99: number;
    n: number;
    baseline?: boolean;
    unit?: 'ms' | 'raw';
    note?: string;
  }[],
) => {
  const baseline = rows.find((r) => r.baseline);
  console.log(`\n${title}`);
  console.log(
    `${'case'.padEnd(52)}${'n'.padStart(6)}${'median'.padStart(14)}${'p99'.padStart(14)}${'vs baseline'.padStart(14)}`,
  );
  for (const row of rows) {
    const format = row.unit === 'raw' ? (v: number) => v.toLocaleString('en', { maximumFractionDigits: 0 }) : ms;
    const ratio =
      baseline && !row.baseline ? `×${(row.median / baseline.median).toFixed(2)}` : row.baseline ? 'baseline' : '';
    console.log(
      `${(row.name + (row.note ? ` (${row.note})` : '')).padEnd(52)}${String(row.n).padStart(6)}${format(row.median).padStart(14)}${format(row.p99).padStart(14)}${ratio.padStart(14)}`,
    );
  }
};

/**
 * Times several cases in the same loop, in turn, so warm-up, garbage collection and the stand-in's own state weigh
 * on all of them alike; answers one result per case.
 */
export const timeInterleaved = async (
  cases: ((i: number) => Promise<unknown>)[],
  { runs, warmup = 20 }: { runs: number; warmup?: number },
) => {
  const samples = cases.map(() => [] as number[]);
  for (let i = -warmup; i < runs; i++) {
    for (const [index, fn] of cases.entries()) {
      const started = process.hrtime.bigint();
      await fn(i);
      if (i >= 0) samples[index]?.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  return samples.map(stats);
};

/** A numeric command-line value, checked: a number of at least `min`, and whole where `whole` says so. */
export const numberOption = (name: string, value: string, { min = 0, whole = false } = {}): number => {
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || (whole && !Number.isInteger(number))) {
    throw new Error(`--${name} takes ${whole ? 'a whole number' : 'a number'} of at least ${min}, not "${value}"`);
  }
  return number;
};

/** Runs `task(i)` for i in [0, count) from `clients` concurrent loops; answers each task's latency in ms. */
export const concurrently = async (count: number, clients: number, task: (i: number) => Promise<unknown>) => {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < count; i = next++) {
        const started = performance.now();
        await task(i);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
};

/**
 * An event item as the store writes it, envelope and all, for the raw-SDK baselines: so a baseline writes items of
 * the same size as the stack it is compared with.
 */
export const rawEventItem = (streamId: string, version: number, type: string, data: Record<string, unknown>) => ({
  streamId,
  version,
  eventId: randomUUID(),
  type,
  data,
  schemaVersion: eventSchemas.currentVersion(type),
  recordedAt: new Date().toISOString(),
  metadata: { correlationId: randomUUID(), causationId: randomUUID(), commandId: randomUUID(), actor: 'bench' },
});
