import * as z from 'zod';
import { IdempotencyKey, Money, Quantity, Sku, StockLevel } from '../shared/values.js';

export const RegisterProduct = z.strictObject({
  type: z.literal('RegisterProduct'),
  data: z.strictObject({ sku: Sku, name: z.string().min(1).max(200), unitPrice: Money, initialStock: StockLevel }),
});
export type RegisterProduct = z.infer<typeof RegisterProduct>;

/** `restockId`: the caller's key for this restock (`Idempotency-Key`), so a retry adds nothing more. */
export const RestockProduct = z.strictObject({
  type: z.literal('RestockProduct'),
  data: z.strictObject({ sku: Sku, quantity: Quantity, restockId: IdempotencyKey.optional() }),
});
export type RestockProduct = z.infer<typeof RestockProduct>;

/**
 * Units taken out of the available stock that no order will get: damaged, lost, or found missing at a count.
 * `writeOffId`: the caller's key for this write-off (`Idempotency-Key`), so a retry takes nothing more.
 */
export const WriteOffStock = z.strictObject({
  type: z.literal('WriteOffStock'),
  data: z.strictObject({ sku: Sku, quantity: Quantity, writeOffId: IdempotencyKey.optional() }),
});
export type WriteOffStock = z.infer<typeof WriteOffStock>;

/** A new price for the orders placed from now on; orders placed before keep the price they were placed at. */
export const RepriceProduct = z.strictObject({
  type: z.literal('RepriceProduct'),
  data: z.strictObject({ sku: Sku, unitPrice: Money }),
});
export type RepriceProduct = z.infer<typeof RepriceProduct>;

/** What is said about a product as a whole: its catalogue facts and the stock supplied. */
export const ProductCommand = z.discriminatedUnion('type', [
  RegisterProduct,
  RestockProduct,
  RepriceProduct,
  WriteOffStock,
]);
export type ProductCommand = z.infer<typeof ProductCommand>;
