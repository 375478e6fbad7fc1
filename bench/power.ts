import { prices } from './prices.js';

/*
 * Memory by measurement, in the spirit of AWS Lambda Power Tuning, from timings taken on the local stack instead of
 * invocations on AWS. Lambda allocates CPU in proportion to memory: at 1,769 MB a function has the equivalent of one
 * vCPU (AWS Lambda developer guide, "Configure Lambda function memory"). A function's invocation measured here, with a
 * whole core, splits into the CPU time it used and the time it waited (on DynamoDB, Step Functions); at a smaller
 * memory the waiting stays and the CPU work stretches by the share of a vCPU that memory buys.
 */

/** The memory at which a Lambda function has the equivalent of one vCPU. */
export const oneVcpuMb = 1769;

/** The sizes weighed for each function: 128 MB leaves a Node runtime with our bundles too little headroom to try. */
export const memorySizes = [256, 512, 1024, oneVcpuMb] as const;

/** One invocation as measured here, with a whole core: its duration and the CPU time it used. */
export type Timing = { wallMs: number; cpuMs: number };

/** Its duration at `memoryMb`: the waiting as measured, the CPU work at the share of a vCPU that memory buys. */
export const durationAt = ({ wallMs, cpuMs }: Timing, memoryMb: number): number => {
  const cpu = Math.min(Math.max(cpuMs, 0), wallMs);
  return wallMs - cpu + cpu * Math.max(1, oneVcpuMb / memoryMb);
};

/** The GB-seconds Lambda bills for one invocation at `memoryMb`: its duration rounded up to the millisecond. */
export const billedGbSeconds = (timing: Timing, memoryMb: number): number =>
  (Math.ceil(durationAt(timing, memoryMb)) / 1000) * (memoryMb / 1024);

/** USD for one invocation at `memoryMb`: the request, and its billed GB-seconds (arm64). */
export const invocationCost = (timing: Timing, memoryMb: number): number =>
  prices.lambda.request + billedGbSeconds(timing, memoryMb) * prices.lambda.gbSecond;

/** How much more than the cheapest size a function may cost per invocation to run faster. */
export const costTolerance = 0.1;

/**
 * The size a function gets: the fastest of those within `costTolerance` of the cheapest. A function that mostly waits
 * gets a small size, since more memory would cost more and save little; one whose cost barely moves with memory (its
 * GB-seconds stay the same as its CPU work speeds up) gets the fastest. On a tie, the smaller size.
 */
export const chooseMemory = (timing: Timing, sizes: readonly number[] = memorySizes): number => {
  const options = sizes.map((memoryMb) => ({
    memoryMb,
    cost: invocationCost(timing, memoryMb),
    duration: durationAt(timing, memoryMb),
  }));
  const cheapest = Math.min(...options.map((o) => o.cost));
  const [best] = options
    .filter((o) => o.cost <= cheapest * (1 + costTolerance))
    .sort((a, b) => a.duration - b.duration || a.memoryMb - b.memoryMb);
  if (!best) throw new Error('no memory size to weigh');
  return best.memoryMb;
};

/**
 * X-Ray traces recorded per order at a steady `ordersPerSecond`: each entry point that starts a trace (a function
 * invoked by the API, a stream or a schedule; a state machine's execution, whose Lambda tasks join its trace) records
 * the first request of each second and `fixedRate` of the rest, so the share traced falls as the rate grows.
 */
export const tracesPerOrder = (
  entries: { perOrder: number }[],
  ordersPerSecond: number,
  { reservoirPerSecond, fixedRate }: { reservoirPerSecond: number; fixedRate: number },
): number =>
  entries.reduce((sum, { perOrder }) => {
    const perSecond = perOrder * ordersPerSecond;
    const kept = Math.min(reservoirPerSecond, perSecond) + fixedRate * Math.max(0, perSecond - reservoirPerSecond);
    return sum + kept / ordersPerSecond;
  }, 0);
