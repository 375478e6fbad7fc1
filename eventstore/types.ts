/** A domain event as deciders produce it. */
export type DomainEvent = { type: string; data: Record<string, unknown> };

/** Who asked, and why: carried by every event a command appends. */
export type EventMetadata = {
  /** The id of the whole conversation (an HTTP request and everything it sets off). */
  correlationId: string;
  /** The id of the message that caused this command (an event id, or the request id). */
  causationId: string;
  /** The id of the command that appended the event. */
  commandId: string;
  /** Who issued the command: a customer id, `admin:<sub>`, or `saga`. */
  actor: string;
};

/** An event as stored: the domain event inside its envelope. */
export type StoredEvent<E extends DomainEvent = DomainEvent> = E & {
  streamId: string;
  version: number;
  eventId: string;
  schemaVersion: number;
  recordedAt: string;
  metadata: EventMetadata;
  /**
   * Set on read, never stored: written at a schema version newer than this code's, by a later release (met after a
   * rollback). Its data may fit today's schema and mean something else, so every reader refuses it
   * ({@link import('./upcasting.js').newerSchema}) as it refuses a shape it does not know.
   */
  newerSchema?: true;
};

/** Events to add to one stream, valid only if the stream is still at `expectedVersion` (0: does not exist yet). */
export type StreamAppend<E extends DomainEvent = DomainEvent> = {
  streamId: string;
  expectedVersion: number;
  events: E[];
};

export type AppendResult = { streamId: string; version: number }[];

/**
 * A change to a balance: named counters kept beside the streams (a SKU's stock), moved by the events of many streams
 * in the same atomic write as those events. The write commits only if no counter goes below zero; that condition,
 * not a stream version, serializes the writers, so writers of different streams never race on one stream.
 */
export type BalanceMove = { balanceId: string; delta: Record<string, number> };

/**
 * A condition on a balance that an append moves nothing on: each named counter must be below its value (a balance
 * never moved counts zero). It lets a decision taken on a balance read outside the write commit only if the balance
 * still says so (an order rejected out of stock only while the stock is short), and {@link BalanceChangedError}
 * refuses the append otherwise.
 */
export type BalanceCheck = { balanceId: string; below: Record<string, number> };

/**
 * An id that one append alone may ever take, written in the same atomic write as that append's events, with `data`
 * saying what the append did. An append taking it again is refused, with that `data`
 * ({@link import('./errors.js').ClaimTakenError}), and writes nothing. It is what makes a caller's key for a command
 * last as long as the data: a stream's state may remember a bounded number of keys, a claim is never forgotten
 * (ADR 0024).
 */
export type Claim = { claimId: string; data: Record<string, number | string> };

/** A balance's counters, and how many moves it has taken (a version for caches and ETags). */
export type Balance = { balanceId: string; counts: Record<string, number>; version: number };

export type ReadOptions = {
  /** Read only events with a version above this one (the version of a snapshot). */
  afterVersion?: number;
  /**
   * `afterVersion` is where an append ended (a version the caller loaded before): no item holds both it and a later
   * event, so a read that finds nothing after it is done. Otherwise the store looks once more for an append that
   * starts before it and runs past it.
   */
  afterAnAppend?: boolean;
  /** Read only events with a version up to this one. */
  toVersion?: number;
  /**
   * Strongly consistent (the default) or not. An eventually consistent read may miss the latest events: use it only
   * where what is read is written back under a version condition, which catches a stale read (ADR 0008).
   */
  consistent?: boolean;
};

export type Snapshot<State> = { streamId: string; version: number; state: State; schema: string };

export type AppendOptions = { now?: Date; moves?: BalanceMove[]; checks?: BalanceCheck[]; claims?: Claim[] };

/** The event store port. The DynamoDB adapter implements it; the application layer only sees this. */
export interface EventStore {
  /** Appends to one or several streams atomically: all of them are written, or none. */
  append(appends: StreamAppend[], metadata: EventMetadata, options?: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadOptions): Promise<StoredEvent[]>;
  readSnapshot<State>(
    streamId: string,
    schema: string,
    options?: { consistent?: boolean },
  ): Promise<Snapshot<State> | undefined>;
  writeSnapshot<State>(snapshot: Snapshot<State>): Promise<void>;
  /**
   * A balance as of the last committed move; `undefined` if nothing ever moved it. Eventually consistent unless
   * `consistent`: a writer answering with what it just wrote needs that; a reader showing stock does not.
   */
  readBalance(balanceId: string, options?: { consistent?: boolean }): Promise<Balance | undefined>;
  /** Several balances in one read, eventually consistent: those that exist, by id. For showing stock, not deciding. */
  readBalances(balanceIds: readonly string[]): Promise<Map<string, Balance>>;
  /** What the append that took a claim said it did, strongly consistent; `undefined` if no append took it. */
  readClaim(claimId: string): Promise<Claim['data'] | undefined>;
}
