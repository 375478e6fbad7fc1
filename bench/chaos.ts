import { simulatorOutage } from '../adapters/simulatedPaymentGateway.js';
import { failPermanently, type FaultPlan, type FaultReport, loseFirstKeyedAnswers } from '../local/faults.js';
import { composeStage } from '../composition/root.js';
import { StageEnvironment } from '../composition/settings.js';
import { productStreamId } from '../domain/inventory/index.js';
import type { EventStore } from '../eventstore/types.js';
import { checkInvariants, describeInvariants, type InvariantResult, invariantTables } from '../ops/invariants.js';
import type { Progress } from './progress.js';
import {
  faultsThatHit,
  type Mix,
  type OrderKind,
  type ScenarioResult,
  type BackOfficeSent,
  startDrivenStack,
  type StepFault,
} from './scenario.js';

/** Every kind of order, cancellations racing their saga included. */
export const chaosMix: Mix = {
  confirmed: 40,
  flaky: 10,
  declined: 15,
  outOfStock: 10,
  cancelled: 10,
  cancelledEarly: 15,
};

export type ChaosOptions = {
  orders: number;
  /** The share of Lambda invocations that fail: half before the handler runs, half losing the handler's result. */
  failure: number;
  /**
   * The share of orders (0 to 1, spread over the run and the kinds, from the first) for which one saga forward step fails every time:
   * each gets the next of the steps and moments that really fail its kind's saga, before the handler runs or after
   * it committed (local/faults.ts `failPermanently`). The saga's catch-all must settle them. 0 by default.
   */
  failSteps?: number;
  /**
   * A payment gateway outage in the middle of the run: the simulator refuses every call from `afterMs` after the first
   * order for `forMs`. Shorter than the stage's payment wait bound, so every order must still end as its kind says:
   * the breaker parks payments and they go through once the gateway is back, and a cancellation's refund or void that
   * meets it is parked in the compensation state machine until then.
   */
  outage?: { afterMs: number; forMs: number };
  concurrency: number;
  seed: number;
  /**
   * Restocks, write-offs and new prices beside the orders (`runScenario`'s `backOffice`), each keyed one losing its
   * first answer after it committed, as the products' keyed registrations then do too; none by default.
   */
  backOffice?: { everyOrders: number };
  /** serverless.yml's stage to run (its table names and log level). */
  stage?: string;
  /** How long the read models and compensations may take to converge once every saga has ended. */
  convergeWithinMs?: number;
  log?: (line: string) => void;
  /** Told as orders are placed and settle, and what the run waits for after: `npm run chaos`'s progress line. */
  progress?: Pick<Progress, 'placed' | 'settled' | 'note'>;
};

export type ChaosReport = {
  plan: FaultPlan;
  failSteps: number;
  /** The outage, if any, and how many gateway calls it refused: what got past the breaker while it lasted. */
  outage?: { afterMs: number; forMs: number; refusedCalls: number };
  injected: FaultReport;
  scenario: ScenarioResult;
  /** The order sagas' executions by status. */
  executions: Record<string, number>;
  /** The parked compensations' executions by status: one per cancellation that met the gateway unavailable, and one per give-up. */
  compensations: Record<string, number>;
  stateRetries: number;
  /** Batches a consumer of the change stream gave up on, by function: what reached the failure queue. */
  failureQueue: Record<string, number>;
  invariants: InvariantResult[];
  /** From the last saga's end until every invariant held (or the deadline). */
  convergedInMs: number;
  passed: boolean;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many restocks, write-offs and new prices the back office had answered `200`, over every product. */
const backOfficeTotals = (sent: Map<string, BackOfficeSent>) =>
  [...sent.values()].reduce(
    (totals, s) => ({
      restocks: totals.restocks + s.restockKeys.length,
      writeOffs: totals.writeOffs + s.writeOffKeys.length,
      prices: totals.prices + s.prices.length,
      names: totals.names + s.names.length,
    }),
    { restocks: 0, writeOffs: 0, prices: 0, names: 0 },
  );

/**
 * What the back office sent is what each product's stream records: every keyed restock, write-off, new price and new
 * name answered `200` once, however many times its answer was lost and it was sent again, and none that was not; and
 * the last price and name sent are the product's.
 */
export const checkBackOffice = async (
  store: Pick<EventStore, 'readStream'>,
  sent: Map<string, BackOfficeSent>,
  failures: string[],
): Promise<InvariantResult> => {
  const violations = [...failures.map((failure) => `never answered 200: ${failure}`)];
  for (const [sku, { restockKeys, writeOffKeys, repriceKeys, prices, renameKeys, names }] of sent) {
    const events = await store.readStream(productStreamId(sku), { consistent: true });
    const keysOf = (type: string, field: string) =>
      events.filter((e) => e.type === type).flatMap((e) => (typeof e.data[field] === 'string' ? [e.data[field]] : []));
    for (const [what, recorded, keys] of [
      ['restock', keysOf('ProductRestocked', 'restockId'), restockKeys],
      ['write-off', keysOf('StockWrittenOff', 'writeOffId'), writeOffKeys],
      ['new price', keysOf('ProductRepriced', 'repriceId'), repriceKeys],
      ['new name', keysOf('ProductRenamed', 'renameId'), renameKeys],
    ] as const) {
      for (const key of new Set([...recorded, ...keys])) {
        const times = recorded.filter((k) => k === key).length;
        if (times !== (keys.includes(key) ? 1 : 0)) {
          violations.push(
            `${sku}: the ${what} keyed ${key} was ${keys.includes(key) ? 'answered 200' : 'never answered 200'} and recorded ${times} times`,
          );
        }
      }
    }
    // The price it has: the latest given, or the registered one (an unkeyed new price equal to it records nothing).
    const priced = events.filter((e) => e.type === 'ProductRepriced' || e.type === 'ProductRegistered').at(-1);
    const price = (priced?.data.unitPrice as { amount: number } | undefined)?.amount;
    if (prices.length > 0 && price !== prices.at(-1)) {
      violations.push(`${sku}: the last price sent was ${prices.at(-1)}, the product's is ${price ?? 'unknown'}`);
    }
    const named = events.filter((e) => e.type === 'ProductRenamed' || e.type === 'ProductRegistered').at(-1);
    const name = typeof named?.data.name === 'string' ? named.data.name : undefined;
    if (names.length > 0 && name !== names.at(-1)) {
      violations.push(`${sku}: the last name sent was ${names.at(-1)}, the product's is ${name ?? 'unknown'}`);
    }
  }
  const totals = backOfficeTotals(sent);
  return {
    name: 'each restock, write-off, new price and new name sent is recorded once, and the last price and name sent are the product’s',
    checked: totals.restocks + totals.writeOffs + totals.prices + totals.names,
    violations,
  };
};

/**
 * Runs a mix of orders on a local stack that breaks a share of all Lambda invocations (API, saga Tasks and Kinesis
 * consumers), delays Kinesis deliveries and delivers change records twice, then checks the store's invariants.
 */
export const runChaos = async ({
  orders,
  failure,
  failSteps = 0,
  outage,
  backOffice,
  concurrency,
  seed,
  stage = 'bench',
  convergeWithinMs = 60_000,
  log = () => undefined,
  progress,
}: ChaosOptions): Promise<ChaosReport> => {
  const failBefore = failure / 2;
  const plan: FaultPlan = {
    failBefore,
    // Of the invocations that got past the first fault, the share that makes the total `failure`.
    loseResult: failure / 2 / (1 - failBefore),
    kinesisDelayMs: 250,
    redeliver: 0.1,
    seed,
  };
  const { stack, client, table, drive, stop } = await startDrivenStack({ stage, faults: plan, log });
  const heals: (() => void)[] = [];
  // The k-th order with a step failing for good is order k / failSteps, moved on by k modulo that stride, so that
  // across a run they meet every position of the mix's cycle, hence every kind, not the same kind each time.
  const stride = failSteps > 0 ? 1 / failSteps : Infinity;
  const doomedIndices = new Set<number>();
  for (let k = 0; Math.floor(k * stride) < orders; k++) {
    doomedIndices.add(Math.floor(k * stride) + (k % Math.floor(stride)));
  }
  let doomed = 0;
  const stepFault = ({ index, kind, orderId }: { index: number; kind: OrderKind; orderId: string }) => {
    if (!doomedIndices.has(index)) return undefined;
    // Each gets the next of the steps and moments that really fail its kind's saga; an order with no saga, none.
    const hits = faultsThatHit(kind);
    if (hits.length === 0) return undefined;
    const fault = hits[(seed + doomed++) % hits.length] as StepFault;
    heals.push(failPermanently(fault.step, [orderId], fault.when));
    return fault;
  };
  // Each keyed registration, restock, write-off and new price commits and loses its first answer, so its key is what
  // keeps the retry from taking effect again or being refused (the random faults alone reach only a few of them).
  if (backOffice) {
    heals.push(
      loseFirstKeyedAnswers(['registerProduct', 'restockProduct', 'writeOffStock', 'repriceProduct', 'renameProduct']),
    );
  }
  const gateway = simulatorOutage({ client, table: table('PAYMENT_SIMULATOR_TABLE') });
  let outagePhase: Promise<{ refusedCalls: number }> | undefined;
  // The outage counts from the first order accepted, not from the start: on a loaded machine the stack and the
  // catalogue can take seconds, and a short outage over before any payment was asked for would test nothing.
  let firstPlaced!: () => void;
  const placed = new Promise<void>((resolve) => {
    firstPlaced = resolve;
  });
  let finished = false;
  try {
    progress?.note();
    outagePhase = outage
      ? (async () => {
          await placed;
          if (finished) return { refusedCalls: 0 };
          await sleep(outage.afterMs);
          log(`payment gateway down for ${outage.forMs} ms`);
          await gateway.down();
          await sleep(outage.forMs);
          const { refusedCalls } = await gateway.up();
          log(`payment gateway up again: ${refusedCalls} calls refused`);
          return { refusedCalls };
        })()
      : undefined;
    const scenario = await drive({
      orders,
      mix: chaosMix,
      concurrency,
      // For the whole run, not per order: parked payments (an outage, or the breaker opened by flaky tokens) and
      // injected failures make a few hundred orders take longer than the default five minutes.
      settleWithinMs: 900_000,
      ...(failSteps > 0 ? { stepFault } : {}),
      ...(backOffice ? { backOffice } : {}),
      onProgress: (step: 'placed' | 'settled') => {
        if (step === 'placed') firstPlaced();
        progress?.[step]();
      },
    });
    const outageReport = outage && outagePhase ? { ...outage, ...(await outagePhase) } : undefined;
    log(`scenario done in ${(scenario.elapsedMs / 1000).toFixed(1)} s; waiting for sagas and read models`);
    progress?.note('waiting for the sagas');

    const running = () => [...stack.stepFunctions.executions.values()].filter((e) => e.status === 'RUNNING').length;
    const sagaDeadline = Date.now() + 300_000;
    while (running() > 0 && Date.now() < sagaDeadline) await sleep(200);
    const sagasEnded = performance.now();
    progress?.note('checking the invariants');
    const tables = invariantTables(client, table);
    const { store } = composeStage({ client, environment: StageEnvironment.parse(stack.environment) });
    const check = async () => [
      ...(await checkInvariants(tables)),
      ...(backOffice ? [await checkBackOffice(store, scenario.backOffice, scenario.backOfficeFailures)] : []),
    ];
    let invariants = await check();
    const convergeDeadline = Date.now() + convergeWithinMs;
    while (invariants.some((i) => i.violations.length > 0) && Date.now() < convergeDeadline) {
      await sleep(1000);
      invariants = await check();
    }
    const convergedInMs = performance.now() - sagasEnded;

    const executions: Record<string, number> = {};
    const compensations: Record<string, number> = {};
    let stateRetries = 0;
    for (const execution of stack.stepFunctions.executions.values()) {
      const byStatus = execution.stateMachineArn === stack.environment.COMPENSATION_ARN ? compensations : executions;
      byStatus[execution.status] = (byStatus[execution.status] ?? 0) + 1;
      stateRetries += execution.retries;
    }
    const failureQueue: Record<string, number> = {};
    for (const { functionName } of stack.consumers.failures) {
      failureQueue[functionName] = (failureQueue[functionName] ?? 0) + 1;
    }
    const injected = stack.faults?.report();
    if (!injected) throw new Error('the chaos stack injects faults');
    return {
      plan,
      failSteps,
      ...(outageReport ? { outage: outageReport } : {}),
      injected,
      scenario,
      executions,
      compensations,
      stateRetries,
      failureQueue,
      invariants,
      convergedInMs,
      passed:
        scenario.mismatches.length === 0 &&
        invariants.every((i) => i.violations.length === 0) &&
        running() === 0 &&
        !executions.FAILED &&
        Object.keys(compensations).every((status) => status === 'SUCCEEDED') &&
        stack.consumers.failures.length === 0,
    };
  } finally {
    for (const heal of heals) heal();
    // A run that failed before its first order never starts the outage.
    finished = true;
    firstPlaced();
    // Never leave the stage's gateway down: wait out a phase cut short, then bring it up.
    await outagePhase?.catch(() => undefined);
    await gateway.up().catch(() => undefined);
    await stop();
  }
};

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const top = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');

/** The orders that had a saga step fail for good, by step and moment, and how they ended. */
const failedForGood = ({ failSteps, scenario }: ChaosReport): string[] => {
  const doomed = scenario.orders.filter((o) => o.fault);
  const byFault = new Map<string, { kinds: string[]; endings: string[] }>();
  for (const { fault, kind, ended } of doomed) {
    const key = `${fault?.step} failing ${fault?.when}`;
    const seen = byFault.get(key) ?? { kinds: [], endings: [] };
    seen.kinds.push(kind);
    seen.endings.push(ended);
    byFault.set(key, seen);
  }
  if (doomed.length === 0) return [`  a saga step failing for good: no order (share ${failSteps})`];
  return [
    `  a saga step failing for good (share ${failSteps}): ${doomed.length} orders, ended ${top(count(doomed.map((o) => o.ended)))}`,
    ...[...byFault.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([fault, { kinds, endings }]) =>
          `    ${fault}: ${kinds.length} (${top(count(kinds))}), ended ${top(count(endings))}`,
      ),
  ];
};

const count = (values: string[]) =>
  values.reduce<Record<string, number>>((acc, value) => {
    acc[value] = (acc[value] ?? 0) + 1;
    return acc;
  }, {});

/** The report as `npm run chaos` prints it. */
export const formatChaosReport = (report: ChaosReport): string => {
  const { plan, injected, scenario } = report;
  const invocations = sum(injected.invocations);
  const failed = sum(injected.failedBefore) + sum(injected.lostResults);
  const office = backOfficeTotals(scenario.backOffice);
  const kinds = scenario.orders.reduce<Record<string, number>>((acc, { kind }) => {
    acc[kind] = (acc[kind] ?? 0) + 1;
    return acc;
  }, {});
  return [
    `\nInjected (seed ${plan.seed})`,
    `  Lambda invocations   ${invocations}, of which ${failed} failed (${((failed / Math.max(1, invocations)) * 100).toFixed(1)}%)`,
    `    before the handler (Lambda.ServiceException): ${sum(injected.failedBefore)}: ${top(injected.failedBefore)}`,
    `    result lost after the handler ran (Lambda.Unknown, a timeout): ${sum(injected.lostResults)}: ${top(injected.lostResults)}`,
    `  Kinesis deliveries delayed up to ${plan.kinesisDelayMs} ms: ${injected.delayedDeliveries}`,
    `  change records delivered twice, the copy late: ${injected.redelivered}`,
    ...failedForGood(report),
    ...(report.outage
      ? [
          `  payment gateway down for ${(report.outage.forMs / 1000).toFixed(1)} s, ${(report.outage.afterMs / 1000).toFixed(1)} s after the first order: ${report.outage.refusedCalls} calls reached it and were refused (the breaker held back the rest)`,
        ]
      : []),
    `\nDriven`,
    `  ${scenario.orders.length} orders (${top(kinds)}) in ${(scenario.elapsedMs / 1000).toFixed(1)} s`,
    `  answers to the clients: ${top(scenario.answers)}; ${scenario.retries} requests sent again after a 5xx or conflict`,
    `  saga executions: ${top(report.executions)}; ${report.stateRetries} Task retries`,
    `  parked compensations (a cancellation's that met the gateway unavailable, every give-up's void): ${sum(report.compensations) === 0 ? 'none' : top(report.compensations)}`,
    `  batches given up to the failure queue: ${sum(report.failureQueue) === 0 ? 'none' : top(report.failureQueue)}`,
    ...(scenario.backOffice.size > 0
      ? [
          `  back office: ${scenario.skus.length} products registered, ${office.restocks} restocks, ${office.writeOffs} write-offs, ${office.prices} new prices and ${office.names} new names answered 200 over ${scenario.backOffice.size} of them, each keyed one sent again after its first answer was lost; ${scenario.backOfficeFailures.length} never answered`,
        ]
      : []),
    `  every order ended as its kind says: ${scenario.mismatches.length === 0 ? 'yes' : `NO, ${scenario.mismatches.length} did not`}`,
    ...scenario.mismatches.slice(0, 10).map((m) => `    ${m}`),
    ...(scenario.waitedOutBound.length > 0
      ? [
          `  given up PAYMENT_UNAVAILABLE past the bound they recorded, after waiting out the outage (as designed): ${scenario.waitedOutBound.length}`,
          ...scenario.waitedOutBound.slice(0, 10).map((m) => `    ${m}`),
        ]
      : []),
    `\nChecked (converged ${(report.convergedInMs / 1000).toFixed(1)} s after the last saga ended)`,
    ...describeInvariants(report.invariants),
    `\n${report.passed ? 'PASSED' : 'FAILED'}`,
  ].join('\n');
};
