import { AppendTooLargeError, InvalidAppendError } from './errors.js';
import type { BalanceCheck, BalanceMove, Claim, StoredEvent, StreamAppend } from './types.js';

// What one atomic append may hold, and how its balance moves combine: DynamoDB's transaction limits, kept by every
// store so that a command too large for production fails in the fast tests too.

/** DynamoDB's limits for one TransactWriteItems and one item. */
export const TRANSACTION_MAX_ITEMS = 100;
export const TRANSACTION_MAX_BYTES = 4 * 1024 * 1024;
export const ITEM_MAX_BYTES = 400 * 1024;

/**
 * Refuses an append of event `items` (one per stream, `eventItems.ts`) plus `others` balance moves, checks and claims
 * that one transaction cannot hold.
 */
export const checkAppendLimits = (items: StoredEvent[], others: number): void => {
  if (items.length > TRANSACTION_MAX_ITEMS) {
    throw new AppendTooLargeError(
      `An atomic append holds at most ${TRANSACTION_MAX_ITEMS} streams; got ${items.length}.`,
    );
  }
  let total = 0;
  for (const item of items) {
    const bytes = Buffer.byteLength(JSON.stringify(item));
    if (bytes > ITEM_MAX_BYTES) {
      throw new AppendTooLargeError(`The events for ${item.streamId} are ${bytes} bytes; the limit is 400 KB.`);
    }
    total += bytes;
  }
  if (total > TRANSACTION_MAX_BYTES) {
    throw new AppendTooLargeError(`An atomic append holds at most 4 MB; got ${total} bytes.`);
  }
  if (items.length + others > TRANSACTION_MAX_ITEMS) {
    throw new AppendTooLargeError(
      `An atomic append holds at most ${TRANSACTION_MAX_ITEMS} streams, balance moves, checks and claims.`,
    );
  }
};

/**
 * Refuses an append that no store may commit as one atomic write (see {@link InvalidAppendError}). DynamoDB refuses a
 * transaction that touches one item twice (a `ValidationException`, which DynamoDB Local reports as a failed
 * condition, a race to retry) and one with an empty condition, and would let moves with no event go unwritten: each
 * store refuses all of these itself, the same way. `moves` are merged already (one per balance).
 */
export const checkAppendShape = (
  appends: StreamAppend[],
  moves: BalanceMove[],
  checks: BalanceCheck[],
  claims: Claim[] = [],
): void => {
  const streams = appends.filter((append) => append.events.length > 0).map((append) => append.streamId);
  const twice = streams.find((streamId, index) => streams.indexOf(streamId) !== index);
  if (twice !== undefined) throw new InvalidAppendError(`An append names stream ${twice} twice.`);
  if (streams.length === 0 && moves.length + checks.length > 0) {
    throw new InvalidAppendError('An append moves or checks balances without an event to record why.');
  }
  if (streams.length === 0 && claims.length > 0) {
    throw new InvalidAppendError('An append takes a claim without an event to record why.');
  }
  // Balances and claims are items of one table, keyed alike.
  const balances = [...moves, ...checks].map((entry) => entry.balanceId);
  const touched = [...balances, ...claims.map((claim) => claim.claimId)].find(
    (id, index, all) => all.indexOf(id) !== index,
  );
  if (touched !== undefined) {
    throw new InvalidAppendError(`An append moves, checks or claims ${touched} twice.`);
  }
  const unbounded = checks.find((check) => Object.keys(check.below).length === 0);
  if (unbounded) throw new InvalidAppendError(`An append checks balance ${unbounded.balanceId} against no bound.`);
};

/** One move per balance: a transaction may touch each item once. */
export const mergeMoves = (moves: BalanceMove[]): BalanceMove[] => {
  const merged = new Map<string, Record<string, number>>();
  for (const { balanceId, delta } of moves) {
    const sum = merged.get(balanceId) ?? {};
    for (const [name, by] of Object.entries(delta)) sum[name] = (sum[name] ?? 0) + by;
    merged.set(balanceId, sum);
  }
  return [...merged].map(([balanceId, delta]) => ({ balanceId, delta }));
};
