/**
 * A circuit breaker around a dependency that fails, shared by every caller of a stage: its state lives in a store
 * (one item per circuit, written under a version condition), never in one Lambda's memory alone.
 *
 * - **CLOSED**: calls pass; failures are counted in a sliding window of `windowMs`. `failureThreshold` failures in the
 *   window open it.
 * - **OPEN**: calls fail fast with {@link CircuitOpenError}, without touching the dependency.
 * - **HALF_OPEN**: once `coolDownMs` has passed, one call at a time is let through as a probe (it holds the circuit
 *   for `probeTimeoutMs`, so a probe that crashed does not hold it for ever). Its success closes the circuit; its
 *   failure opens it again for another cool-down.
 *
 * Only what `isFailure` says counts as a failure: a business answer (a declined card) is the dependency working.
 * The transitions are pure functions of the state and the time ({@link admit}, {@link afterSuccess},
 * {@link afterFailure}), so they are tested without a store.
 *
 * @example
 * const breaker = circuitBreaker({ name: 'payment-gateway', store, settings, isFailure: (e) => e instanceof Timeout });
 * const answer = await breaker.call(() => gateway.authorize(request)); // throws CircuitOpenError while OPEN
 */
export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export type Circuit = {
  state: CircuitState;
  /** The times (ms) of the latest failures while CLOSED, oldest first: at most `failureThreshold` of them. */
  failures: number[];
  /** When this outage began (ms): the first opening, kept through probes that fail, cleared on closing. */
  openSince?: number;
  /** When it last opened (ms): the cool-down counts from here. */
  openedAt?: number;
  /** While HALF_OPEN: until when (ms) the probe in flight holds the circuit. */
  probeUntil?: number;
};

export type CircuitSettings = {
  failureThreshold: number;
  windowMs: number;
  coolDownMs: number;
  probeTimeoutMs: number;
};

export const closedCircuit = (): Circuit => ({ state: 'CLOSED', failures: [] });

/** What a call may do: pass, pass as the one probe (after writing `next`), or be refused. */
export type Admission =
  | { verdict: 'PASS' }
  | { verdict: 'PROBE'; next: Circuit }
  | { verdict: 'REFUSE'; openForMs: number; retryAfterMs: number; probing: boolean };

/** Whether a call may go through `circuit` at `now`. */
export const admit = (circuit: Circuit, now: number, settings: CircuitSettings): Admission => {
  if (circuit.state === 'CLOSED') return { verdict: 'PASS' };
  const openedAt = circuit.openedAt ?? now;
  const openForMs = now - (circuit.openSince ?? openedAt);
  const coolingUntil = openedAt + settings.coolDownMs;
  const probing = circuit.state === 'HALF_OPEN' && (circuit.probeUntil ?? 0) > now;
  if (now < coolingUntil || probing) {
    const retryAfterMs = Math.max(coolingUntil, probing ? (circuit.probeUntil ?? now) : now) - now;
    return { verdict: 'REFUSE', openForMs, retryAfterMs, probing };
  }
  return {
    verdict: 'PROBE',
    next: { ...circuit, state: 'HALF_OPEN', probeUntil: now + settings.probeTimeoutMs },
  };
};

/** The circuit after a call that the dependency answered; `undefined` when nothing changes (nothing to write). */
export const afterSuccess = (circuit: Circuit, probe: boolean): Circuit | undefined =>
  probe && circuit.state === 'HALF_OPEN' ? closedCircuit() : undefined;

/** The circuit after a failed call; `undefined` when nothing changes. */
export const afterFailure = (
  circuit: Circuit,
  now: number,
  settings: CircuitSettings,
  probe: boolean,
): Circuit | undefined => {
  if (circuit.state === 'HALF_OPEN') {
    if (!probe) return undefined;
    const { probeUntil: _, ...rest } = circuit;
    return { ...rest, state: 'OPEN', openedAt: now };
  }
  // A call let through before the circuit opened that fails afterwards tells nothing new.
  if (circuit.state === 'OPEN') return undefined;
  const failures = [...circuit.failures.filter((at) => at > now - settings.windowMs), now].slice(
    -settings.failureThreshold,
  );
  if (failures.length < settings.failureThreshold) return { ...circuit, failures };
  return { state: 'OPEN', failures: [], openSince: now, openedAt: now };
};

/** A circuit's item: its state and the version every write is conditioned on (0: no item yet). */
export type StoredCircuit = { circuit: Circuit; version: number };

/** Where circuits live (adapters/dynamoCircuitStore.ts): one item per circuit, written under a version condition. */
export type CircuitStore = {
  read(name: string): Promise<StoredCircuit | undefined>;
  /** Writes `circuit` as version `version + 1` if the item is still at `version`; false when another writer won. */
  write(name: string, circuit: Circuit, version: number): Promise<boolean>;
};

/** The call was refused without touching the dependency: its circuit is open. Try again after `retryAfterMs`. */
export class CircuitOpenError extends Error {
  constructor(
    readonly circuit: string,
    readonly openForMs: number,
    readonly retryAfterMs: number,
  ) {
    super(`Circuit ${circuit} is open (for ${Math.round(openForMs / 1000)} s): the call was not made.`);
    this.name = 'CircuitOpenError';
  }
}

/**
 * Refused while another call probes the dependency: the circuit closes or opens again within moments, so the caller
 * may try again in place (the saga does, a second or so later) instead of waiting as long as for an open circuit.
 */
export class CircuitProbingError extends CircuitOpenError {
  constructor(circuit: string, openForMs: number, retryAfterMs: number) {
    super(circuit, openForMs, retryAfterMs);
    this.message = `Circuit ${circuit} is being probed (open for ${Math.round(openForMs / 1000)} s): the call was not made.`;
    this.name = 'CircuitProbingError';
  }
}

/** What the breaker reports: each state change, and each call it refused. */
export type CircuitObserver = {
  transition?(change: { circuit: string; from: CircuitState; to: CircuitState; openForMs: number }): void;
  refused?(refusal: { circuit: string; openForMs: number }): void;
};

export type CircuitBreaker = {
  /** Runs `call` through the circuit: refused with {@link CircuitOpenError} while it is open. */
  call<T>(call: () => Promise<T>): Promise<T>;
};

/**
 * A CLOSED circuit as last read, taken as read for `forMs`: calls pass without reading it again, as nearly every call
 * does. Another caller's opening is then seen up to `forMs` later, and meanwhile a failure of this caller's own (each
 * is recorded against the stored circuit, which ends the trust) tells it as well. One per circuit and function
 * instance, shared by the breakers made there (one per invocation, each with its own observer).
 */
export type ClosedTrust = { readonly forMs: number; held?: { stored: StoredCircuit; until: number } | undefined };

export const closedTrust = (forMs: number): ClosedTrust => ({ forMs });

/** A lost write is re-read and decided again; a few rounds settle any burst of writers. */
const WRITE_ATTEMPTS = 8;

export const circuitBreaker = ({
  name,
  store,
  settings,
  isFailure,
  now = Date.now,
  observer = {},
  trust,
}: {
  name: string;
  store: CircuitStore;
  settings: CircuitSettings;
  isFailure: (error: unknown) => boolean;
  now?: () => number;
  observer?: CircuitObserver;
  /** Where a CLOSED circuit read is kept for a while ({@link ClosedTrust}); without it, every call reads the circuit. */
  trust?: ClosedTrust;
}): CircuitBreaker => {
  const read = async (): Promise<StoredCircuit> => (await store.read(name)) ?? { circuit: closedCircuit(), version: 0 };

  const admitting = async (at: number): Promise<StoredCircuit> => {
    const held = trust?.held;
    if (held && at < held.until) return held.stored;
    const stored = await read();
    if (trust) trust.held = stored.circuit.state === 'CLOSED' ? { stored, until: at + trust.forMs } : undefined;
    return stored;
  };

  const reportChange = (from: Circuit, to: Circuit, at: number) => {
    if (from.state === to.state) return;
    const openSince = to.openSince ?? from.openSince;
    observer.transition?.({
      circuit: name,
      from: from.state,
      to: to.state,
      openForMs: openSince === undefined ? 0 : at - openSince,
    });
  };

  /** Applies `change` to the stored circuit, re-reading after a lost race. */
  const update = async (change: (circuit: Circuit, at: number) => Circuit | undefined) => {
    // What is recorded changes the circuit: the next call reads it.
    if (trust) trust.held = undefined;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      const { circuit, version } = await read();
      const at = now();
      const next = change(circuit, at);
      if (!next) return;
      if (await store.write(name, next, version)) {
        reportChange(circuit, next, at);
        return;
      }
    }
    throw new Error(`Circuit ${name}: lost ${WRITE_ATTEMPTS} races to record a call's outcome.`);
  };

  return {
    async call(call) {
      const { circuit, version } = await admitting(now());
      const at = now();
      const admission = admit(circuit, at, settings);
      if (admission.verdict === 'REFUSE') {
        observer.refused?.({ circuit: name, openForMs: admission.openForMs });
        const Refusal = admission.probing ? CircuitProbingError : CircuitOpenError;
        throw new Refusal(name, admission.openForMs, admission.retryAfterMs);
      }
      const probe = admission.verdict === 'PROBE';
      if (admission.verdict === 'PROBE') {
        // One probe at a time: of callers racing for it, the one whose write lands probes, the others are refused as
        // probing (the write that won may also be an expired probe's outcome: their quick retries then find it).
        if (!(await store.write(name, admission.next, version))) {
          const openForMs = at - (circuit.openSince ?? at);
          observer.refused?.({ circuit: name, openForMs });
          throw new CircuitProbingError(name, openForMs, settings.probeTimeoutMs);
        }
        reportChange(circuit, admission.next, at);
      }
      // Recording an outcome never replaces it: a count lost to a burst of writers only opens the circuit a call
      // later, and a probe whose closing is lost holds it only until probeUntil.
      const record = (change: Parameters<typeof update>[0]) => update(change).catch(() => undefined);
      let result: Awaited<ReturnType<typeof call>>;
      try {
        result = await call();
      } catch (error) {
        if (isFailure(error)) await record((current, when) => afterFailure(current, when, settings, probe));
        // Any other error is an answer from the dependency: for a probe, it is up.
        else if (probe) await record((current) => afterSuccess(current, probe));
        throw error;
      }
      if (probe) await record((current) => afterSuccess(current, probe));
      return result;
    },
  };
};
