import type { Money, Quantity, Sku, StockLevel } from '../shared/values.js';

// Types, not schemas, as the order's commands are (domain/order/commands.ts says why).

/** `registrationId`: the caller's key for this registration (`Idempotency-Key`), so a retry registers nothing more. */
export type RegisterProduct = {
  type: 'RegisterProduct';
  data: { sku: Sku; name: string; unitPrice: Money; initialStock: StockLevel; registrationId?: string | undefined };
};

/** `restockId`: the caller's key for this restock (`Idempotency-Key`), so a retry adds nothing more. */
export type RestockProduct = {
  type: 'RestockProduct';
  data: { sku: Sku; quantity: Quantity; restockId?: string | undefined };
};

/**
 * Units taken out of the available stock that no order will get: damaged, lost, or found missing at a count.
 * `writeOffId`: the caller's key for this write-off (`Idempotency-Key`), so a retry takes nothing more.
 */
export type WriteOffStock = {
  type: 'WriteOffStock';
  data: { sku: Sku; quantity: Quantity; writeOffId?: string | undefined };
};

/**
 * A new price for the orders placed from now on; orders placed before keep the price they were placed at.
 * `repriceId`: the caller's key for this new price (`Idempotency-Key`), so a late retry cannot undo a later one.
 */
export type RepriceProduct = {
  type: 'RepriceProduct';
  data: { sku: Sku; unitPrice: Money; repriceId?: string | undefined };
};

/**
 * A new name for the product, as the catalogue shows it from now on; an order holds no name, so none changes.
 * `renameId`: the caller's key for this new name (`Idempotency-Key`), so a late retry cannot undo a later one.
 */
export type RenameProduct = {
  type: 'RenameProduct';
  data: { sku: Sku; name: string; renameId?: string | undefined };
};

/**
 * The product is sold no more: no order is placed for it from now on, and it takes no restock. For good, so that a
 * retry, however late, finds it as it left it and needs no key (ADR 0028). Its stock stays as it is: orders in flight
 * settle, and what is left can be written off.
 */
export type DiscontinueProduct = { type: 'DiscontinueProduct'; data: { sku: Sku } };

/** What is said about a product as a whole: its catalogue facts and the stock supplied. */
export type ProductCommand =
  RegisterProduct | RestockProduct | RepriceProduct | RenameProduct | WriteOffStock | DiscontinueProduct;
