import * as z from 'zod';
import { IdempotencyKey, Money, ProductName, Quantity, Sku, StockLevel } from '../shared/values.js';

/**
 * `registrationId` is there when the caller keyed the registration; products registered before keys were taken have
 * none.
 */
export const ProductRegistered = z.strictObject({
  type: z.literal('ProductRegistered'),
  data: z.strictObject({
    sku: Sku,
    name: ProductName,
    unitPrice: Money,
    initialStock: StockLevel,
    registrationId: IdempotencyKey.optional(),
  }),
});
export type ProductRegistered = z.infer<typeof ProductRegistered>;

/** `restockId` is there when the caller keyed the restock; restocks before keys were taken have none. */
export const ProductRestocked = z.strictObject({
  type: z.literal('ProductRestocked'),
  data: z.strictObject({ sku: Sku, quantity: Quantity, restockId: IdempotencyKey.optional() }),
});
export type ProductRestocked = z.infer<typeof ProductRestocked>;

/** Units taken out of the available stock for good; `writeOffId` is there when the caller keyed it. */
export const StockWrittenOff = z.strictObject({
  type: z.literal('StockWrittenOff'),
  data: z.strictObject({ sku: Sku, quantity: Quantity, writeOffId: IdempotencyKey.optional() }),
});
export type StockWrittenOff = z.infer<typeof StockWrittenOff>;

/**
 * The product's price from now on. It moves no stock, and changes no order placed before it. `repriceId` is there
 * when the caller keyed it; new prices before keys were taken have none.
 */
export const ProductRepriced = z.strictObject({
  type: z.literal('ProductRepriced'),
  data: z.strictObject({ sku: Sku, unitPrice: Money, repriceId: IdempotencyKey.optional() }),
});
export type ProductRepriced = z.infer<typeof ProductRepriced>;

/**
 * The product's name from now on. It moves no stock, and changes no order (an order's lines hold no name). `renameId`
 * is there when the caller keyed it.
 */
export const ProductRenamed = z.strictObject({
  type: z.literal('ProductRenamed'),
  data: z.strictObject({ sku: Sku, name: ProductName, renameId: IdempotencyKey.optional() }),
});
export type ProductRenamed = z.infer<typeof ProductRenamed>;

/** The product is sold no more, for good (ADR 0028): it moves no stock, and changes no order placed before it. */
export const ProductDiscontinued = z.strictObject({
  type: z.literal('ProductDiscontinued'),
  data: z.strictObject({ sku: Sku }),
});
export type ProductDiscontinued = z.infer<typeof ProductDiscontinued>;

/** The events of a product's stream (`product-<SKU>`): a handful per product, however much it sells. */
export const ProductEvent = z.discriminatedUnion('type', [
  ProductRegistered,
  ProductRestocked,
  ProductRepriced,
  ProductRenamed,
  StockWrittenOff,
  ProductDiscontinued,
]);
export type ProductEvent = z.infer<typeof ProductEvent>;
