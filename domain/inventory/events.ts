import * as z from 'zod';
import { Money, OrderId, Quantity, Sku, StockLevel } from '../shared/values.js';

export const ProductRegistered = z.strictObject({
  type: z.literal('ProductRegistered'),
  data: z.strictObject({ sku: Sku, name: z.string().min(1).max(200), unitPrice: Money, initialStock: StockLevel }),
});
export type ProductRegistered = z.infer<typeof ProductRegistered>;

export const ProductRestocked = z.strictObject({
  type: z.literal('ProductRestocked'),
  data: z.strictObject({ sku: Sku, quantity: Quantity }),
});
export type ProductRestocked = z.infer<typeof ProductRestocked>;

const orderQuantity = z.strictObject({ sku: Sku, orderId: OrderId, quantity: Quantity });

export const StockReserved = z.strictObject({ type: z.literal('StockReserved'), data: orderQuantity });
export type StockReserved = z.infer<typeof StockReserved>;

export const ReservationReleased = z.strictObject({ type: z.literal('ReservationReleased'), data: orderQuantity });
export type ReservationReleased = z.infer<typeof ReservationReleased>;

/** The reserved units left the warehouse: they now count as sold. */
export const ReservationConfirmed = z.strictObject({ type: z.literal('ReservationConfirmed'), data: orderQuantity });
export type ReservationConfirmed = z.infer<typeof ReservationConfirmed>;

/** A cancelled, already confirmed order gave its units back to available stock. */
export const StockReturned = z.strictObject({ type: z.literal('StockReturned'), data: orderQuantity });
export type StockReturned = z.infer<typeof StockReturned>;

/** The events of a product's stream (`product-<SKU>`): a handful per product, however much it sells. */
export const ProductEvent = z.discriminatedUnion('type', [ProductRegistered, ProductRestocked]);
export type ProductEvent = z.infer<typeof ProductEvent>;

/** The events of one reservation's stream (`reservation-<SKU>/<order id>`): at most three. */
export const ReservationEvent = z.discriminatedUnion('type', [
  StockReserved,
  ReservationReleased,
  ReservationConfirmed,
  StockReturned,
]);
export type ReservationEvent = z.infer<typeof ReservationEvent>;

/** Every event that moves a SKU's stock. */
export const InventoryEvent = z.discriminatedUnion('type', [
  ProductRegistered,
  ProductRestocked,
  StockReserved,
  ReservationReleased,
  ReservationConfirmed,
  StockReturned,
]);
export type InventoryEvent = z.infer<typeof InventoryEvent>;
