import { addInvocationHook } from './lambda.js';
import type { ServerlessConfig } from './serverlessConfig.js';

/** What `npm run chaos` (and its short version in `npm test`) does to the local stack. Shares are 0 to 1. */
export type FaultPlan = {
  /** Invocations that fail before the handler runs, as when Lambda cannot invoke (`Lambda.ServiceException`). */
  failBefore: number;
  /**
   * Invocations whose handler runs to the end but whose result is lost, as when a function times out after its
   * writes (`Lambda.Unknown`, what Step Functions reports for a timeout): the caller must retry work that was done.
   */
  loseResult: number;
  /** Each delivery to a Kinesis consumer waits a random time up to this, so the streams fall behind and catch up. */
  kinesisDelayMs: number;
  /** Change records the relay puts on the stream a second time, up to `kinesisDelayMs` later: duplicated and reordered. */
  redeliver: number;
  /** Seeds the choices, so a run can be repeated (as far as timing lets it). */
  seed: number;
};

/** What was injected, per function. */
export type FaultReport = {
  invocations: Record<string, number>;
  failedBefore: Record<string, number>;
  lostResults: Record<string, number>;
  delayedDeliveries: number;
  redelivered: number;
};

/** The error an injected fault raises: named as AWS names it, so Retry rules and clients see what they would see. */
export class InjectedFaultError extends Error {
  constructor(name: 'Lambda.ServiceException' | 'Lambda.Unknown', functionName: string) {
    super(
      name === 'Lambda.Unknown'
        ? `${functionName}: Task timed out (injected; its work was done, its result is lost)`
        : `${functionName}: the service could not invoke the function (injected)`,
    );
    this.name = name;
  }
}

/** mulberry32: a small seeded generator; Math.random cannot be seeded. */
const seeded = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

export type Faults = {
  report(): FaultReport;
  /** For the change relay: the delay before a second copy of a record, or undefined for none. */
  redeliverAfter(): number | undefined;
  /** Stops injecting (the stack keeps running). */
  remove(): void;
};

/** Starts breaking every local Lambda invocation (API, saga Tasks and Kinesis consumers alike) as `plan` says. */
export const injectFaults = (config: ServerlessConfig, plan: FaultPlan): Faults => {
  const random = seeded(plan.seed);
  const consumers = new Set(
    Object.entries(config.functions ?? {})
      .filter(([, fn]) => (fn.events ?? []).some((event) => 'stream' in event))
      .map(([name]) => name),
  );
  const report: FaultReport = {
    invocations: {},
    failedBefore: {},
    lostResults: {},
    delayedDeliveries: 0,
    redelivered: 0,
  };
  // Decided before the handler runs, applied after it: one draw per invocation for each kind of fault.
  const losing = new WeakSet<object>();
  const remove = addInvocationHook({
    async before(functionName, event) {
      bump(report.invocations, functionName);
      if (consumers.has(functionName) && plan.kinesisDelayMs > 0) {
        report.delayedDeliveries += 1;
        await sleep(random() * plan.kinesisDelayMs);
      }
      if (random() < plan.failBefore) {
        bump(report.failedBefore, functionName);
        throw new InjectedFaultError('Lambda.ServiceException', functionName);
      }
      if (random() < plan.loseResult && typeof event === 'object' && event !== null) losing.add(event);
    },
    after(functionName, _durationMs, failed, event) {
      if (failed || typeof event !== 'object' || event === null || !losing.has(event)) return;
      losing.delete(event);
      bump(report.lostResults, functionName);
      throw new InjectedFaultError('Lambda.Unknown', functionName);
    },
  });
  return {
    report: () => structuredClone(report),
    redeliverAfter: () => {
      if (random() >= plan.redeliver) return undefined;
      report.redelivered += 1;
      return random() * plan.kinesisDelayMs;
    },
    remove,
  };
};

/**
 * Fails one function for good for some orders: every invocation of `functionName` whose event names one of
 * `orderIds` (a saga Task's input) fails, until removed. `after` (the default) lets the handler run to the end and
 * loses its result, as a function that times out after its writes every time (`Lambda.Unknown`): the step committed,
 * and its Retry and then its Catch must cope with that. `before` fails it before the handler runs
 * (`Lambda.ServiceException`): nothing committed. Answers the function that removes it.
 *
 * @example
 * const heal = failPermanently('confirmOrder', [orderId]); // the saga's catch-all must settle the order
 */
export const failPermanently = (
  functionName: string,
  orderIds: Iterable<string>,
  when: 'before' | 'after' = 'after',
): (() => void) => {
  const doomed = new Set(orderIds);
  const hit = (name: string, event: unknown) =>
    name === functionName && doomed.has(String((event as { orderId?: unknown } | null)?.orderId));
  return addInvocationHook({
    before(name, event) {
      if (when === 'before' && hit(name, event)) throw new InjectedFaultError('Lambda.ServiceException', name);
    },
    after(name, _durationMs, failed, event) {
      if (when === 'after' && !failed && hit(name, event)) throw new InjectedFaultError('Lambda.Unknown', name);
    },
  });
};

/**
 * Loses the first result of each keyed request to these HTTP functions (by its `Idempotency-Key`), as when the
 * function commits and then times out: the client sees a `5xx` and sends it again under the same key, which must
 * change nothing more. Answers the function that removes it.
 */
export const loseFirstKeyedAnswers = (functionNames: Iterable<string>): (() => void) => {
  const names = new Set(functionNames);
  const lost = new Set<string>();
  const keyOf = (name: string, event: unknown) => {
    const key = (event as { headers?: Record<string, string | undefined> } | null)?.headers?.['idempotency-key'];
    return names.has(name) && key ? `${name} ${key}` : undefined;
  };
  return addInvocationHook({
    after(name, _durationMs, failed, event) {
      const key = keyOf(name, event);
      if (failed || key === undefined || lost.has(key)) return;
      lost.add(key);
      throw new InjectedFaultError('Lambda.Unknown', name);
    },
  });
};
