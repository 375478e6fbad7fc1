import * as z from 'zod';
import { ProductEvent } from '../domain/inventory/index.js';
import { assertNever } from '../domain/shared/decider.js';
import { Money, Sku, StockLevel } from '../domain/shared/values.js';
import type { StoredEvent } from '../eventstore/types.js';
import type { Projection } from './projection.js';

const streamPrefix = 'product-';

/**
 * A product's catalogue facts as clients read them, and the stock supplied to it. The live figures (available,
 * reserved, sold) are not here: the SKU's stock balance holds them, moved by every order event that changes what an
 * order holds, as it commits, and the product query reads them from there. Unknown keys are stripped when parsing, as for the order view.
 */
export const ProductView = z.object({
  sku: Sku,
  name: z.string(),
  price: Money,
  supplied: StockLevel,
  updatedAt: z.iso.datetime(),
  /** There once the product is discontinued (ADR 0028); views written before it was an event have none. */
  discontinued: z.literal(true).optional(),
});
export type ProductView = z.infer<typeof ProductView>;

/**
 * The one partition of the products table's `bySku` index (serverless.yml), which lists the catalogue in SKU order.
 * One partition is enough: a product's item changes only when the back office registers, restocks, writes off,
 * reprices, renames or discontinues it, never with an order, and the index holds only what a listing shows. The index
 * is sparse: a discontinued product's view has no `listingShard`, so the listing shows what is for sale.
 */
export const LISTING_SHARD = '0';

/**
 * The products table's item: the view, plus the key that puts it in the `bySku` index while the product is for sale.
 * Clients never see it.
 */
export type StoredProductView = ProductView & { listingShard?: typeof LISTING_SHARD };

/** What a page of the catalogue shows of a product, as the `bySku` index projects it. */
export const ListedProduct = ProductView.pick({ sku: true, name: true, price: true });
export type ListedProduct = z.infer<typeof ListedProduct>;

const evolve = (view: StoredProductView | undefined, event: StoredEvent<ProductEvent>): StoredProductView => {
  const updatedAt = event.recordedAt;
  switch (event.type) {
    case 'ProductRegistered': {
      // RegisterProduct is refused for a registered SKU: a second ProductRegistered means a corrupt stream.
      if (view !== undefined) throw new Error(`${event.streamId}: ProductRegistered at version ${event.version} again`);
      const { sku, name, unitPrice, initialStock } = event.data;
      return { sku, name, price: unitPrice, supplied: initialStock, updatedAt, listingShard: LISTING_SHARD };
    }
    case 'ProductRestocked':
      if (view === undefined) {
        throw new Error(`${event.streamId}: ${event.type} at version ${event.version} before ProductRegistered`);
      }
      return { ...view, supplied: view.supplied + event.data.quantity, updatedAt };
    case 'StockWrittenOff':
      // What was supplied stays supplied: the live figures, in the balance, show what is left.
      if (view === undefined) {
        throw new Error(`${event.streamId}: ${event.type} at version ${event.version} before ProductRegistered`);
      }
      return { ...view, updatedAt };
    case 'ProductRepriced':
      if (view === undefined) {
        throw new Error(`${event.streamId}: ${event.type} at version ${event.version} before ProductRegistered`);
      }
      return { ...view, price: event.data.unitPrice, updatedAt };
    case 'ProductRenamed':
      if (view === undefined) {
        throw new Error(`${event.streamId}: ${event.type} at version ${event.version} before ProductRegistered`);
      }
      return { ...view, name: event.data.name, updatedAt };
    case 'ProductDiscontinued': {
      if (view === undefined) {
        throw new Error(`${event.streamId}: ${event.type} at version ${event.version} before ProductRegistered`);
      }
      // Out of the listing's index: the view is written whole, without the index's key.
      const { listingShard: _, ...rest } = view;
      return { ...rest, discontinued: true, updatedAt };
    }
    default:
      return assertNever(event);
  }
};

/** One view per product stream (`product-<SKU>`), keyed by `sku`. */
export const productsProjection: Projection<StoredProductView, ProductEvent> = {
  name: 'products',
  streamPrefix,
  key: (streamId) => ({ sku: streamId.slice(streamPrefix.length) }),
  events: ProductEvent,
  evolve,
};
