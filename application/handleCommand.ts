import { fold } from '../domain/shared/decider.js';
import { ConcurrencyError, CorruptEventError } from '../eventstore/errors.js';
import type { ZodType } from 'zod';
import { newerSchema } from '../eventstore/upcasting.js';
import type {
  BalanceCheck,
  BalanceMove,
  Claim,
  DomainEvent,
  EventMetadata,
  EventStore,
  StoredEvent,
} from '../eventstore/types.js';
import { type Aggregate, claimsOf, movesOf } from './aggregates.js';
import type { CatalogueCache } from './products.js';
import { UnrecordableEventError } from './errors.js';

export type Loaded<State> = { state: State; version: number };

/**
 * Loads a stream's state: from its snapshot, if the aggregate keeps them, plus the events after it; or, given `from`
 * (the stream as loaded before), brought up to date with the events after it. Strongly consistent unless
 * `consistent` is false (ADR 0008 says where that is safe).
 */
export const load = async <State, Command, Event extends DomainEvent>(
  store: EventStore,
  aggregate: Aggregate<State, Command, Event>,
  streamId: string,
  options: { toVersion?: number; consistent?: boolean; from?: Loaded<State> } = {},
): Promise<Loaded<State>> => {
  const consistent = options.consistent ?? true;
  const { from } = options;
  const snapshot =
    from ??
    (aggregate.snapshot && options.toVersion === undefined
      ? await store.readSnapshot<State>(streamId, aggregate.snapshot.schema, { consistent })
      : undefined);
  const stored = await store.readStream(streamId, {
    afterVersion: snapshot?.version ?? 0,
    // A version loaded before is where an append ended: a read that finds nothing after it is done.
    ...(from ? { afterAnAppend: true } : {}),
    consistent,
    ...(options.toVersion === undefined ? {} : { toVersion: options.toVersion }),
  });
  const events = stored.map((event) => parseEvent(aggregate.events, event));
  const state = fold(aggregate.decider, events, snapshot?.state ?? aggregate.decider.initialState());
  return { state, version: stored.at(-1)?.version ?? snapshot?.version ?? 0 };
};

export const parseEvent = <Event extends DomainEvent>(schema: ZodType<Event>, event: StoredEvent): Event => {
  const newer = newerSchema(event);
  if (newer)
    throw new CorruptEventError(event.streamId, event.version, { cause: newer, schemaVersion: event.schemaVersion });
  const parsed = schema.safeParse({ type: event.type, data: event.data });
  if (!parsed.success) {
    throw new CorruptEventError(event.streamId, event.version, {
      cause: parsed.error,
      schemaVersion: event.schemaVersion,
    });
  }
  return parsed.data;
};

/**
 * How a decision reads its stream on one attempt (ADR 0008):
 * - `assumed`: not at all, when the caller knows the state it expects (a saga carries the order it started for);
 *   decisions without an assumed state read eventually consistently instead;
 * - `eventual`: an eventually consistent read, which may miss the latest events;
 * - `consistent`: a strongly consistent read.
 * The first two are safe only for a decision that appends: its version condition refuses a stale state.
 */
export type ReadMode = 'assumed' | 'eventual' | 'consistent';

/**
 * One stream's part of a command, with its types sealed inside, so one command can span aggregates of different
 * types (an order and its SKUs). Build it with {@link decision}.
 */
export type Decision = {
  streamId: string;
  /** Reads the stream as `read` says and takes the decision on that state. */
  prepare(store: EventStore, read: ReadMode): Promise<Prepared>;
};

type Prepared = {
  /** Decided on the state the caller assumed, not on one read. */
  assumed: boolean;
  expectedVersion: number;
  events: DomainEvent[];
  moves: BalanceMove[];
  claims: Claim[];
  state: unknown;
  snapshot: Aggregate<unknown, unknown, DomainEvent>['snapshot'];
};

/** `assumed`: the state the caller expects the stream to be in, tried first without reading it. */
export const decision = <State, Command, Event extends DomainEvent>(
  aggregate: Aggregate<State, Command, Event>,
  streamId: string,
  decide: (state: State) => Event[],
  assumed?: Loaded<State>,
): Decision => ({
  streamId,
  async prepare(store, read) {
    const fromAssumed = read === 'assumed' && assumed !== undefined;
    const { state, version } = fromAssumed
      ? assumed
      : await load(store, aggregate, streamId, { consistent: read === 'consistent' });
    const events = decide(state);
    // An event its own schema refuses would be written and then never read back (every load and projection parses
    // what it reads): refuse it before the write instead.
    for (const event of events) {
      const parsed = aggregate.events.safeParse(event);
      if (!parsed.success) throw new UnrecordableEventError(streamId, event.type, { cause: parsed.error });
    }
    return {
      assumed: fromAssumed,
      expectedVersion: version,
      events,
      moves: movesOf(aggregate, events, state),
      claims: claimsOf(aggregate, events),
      state: fold(aggregate.decider, events, state),
      snapshot: aggregate.snapshot,
    };
  },
});

export type CommandContext = {
  store: EventStore;
  metadata: EventMetadata;
  now?: Date;
  retry?: RetryPolicy;
  /**
   * Told of each append its version condition refused, for logs and metrics: `retrying` unless it was the last
   * attempt, after which the error is thrown; `assumed` when every stream refused was decided on a state the caller
   * assumed rather than read (a saga's carried order, a new order's empty stream). Such a state out of date is no lost
   * race: the stream moved on before the command ran, and it reads it and decides again, at once and once.
   */
  onConflict?: (error: ConcurrencyError, attempt: number, how: { retrying: boolean; assumed: boolean }) => void;
  /**
   * What this process last learned of SKUs' available units, by SKU: placement's guess of which lines are short,
   * learned from the writes the stock refused (ADR 0014). Never trusted: the write's conditions hold every decision
   * to the stock as it is. Without it, placement guesses every line has enough. Placement keeps at most
   * `STOCK_HINTS_KEPT` SKUs in it, the ones learned of last.
   */
  stockHints?: Map<string, number>;
  /** What this process last read of products, for pricing (`productForPricing`). Without it, each order reads them. */
  catalogue?: CatalogueCache;
};

export type RetryPolicy = { attempts: number; baseDelayMs: number; maxDelayMs: number };
export const defaultRetry: RetryPolicy = { attempts: 5, baseDelayMs: 10, maxDelayMs: 200 };

/** "Full jitter" backoff: spreads retrying writers apart instead of having them collide again in step. */
const backoff = (attempt: number, { baseDelayMs, maxDelayMs }: RetryPolicy): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt)));

export type StreamOutcome = { streamId: string; version: number; state: unknown; events: DomainEvent[] };

/**
 * Loads every stream, decides on each, and appends all new events in one atomic write; on a lost race it reloads
 * and decides again, up to `retry.attempts` times, then lets the {@link ConcurrencyError} through.
 * A decision that throws (a domain error) ends the command with nothing written to any stream, and so does a balance
 * that refuses its move (`BalanceTooLowError`, not retried: it is an answer, not a race), or a claim taken before
 * (`ClaimTakenError`: the command was done already).
 *
 * The first attempt takes assumed states where given and eventually consistent reads elsewhere: the append's
 * version conditions refuse any that was stale. What no condition checks is taken only on strongly consistent
 * reads: a refusal (a decision that throws), or a decision that appends nothing (ADR 0008).
 *
 * `checks` are conditions on balances the decisions were taken on, read by the caller: the append commits only while
 * they hold, and `BalanceChangedError` (not retried here: only the caller can read the balances again) otherwise.
 */
export const handleCommands = async (
  decisions: Decision[],
  { store, metadata, now, retry = defaultRetry, onConflict }: CommandContext,
  checks: BalanceCheck[] = [],
): Promise<StreamOutcome[]> => {
  let read: ReadMode = 'assumed';
  for (let attempt = 1; ;) {
    let prepared: Prepared[];
    try {
      prepared = await Promise.all(decisions.map((d) => d.prepare(store, read)));
    } catch (error) {
      if (read === 'consistent') throw error;
      read = 'consistent';
      continue;
    }
    const outcomes = prepared.map((p, index) => ({ ...p, streamId: (decisions[index] as Decision).streamId }));
    const appends = outcomes.filter((o) => o.events.length > 0);
    const unchecked = outcomes.some((o) => o.events.length === 0);
    if (unchecked && read !== 'consistent') {
      read = 'consistent';
      continue;
    }
    try {
      const moves = appends.flatMap((o) => o.moves);
      const claims = appends.flatMap((o) => o.claims);
      if (appends.length > 0) {
        await store.append(appends, metadata, { ...(now ? { now } : {}), moves, checks, claims });
      }
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      // Only the first attempt takes assumed states, so this reads and decides again at most once. A refusal that
      // names no stream (another transaction held an item) is a race.
      const assumed =
        error.streamIds.length > 0 &&
        error.streamIds.every((id) => outcomes.some((o) => o.streamId === id && o.assumed));
      onConflict?.(error, attempt, { retrying: assumed || attempt < retry.attempts, assumed });
      if (!assumed) {
        if (attempt >= retry.attempts) throw error;
        // A stream another writer created is there to read at once: there is no race to spread out.
        if (!error.alreadyCreated) await backoff(attempt, retry);
        attempt++;
      }
      read = 'consistent';
      continue;
    }
    await Promise.all(appends.map((o) => maybeSnapshot(store, o)));
    return outcomes.map(({ streamId, expectedVersion, events, state }) => ({
      streamId,
      version: expectedVersion + events.length,
      state,
      events,
    }));
  }
};

/** One stream: load → decide → append, with the same retries. */
export const handleCommand = async <State, Command, Event extends DomainEvent>(
  aggregate: Aggregate<State, Command, Event>,
  streamId: string,
  decide: (state: State) => Event[],
  context: CommandContext,
  assumed?: Loaded<State>,
  checks?: BalanceCheck[],
): Promise<{ streamId: string; version: number; state: State; events: Event[] }> => {
  const [outcome] = await handleCommands([decision(aggregate, streamId, decide, assumed)], context, checks);
  if (!outcome) throw new Error('handleCommands returned no outcome');
  // decision() built this outcome from this aggregate's decide and evolve, so the sealed types are these.
  return outcome as { streamId: string; version: number; state: State; events: Event[] };
};

const maybeSnapshot = async (
  store: EventStore,
  { streamId, expectedVersion, events, state, snapshot }: Prepared & { streamId: string },
): Promise<void> => {
  if (!snapshot) return;
  const version = expectedVersion + events.length;
  // Write one when this append crossed a multiple of `every`.
  if (Math.floor(version / snapshot.every) === Math.floor(expectedVersion / snapshot.every)) return;
  try {
    await store.writeSnapshot({ streamId, version, state, schema: snapshot.schema });
  } catch {
    // A snapshot only speeds up loading; the events are already committed, so a failed one is not an error.
  }
};
