/**
 * A stream was not at the version the writer expected: someone else appended first. Safe to retry from a reload.
 * `alreadyCreated`: every stream it lost on was one the writer meant to create, and another writer had created it. The
 * streams a command creates are named by what makes it unique (an order by its Idempotency-Key, a payment by its
 * order), so that is a resend, or a duplicate sent at the same time, and not contention over a stream's history. (A
 * duplicate whose twin is still committing may be told apart by DynamoDB only as a transaction conflict: a race.)
 */
export class ConcurrencyError extends Error {
  readonly alreadyCreated: boolean;
  constructor(
    readonly streamIds: string[],
    options?: { cause?: unknown; alreadyCreated?: boolean },
  ) {
    super(`Stream ${streamIds.join(', ')} changed since it was read.`, options);
    this.name = 'ConcurrencyError';
    this.alreadyCreated = options?.alreadyCreated ?? false;
  }
}

/** Whether every stream named lost was one its append meant to create (see {@link ConcurrencyError}). */
export const onlyCreations = (lost: string[], appends: { streamId: string; expectedVersion: number }[]): boolean =>
  lost.length > 0 && lost.every((id) => appends.some((a) => a.streamId === id && a.expectedVersion === 0));

/**
 * An append that DynamoDB cannot commit atomically: more than 100 items or 4 MB in one TransactWriteItems, or one
 * event over the 400 KB item limit. Refused before anything is sent, so nothing is written; the caller must split
 * the work into smaller commands (the API's limits keep every request well below this).
 */
export class AppendTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppendTooLargeError';
  }
}

/**
 * A stored event an upcaster throws on (a bug in `domain/upcasters.ts`, met by old events): it cannot be read until
 * the upcaster is fixed. It names the stream and version, so whoever meets it can park that stream there.
 */
export class UpcasterError extends Error {
  constructor(
    readonly streamId: string,
    readonly version: number,
    readonly type: string,
    readonly schemaVersion: number,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`The upcaster of ${type} from schema version ${schemaVersion} throws on ${streamId}@${version}: ${why}`, {
      cause,
    });
    this.name = 'UpcasterError';
  }
}

/** A stored event whose shape no longer parses, even after upcasting. */
export class CorruptEventError extends Error {
  constructor(
    readonly streamId: string,
    readonly version: number,
    options?: { cause?: unknown; schemaVersion?: number },
  ) {
    // Its schema version tells a newer release's event (a rollback) from a bad write.
    const written = options?.schemaVersion === undefined ? '' : ` (schema version ${options.schemaVersion})`;
    super(`Event ${streamId}@${version}${written} does not match its schema.`, options);
    this.name = 'CorruptEventError';
  }
}

/**
 * A stream whose stored versions do not run on one by one from where a read started (a version twice, or one
 * missing): no fold of it can be trusted. Nothing the application appends makes one, since every expected version
 * comes from a read or an append's result; a writer that made a version up inside an item (ADR 0016) would.
 */
export class StreamVersionsError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly found: number,
  ) {
    super(`Stream ${streamId} holds version ${found} where version ${expected} should follow.`);
    this.name = 'StreamVersionsError';
  }
}

/** What every store's read checks before it answers: `events`, read after `afterVersion`, run on one by one. */
export const versionsRunOn = <E extends { streamId: string; version: number }>(
  streamId: string,
  afterVersion: number,
  events: E[],
): E[] => {
  events.forEach((event, index) => {
    if (event.version !== afterVersion + index + 1) {
      throw new StreamVersionsError(streamId, afterVersion + index + 1, event.version);
    }
  });
  return events;
};

/**
 * An append no store may commit as one atomic write, refused before anything is written and the same way by every
 * store: one stream twice, a balance both moved and checked, a check with no bound, or balance moves and checks with
 * no event to commit them with. A defect of the caller, never of its input.
 */
export class InvalidAppendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAppendError';
  }
}

/**
 * A balance move would take a count below zero (a SKU's `available`, say): the append is refused and nothing is
 * written. Not a race to retry: a business answer. `current` is the balance as the refusing write saw it, when known.
 */
export class BalanceTooLowError extends Error {
  constructor(
    readonly balanceIds: string[],
    readonly current?: Record<string, number>,
    options?: { cause?: unknown },
  ) {
    super(`Balance ${balanceIds.join(', ')} cannot move below zero.`, options);
    this.name = 'BalanceTooLowError';
  }
}

/**
 * An append took a {@link import('./types.js').Claim} an earlier append holds: nothing was written. Not a race to
 * retry: the command was done before, and `data` is what the claim's append said it did (when known).
 */
export class ClaimTakenError extends Error {
  constructor(
    readonly claimId: string,
    readonly data: Record<string, unknown> | undefined,
    options?: { cause?: unknown },
  ) {
    super(`Claim ${claimId} is taken.`, options);
    this.name = 'ClaimTakenError';
  }
}

/**
 * A balance was no longer as the writer read it: a {@link BalanceCheck} failed, and nothing was written. Read the
 * balance again and decide again.
 */
export class BalanceChangedError extends Error {
  constructor(
    readonly balanceIds: string[],
    options?: { cause?: unknown },
  ) {
    super(`Balance ${balanceIds.join(', ')} changed since it was read.`, options);
    this.name = 'BalanceChangedError';
  }
}

/**
 * A dependency's failure that may pass if the same work is tried again: the AWS SDK marks it retryable, or it is a
 * 5xx, a throttle, a timeout (middy's early timeout included) or a dropped connection. Projections deliver such a
 * batch again instead of parking it, replays retry it, and the API answers it `503` with `Retry-After`.
 */
export const isTransient = (error: unknown): boolean => {
  const e = error as {
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    name?: string;
    code?: string;
    CancellationReasons?: { Code?: string }[];
  };
  const passing = /Throttl|TimeoutError|RequestLimitExceeded|ProvisionedThroughput|TransactionInProgress/;
  return (
    e.$retryable !== undefined ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500 ||
    passing.test(e.name ?? '') ||
    // A transaction cancelled because one of its items was throttled: the SDK does not retry a cancellation.
    (e.CancellationReasons ?? []).some((reason) => passing.test(reason.Code ?? '')) ||
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(e.code ?? '')
  );
};
