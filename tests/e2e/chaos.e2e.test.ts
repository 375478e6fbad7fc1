import { afterAll, describe, expect, it } from 'vitest';
import { runChaos } from '../../bench/chaos.js';
import { keepEnvironment } from '../support/environment.js';

/*
 * The short version of `npm run chaos`: a stack of its own (the shared one must not break for the other files), with
 * a fifth of all Lambda invocations failing, Kinesis deliveries delayed and change records delivered twice, and a
 * saga step failing for good for a tenth of the orders, the payment gateway down for 3 s, and a product restocked,
 * written off and repriced after every fifth order through the same failures. Every order must still
 * end as its kind (and its permanent fault) says, every invariant of the store must hold (stock conserved, no
 * authorization left held, each keyed restock and write-off recorded once however often its answer was lost), and no
 * change record may reach the failure queue: a refund that meets the outage waits.
 */
const restoreEnvironment = keepEnvironment();
afterAll(() => {
  restoreEnvironment();
});

describe('chaos: orders under injected failures', () => {
  it('settles every order as its kind says and keeps every invariant, with 20% of invocations failing, some steps failing for good and the gateway down', async () => {
    const report = await runChaos({
      orders: 30,
      failure: 0.2,
      failSteps: 0.1,
      // Shorter than the test stage's payment wait bound (15 s): every order must still end as its kind says, or, where
      // a loaded machine's retries outlast the bound, be given up past it, which the scenario checks from its events
      // (`waitedOutBound`; a give-up before its bound is a mismatch).
      outage: { afterMs: 2_000, forMs: 3_000 },
      backOffice: { everyOrders: 5 },
      concurrency: 6,
      seed: 20261123,
      stage: 'test',
    });

    // The faults really happened, of every kind, to every sort of function.
    expect(Object.keys(report.injected.failedBefore).length).toBeGreaterThan(3);
    expect(Object.values(report.injected.lostResults).reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    expect(report.injected.redelivered).toBeGreaterThan(0);
    expect(report.injected.delayedDeliveries).toBeGreaterThan(0);
    // The gateway really was down while payments were asked for: some calls reached it before the breaker opened.
    expect(report.outage?.refusedCalls).toBeGreaterThan(0);

    expect(report.scenario.orders).toHaveLength(30);
    // Six rounds of the back office, each a restock, a write-off, a new price and a new name, all answered in the end.
    const sent = [...report.scenario.backOffice.values()];
    expect(sent.flatMap((s) => [...s.restockKeys, ...s.writeOffKeys, ...s.repriceKeys, ...s.renameKeys])).toHaveLength(
      24,
    );
    expect(sent.flatMap((s) => s.prices)).toHaveLength(6);
    expect(sent.flatMap((s) => s.names)).toHaveLength(6);
    expect(report.scenario.backOfficeFailures).toEqual([]);
    // Orders 0, 11 and 22 had a forward step fail every time; the catch-all settled each as expectedEndings says.
    const doomed = report.scenario.orders.filter((o) => o.fault);
    expect(doomed).toHaveLength(3);
    expect(doomed.every((o) => o.ended !== 'PENDING')).toBe(true);
    expect(report.scenario.mismatches).toEqual([]);
    expect(report.executions).toEqual({ SUCCEEDED: report.executions.SUCCEEDED });
    // Whatever compensation met the outage waited for the gateway and got through; nothing was given up.
    expect(Object.keys(report.compensations).filter((status) => status !== 'SUCCEEDED')).toEqual([]);
    expect(report.failureQueue).toEqual({});
    expect(report.invariants.map((i) => [i.name, i.violations])).toEqual(report.invariants.map((i) => [i.name, []]));
    expect(report.invariants.every((i) => i.checked > 0)).toBe(true);
    expect(report.passed).toBe(true);
  }, 240_000);
});
