import * as z from 'zod';
import { Money, OrderId, Quantity, Sku, StockLevel } from '../shared/values.js';

export const RegisterProduct = z.strictObject({
  type: z.literal('RegisterProduct'),
  data: z.strictObject({ sku: Sku, name: z.string().min(1).max(200), unitPrice: Money, initialStock: StockLevel }),
});
export type RegisterProduct = z.infer<typeof RegisterProduct>;

export const RestockProduct = z.strictObject({
  type: z.literal('RestockProduct'),
  data: z.strictObject({ sku: Sku, quantity: Quantity }),
});
export type RestockProduct = z.infer<typeof RestockProduct>;

export const ReserveStock = z.strictObject({
  type: z.literal('ReserveStock'),
  data: z.strictObject({ sku: Sku, orderId: OrderId, quantity: Quantity }),
});
export type ReserveStock = z.infer<typeof ReserveStock>;

const forOrder = z.strictObject({ sku: Sku, orderId: OrderId });

export const ReleaseReservation = z.strictObject({ type: z.literal('ReleaseReservation'), data: forOrder });
export type ReleaseReservation = z.infer<typeof ReleaseReservation>;

export const ConfirmReservation = z.strictObject({ type: z.literal('ConfirmReservation'), data: forOrder });
export type ConfirmReservation = z.infer<typeof ConfirmReservation>;

export const ReturnStock = z.strictObject({ type: z.literal('ReturnStock'), data: forOrder });
export type ReturnStock = z.infer<typeof ReturnStock>;

/** What is said about a product as a whole: its catalogue facts and the stock supplied. */
export const ProductCommand = z.discriminatedUnion('type', [RegisterProduct, RestockProduct]);
export type ProductCommand = z.infer<typeof ProductCommand>;

/** What is said about one order's hold on one SKU's units. */
export const ReservationCommand = z.discriminatedUnion('type', [
  ReserveStock,
  ReleaseReservation,
  ConfirmReservation,
  ReturnStock,
]);
export type ReservationCommand = z.infer<typeof ReservationCommand>;

export const InventoryCommand = z.discriminatedUnion('type', [
  RegisterProduct,
  RestockProduct,
  ReserveStock,
  ReleaseReservation,
  ConfirmReservation,
  ReturnStock,
]);
export type InventoryCommand = z.infer<typeof InventoryCommand>;
