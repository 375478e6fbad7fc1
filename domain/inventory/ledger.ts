import type { OrderAllocation } from './state.js';

/**
 * Every order's allocation of one SKU, spread over 64 buckets by a hash of the order id. `evolve` is pure, so each
 * event returns a new ledger; with buckets it copies the bucket index and one bucket instead of every order, which
 * keeps folding a popular SKU's long stream linear in practice rather than quadratic. Plain JSON, so snapshots
 * store it as is.
 */
export type Ledger = Record<string, Record<string, OrderAllocation>>;

const BUCKETS = 64;

const bucketOf = (orderId: string): string => {
  let hash = 0;
  for (let i = 0; i < orderId.length; i++) hash = (Math.imul(hash, 31) + orderId.charCodeAt(i)) | 0;
  return `b${(hash >>> 0) % BUCKETS}`;
};

/** The order's allocation, if any. An own-property check, so an order id such as `constructor` finds nothing. */
export const allocationOf = (ledger: Ledger, orderId: string): OrderAllocation | undefined => {
  const bucket = ledger[bucketOf(orderId)];
  return bucket && Object.hasOwn(bucket, orderId) ? bucket[orderId] : undefined;
};

/** A new ledger with the order's allocation set; the given one is unchanged. */
export const withAllocation = (ledger: Ledger, orderId: string, allocation: OrderAllocation): Ledger => {
  const key = bucketOf(orderId);
  return { ...ledger, [key]: { ...ledger[key], [orderId]: allocation } };
};

/** Every order's allocation, by order id. */
export const allocations = (ledger: Ledger): Record<string, OrderAllocation> =>
  Object.assign({}, ...Object.values(ledger)) as Record<string, OrderAllocation>;
