import * as z from 'zod';
import { CUSTOMER_ID_MAX_LENGTH, STOCK_LEVEL_MAX } from './limits.js';

/** ISO 4217 alphabetic code. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as EUR');
export type Currency = z.infer<typeof Currency>;

/**
 * A whole number from `min` to `max`. The bounds are checked before the integer (whose own check is for a safe
 * integer), so a value out of them is answered with them, not with ±2^53.
 */
export const count = (min: number, max: number) => z.number().min(min).max(max).int();

/** Money in integer minor units (cents), so sums are exact. */
export const Money = z.strictObject({
  amount: count(0, Number.MAX_SAFE_INTEGER),
  currency: Currency,
});
export type Money = z.infer<typeof Money>;

/** A product's name as the catalogue shows it: given at registration, and by each rename. */
export const ProductName = z.string().min(1).max(200);

export const Sku = z.string().regex(/^[A-Z0-9][A-Z0-9-]{0,63}$/, 'an upper-case SKU such as ABC-123');
export type Sku = z.infer<typeof Sku>;

export const OrderId = z.string().min(1).max(64);
export type OrderId = z.infer<typeof OrderId>;

export const CustomerId = z.string().min(1).max(CUSTOMER_ID_MAX_LENGTH);
export type CustomerId = z.infer<typeof CustomerId>;

/** A positive whole number of units. */
export const Quantity = z.int().min(1).max(1_000_000);

/** A caller's `Idempotency-Key`: what makes a command sent again the same command (an order's, a restock's). */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, '1 to 255 visible ASCII characters');
export type Quantity = z.infer<typeof Quantity>;

/** A stock level: zero or more units. */
export const StockLevel = z.int().min(0).max(STOCK_LEVEL_MAX);
export type StockLevel = z.infer<typeof StockLevel>;
