import { describe, expect, it } from 'vitest';
import {
  admit,
  afterFailure,
  afterSuccess,
  type Circuit,
  circuitBreaker,
  CircuitOpenError,
  closedTrust,
  CircuitProbingError,
  type CircuitStore,
  closedCircuit,
  type StoredCircuit,
} from '../../../application/circuitBreaker.js';
import {
  guardedPaymentGateway,
  isGatewayFailure,
  type PaymentGateway,
  PaymentGatewayUnavailableError,
} from '../../../application/paymentGateway.js';

const settings = { failureThreshold: 3, windowMs: 10_000, coolDownMs: 5_000, probeTimeoutMs: 2_000 };

describe('the circuit transitions', () => {
  it('lets every call pass while CLOSED', () => {
    expect(admit(closedCircuit(), 0, settings)).toEqual({ verdict: 'PASS' });
  });

  it('opens on the threshold-th failure inside the window, and forgets failures that slid out of it', () => {
    let circuit = closedCircuit();
    circuit = afterFailure(circuit, 1_000, settings, false) ?? circuit;
    circuit = afterFailure(circuit, 2_000, settings, false) ?? circuit;
    expect(circuit).toEqual({ state: 'CLOSED', failures: [1_000, 2_000] });
    // 11,500: the failure at 1,000 is out of the 10 s window, so this is the second one, not the third.
    circuit = afterFailure(circuit, 11_500, settings, false) ?? circuit;
    expect(circuit).toEqual({ state: 'CLOSED', failures: [2_000, 11_500] });
    circuit = afterFailure(circuit, 11_600, settings, false) ?? circuit;
    expect(circuit).toEqual({ state: 'OPEN', failures: [], openSince: 11_600, openedAt: 11_600 });
  });

  it('refuses while OPEN and cooling down, saying for how long it has been open and when to try again', () => {
    const open: Circuit = { state: 'OPEN', failures: [], openSince: 10_000, openedAt: 10_000 };
    expect(admit(open, 12_000, settings)).toEqual({
      verdict: 'REFUSE',
      openForMs: 2_000,
      retryAfterMs: 3_000,
      probing: false,
    });
  });

  it('lets one probe through after the cool-down, and refuses the others while it is in flight', () => {
    const open: Circuit = { state: 'OPEN', failures: [], openSince: 10_000, openedAt: 10_000 };
    const admission = admit(open, 15_000, settings);
    expect(admission).toEqual({
      verdict: 'PROBE',
      next: { state: 'HALF_OPEN', failures: [], openSince: 10_000, openedAt: 10_000, probeUntil: 17_000 },
    });
    if (admission.verdict !== 'PROBE') throw new Error('unreachable');
    expect(admit(admission.next, 15_500, settings)).toMatchObject({
      verdict: 'REFUSE',
      retryAfterMs: 1_500,
      probing: true,
    });
    // A probe that crashed holds the circuit only until its timeout: then another may probe.
    expect(admit(admission.next, 17_001, settings)).toMatchObject({ verdict: 'PROBE' });
  });

  it("closes on the probe's success, and opens again for another cool-down on its failure, keeping when the outage began", () => {
    const halfOpen: Circuit = {
      state: 'HALF_OPEN',
      failures: [],
      openSince: 10_000,
      openedAt: 10_000,
      probeUntil: 17_000,
    };
    expect(afterSuccess(halfOpen, true)).toEqual(closedCircuit());
    expect(afterFailure(halfOpen, 15_200, settings, true)).toEqual({
      state: 'OPEN',
      failures: [],
      openSince: 10_000,
      openedAt: 15_200,
    });
  });

  it('changes nothing for calls that were not the probe, and never closes from OPEN on a straggler', () => {
    const halfOpen: Circuit = { state: 'HALF_OPEN', failures: [], openSince: 1, openedAt: 1, probeUntil: 9 };
    const open: Circuit = { state: 'OPEN', failures: [], openSince: 1, openedAt: 1 };
    expect(afterSuccess(halfOpen, false)).toBeUndefined();
    expect(afterFailure(halfOpen, 5, settings, false)).toBeUndefined();
    expect(afterSuccess(open, false)).toBeUndefined();
    expect(afterFailure(open, 5, settings, false)).toBeUndefined();
    expect(afterSuccess(closedCircuit(), false)).toBeUndefined();
  });
});

/** A store in memory with the adapter's contract: a write lands only at the version it expects. */
const memoryStore = () => {
  const items = new Map<string, StoredCircuit>();
  let writes = 0;
  let reads = 0;
  const store: CircuitStore = {
    read: async (name) => {
      reads += 1;
      return structuredClone(items.get(name));
    },
    write: async (name, circuit, version) => {
      await Promise.resolve();
      if ((items.get(name)?.version ?? 0) !== version) return false;
      writes += 1;
      items.set(name, { circuit: structuredClone(circuit), version: version + 1 });
      return true;
    },
  };
  return { store, items, writes: () => writes, reads: () => reads };
};

describe('the breaker around a gateway', () => {
  const unavailable = () => Promise.reject(new PaymentGatewayUnavailableError('down'));

  const setup = ({ closedTrustMs = 0 } = {}) => {
    let clock = 0;
    const memory = memoryStore();
    const transitions: string[] = [];
    /** How long the circuit had been open at each transition (0 for one that never opened). */
    const openFor: number[] = [];
    const refusals: number[] = [];
    const breaker = circuitBreaker({
      name: 'payment-gateway',
      store: memory.store,
      settings,
      isFailure: isGatewayFailure,
      now: () => clock,
      ...(closedTrustMs > 0 ? { trust: closedTrust(closedTrustMs) } : {}),
      observer: {
        transition: ({ from, to, openForMs }) => {
          transitions.push(`${from}→${to}`);
          openFor.push(openForMs);
        },
        refused: ({ openForMs }) => refusals.push(openForMs),
      },
    });
    return { breaker, memory, transitions, openFor, refusals, tick: (ms: number) => (clock += ms) };
  };

  it('fails fast once open, without calling the gateway, until the cool-down lets one probe close it', async () => {
    const { breaker, transitions, openFor, refusals, tick } = setup();
    let calls = 0;
    const down = () => {
      calls += 1;
      return unavailable();
    };
    for (let i = 0; i < 3; i += 1) await expect(breaker.call(down)).rejects.toThrow(PaymentGatewayUnavailableError);
    expect(transitions).toEqual(['CLOSED→OPEN']);

    tick(1_000);
    await expect(breaker.call(down)).rejects.toThrow(CircuitOpenError);
    expect(calls).toBe(3);
    expect(refusals).toEqual([1_000]);

    tick(5_000);
    await expect(breaker.call(down)).rejects.toThrow(PaymentGatewayUnavailableError);
    expect(calls).toBe(4);
    expect(transitions).toEqual(['CLOSED→OPEN', 'OPEN→HALF_OPEN', 'HALF_OPEN→OPEN']);

    tick(5_000);
    await expect(breaker.call(() => Promise.resolve('approved'))).resolves.toBe('approved');
    expect(transitions.slice(-2)).toEqual(['OPEN→HALF_OPEN', 'HALF_OPEN→CLOSED']);
    // The outage counts from the first opening, through the failed probe: what the "circuit closed" line reports.
    expect(openFor).toEqual([0, 6_000, 6_000, 11_000, 11_000]);
  });

  it('lets exactly one of many concurrent callers probe', async () => {
    const { breaker, memory, tick } = setup();
    memory.items.set('payment-gateway', {
      circuit: { state: 'OPEN', failures: [], openSince: 0, openedAt: 0 },
      version: 4,
    });
    tick(6_000);
    let calls = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        breaker.call(async () => {
          calls += 1;
          return 'approved';
        }),
      ),
    );
    expect(calls).toBe(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    // Refused because another call is probing: told apart, so a saga tries again in moments, not a whole wait later.
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof CircuitProbingError)).toHaveLength(9);
    expect(memory.items.get('payment-gateway')?.circuit.state).toBe('CLOSED');
  });

  it('tells a call refused during a probe from one refused while the circuit cools down', async () => {
    const { breaker, memory, tick } = setup();
    memory.items.set('payment-gateway', {
      circuit: { state: 'OPEN', failures: [], openSince: 0, openedAt: 0 },
      version: 4,
    });
    const cooling = await breaker.call(() => Promise.resolve('approved')).catch((error: unknown) => error);
    expect(cooling).toBeInstanceOf(CircuitOpenError);
    expect(cooling).not.toBeInstanceOf(CircuitProbingError);
    tick(6_000);
    let release: () => void = () => undefined;
    const probe = breaker.call(() => new Promise<string>((resolve) => (release = () => resolve('approved'))));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const during = await breaker.call(() => Promise.resolve('approved')).catch((error: unknown) => error);
    expect(during).toBeInstanceOf(CircuitProbingError);
    expect((during as Error).name).toBe('CircuitProbingError');
    release();
    await expect(probe).resolves.toBe('approved');
    await expect(breaker.call(() => Promise.resolve('approved'))).resolves.toBe('approved');
  });

  it('never opens on errors that are answers, not outages (a bad request, a bug): they reach the caller as they are', async () => {
    const { breaker, memory, transitions } = setup();
    const answered = () => Promise.reject(new Error('400 Bad Request: amount must be positive'));
    for (let i = 0; i < 5; i += 1) await expect(breaker.call(answered)).rejects.toThrow('400 Bad Request');
    expect(transitions).toEqual([]);
    expect(memory.writes()).toBe(0);
    await expect(breaker.call(() => Promise.resolve('approved'))).resolves.toBe('approved');
  });

  it('closes on a probe the gateway answered with an error that is not an outage: it is up', async () => {
    const { breaker, memory, transitions, tick } = setup();
    memory.items.set('payment-gateway', {
      circuit: { state: 'OPEN', failures: [], openSince: 0, openedAt: 0 },
      version: 4,
    });
    tick(6_000);
    await expect(breaker.call(() => Promise.reject(new Error('400 Bad Request')))).rejects.toThrow('400 Bad Request');
    expect(transitions).toEqual(['OPEN→HALF_OPEN', 'HALF_OPEN→CLOSED']);
    // The next call passes at once, not refused as probing until the probe's time runs out.
    await expect(breaker.call(() => Promise.resolve('approved'))).resolves.toBe('approved');
  });

  it('takes a CLOSED circuit as read for closedTrustMs: calls pass without reading it, until a failure or the time is up', async () => {
    const { breaker, memory, tick } = setup({ closedTrustMs: 1000 });
    const answered = () => Promise.resolve('ok');
    for (let i = 0; i < 5; i += 1) await breaker.call(answered);
    expect(memory.reads()).toBe(1);
    tick(1000);
    await breaker.call(answered);
    await breaker.call(answered);
    expect(memory.reads()).toBe(2);
    // Its own failure is recorded against the stored circuit (a read), and the next call reads it again.
    await breaker.call(unavailable).catch(() => undefined);
    expect(memory.reads()).toBe(3);
    await breaker.call(answered);
    expect(memory.reads()).toBe(4);
    expect(memory.items.get('payment-gateway')?.circuit.failures).toHaveLength(1);
  });

  it('shares what it trusts between the breakers of one function instance, one made per invocation', async () => {
    const memory = memoryStore();
    const trust = closedTrust(1000);
    const breaker = () =>
      circuitBreaker({ name: 'payment-gateway', store: memory.store, settings, isFailure: isGatewayFailure, trust });
    for (let i = 0; i < 5; i += 1) await breaker().call(() => Promise.resolve('ok'));
    expect(memory.reads()).toBe(1);
  });

  it('sees another caller’s opening once its trust runs out, and never takes an OPEN circuit as read', async () => {
    const { breaker, memory, tick } = setup({ closedTrustMs: 1000 });
    const answered = () => Promise.resolve('ok');
    await breaker.call(answered);
    // Another function instance opens it.
    memory.items.set('payment-gateway', {
      circuit: { state: 'OPEN', failures: [], openSince: 0, openedAt: 0 },
      version: 7,
    });
    await expect(breaker.call(answered)).resolves.toBe('ok');
    tick(1000);
    await expect(breaker.call(answered)).rejects.toBeInstanceOf(CircuitOpenError);
    const reads = memory.reads();
    await expect(breaker.call(answered)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(memory.reads()).toBe(reads + 1);
  });

  it('never opens on declines, and writes nothing while calls succeed', async () => {
    const { breaker, memory } = setup();
    const declining: PaymentGateway = {
      authorize: async () => ({ outcome: 'DECLINED', reason: 'card_declined' }),
      refund: async () => ({ reference: 'r' }),
      voidAuthorization: async () => ({ outcome: 'NOTHING_AUTHORIZED' }),
    };
    const gateway = guardedPaymentGateway(declining, breaker);
    for (let i = 0; i < 10; i += 1) {
      await expect(
        gateway.authorize({ idempotencyKey: `o${i}`, token: 't', amount: { amount: 1, currency: 'EUR' } }),
      ).resolves.toEqual({ outcome: 'DECLINED', reason: 'card_declined' });
    }
    expect(memory.writes()).toBe(0);
  });

  it('lets refunds and voids through while it is open: money owed back is never failed fast', async () => {
    const { breaker } = setup();
    for (let i = 0; i < 10; i += 1) await breaker.call(unavailable).catch(() => undefined);
    const calls: string[] = [];
    const gateway = guardedPaymentGateway(
      {
        authorize: async () => {
          calls.push('authorize');
          return { outcome: 'DECLINED', reason: 'card_declined' };
        },
        refund: async () => {
          calls.push('refund');
          return { reference: 'r' };
        },
        voidAuthorization: async () => {
          calls.push('void');
          return { outcome: 'NOTHING_AUTHORIZED' };
        },
      },
      breaker,
    );
    await expect(
      gateway.authorize({ idempotencyKey: 'o1', token: 't', amount: { amount: 1, currency: 'EUR' } }),
    ).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(
      gateway.refund({ idempotencyKey: 'o1', reference: 'a', amount: { amount: 1, currency: 'EUR' } }),
    ).resolves.toEqual({ reference: 'r' });
    await expect(gateway.voidAuthorization({ idempotencyKey: 'o1' })).resolves.toEqual({
      outcome: 'NOTHING_AUTHORIZED',
    });
    expect(calls).toEqual(['refund', 'void']);
  });

  it('answers the call’s own error even when its failure cannot be recorded', async () => {
    const { memory } = setup();
    const losing = circuitBreaker({
      name: 'payment-gateway',
      store: { ...memory.store, write: async () => false },
      settings,
      isFailure: isGatewayFailure,
    });
    await expect(losing.call(unavailable)).rejects.toThrow(PaymentGatewayUnavailableError);
  });

  it('counts concurrent failures without losing any to a race', async () => {
    const { memory } = setup();
    const big = circuitBreaker({
      name: 'payment-gateway',
      store: memory.store,
      settings: { ...settings, failureThreshold: 100 },
      isFailure: isGatewayFailure,
      now: () => 1,
    });
    await Promise.allSettled(Array.from({ length: 6 }, () => big.call(unavailable)));
    expect(memory.items.get('payment-gateway')?.circuit.failures).toHaveLength(6);
  });
});
