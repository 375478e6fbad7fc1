import { describe, expect, it } from 'vitest';
import { productStreamId, type ProductEvent } from '../../../domain/inventory/index.js';
import { orderStreamId, type OrderEvent } from '../../../domain/order/index.js';
import { ListedProduct, ProductView, type StoredProductView, productsProjection } from '../../../projections/index.js';
import { oneUnitPlaced } from '../../support/orderEvents.js';
import { at, foldView, givenView, stored } from './givenView.js';

const sku = 'MUG-1';
const streamId = productStreamId(sku);
const price = { amount: 1250, currency: 'EUR' };

const registered = (initialStock = 10): ProductEvent => ({
  type: 'ProductRegistered',
  data: { sku, name: 'Stoneware mug', unitPrice: price, initialStock },
});
const restocked = (quantity: number): ProductEvent => ({ type: 'ProductRestocked', data: { sku, quantity } });

/** The order events that move this SKU's stock balance (ADR 0013): none of them is the products projection's. */
const orderId = 'o1';
const stockMovingOrderEvents: OrderEvent[] = [
  ...oneUnitPlaced(orderId, sku, price),
  { type: 'OrderConfirmed', data: { orderId } },
  { type: 'OrderRejected', data: { orderId, reason: 'OUT_OF_STOCK' } },
  { type: 'OrderCancelled', data: { orderId, previousStatus: 'CONFIRMED' } },
];

/** The product right after registration, at version 1, with the key that lists it in the `bySku` index. */
const fresh: StoredProductView = {
  sku,
  name: 'Stoneware mug',
  price,
  supplied: 10,
  updatedAt: at(1),
  listingShard: '0',
};

const spec = givenView(productsProjection, streamId);

describe('products projection', () => {
  it('reads product streams and keys each view by SKU', () => {
    expect(productsProjection.name).toBe('products');
    expect(productsProjection.streamPrefix).toBe('product-');
    expect(productsProjection.key('product-ABC-123')).toEqual({ sku: 'ABC-123' });
  });

  it('reads the SKU’s product stream, keyed by its SKU', () => {
    expect(streamId.startsWith(productsProjection.streamPrefix)).toBe(true);
    expect(productsProjection.key(streamId)).toEqual({ sku });
  });

  it('skips order streams: reserving, selling and giving back units move the stock balance, not the view', () => {
    expect(orderStreamId(orderId).startsWith(productsProjection.streamPrefix)).toBe(false);
  });

  describe('ProductRegistered', () => {
    it('creates the view with the initial stock as the stock supplied', () => {
      spec([]).when(registered()).then(fresh);
    });

    it('creates the view of a product registered with no stock', () => {
      spec([])
        .when(registered(0))
        .then({ ...fresh, supplied: 0 });
    });

    it('throws when the SKU already has a view: RegisterProduct is refused twice, so this is corruption', () => {
      spec([registered()])
        .when(registered())
        .thenThrows(/^product-MUG-1: ProductRegistered at version 2 again$/);
    });
  });

  describe('ProductRestocked', () => {
    it('adds to the stock supplied and keeps the catalogue facts', () => {
      spec([registered()])
        .when(restocked(5))
        .then({ ...fresh, supplied: 15, updatedAt: at(2) });
    });

    it('adds every restock', () => {
      spec([registered(), restocked(5), restocked(2)])
        .when(restocked(1))
        .then({ ...fresh, supplied: 18, updatedAt: at(4) });
    });

    it('throws on a restock before ProductRegistered (out of order, or a poison stream) instead of inventing a view', () => {
      spec([])
        .when(restocked(1))
        .thenThrows(/^product-MUG-1: ProductRestocked at version 1 before ProductRegistered$/);
    });
  });

  describe('StockWrittenOff', () => {
    it('keeps what was supplied and the catalogue facts: the balance shows what is left', () => {
      spec([registered(), restocked(5)])
        .when({ type: 'StockWrittenOff', data: { sku, quantity: 2 } })
        .then({ ...fresh, supplied: 15, updatedAt: at(3) });
    });

    it('throws on a write-off before ProductRegistered instead of inventing a view', () => {
      spec([])
        .when({ type: 'StockWrittenOff', data: { sku, quantity: 1 } })
        .thenThrows(/^product-MUG-1: StockWrittenOff at version 1 before ProductRegistered$/);
    });
  });

  describe('ProductRenamed', () => {
    it('sets the name and keeps the price and the stock supplied', () => {
      spec([registered(), restocked(5)])
        .when({ type: 'ProductRenamed', data: { sku, name: 'Cobalt mug' } })
        .then({ ...fresh, name: 'Cobalt mug', supplied: 15, updatedAt: at(3) });
    });

    it('throws on a new name before ProductRegistered instead of inventing a view', () => {
      spec([])
        .when({ type: 'ProductRenamed', data: { sku, name: 'Cobalt mug' } })
        .thenThrows(/^product-MUG-1: ProductRenamed at version 1 before ProductRegistered$/);
    });
  });

  describe('ProductDiscontinued', () => {
    it('marks the view discontinued and takes it out of the listing’s index (no listingShard), keeping its facts', () => {
      const { listingShard: _, ...unlisted } = fresh;
      spec([registered(), restocked(5)])
        .when({ type: 'ProductDiscontinued', data: { sku } })
        .then({ ...unlisted, supplied: 15, updatedAt: at(3), discontinued: true });
    });

    it('keeps it out of the listing through what may come after: a new name or price, a write-off', () => {
      const view = foldView(
        productsProjection,
        stored(streamId, [
          registered(),
          { type: 'ProductDiscontinued', data: { sku } },
          { type: 'ProductRenamed', data: { sku, name: 'Cobalt mug' } },
          { type: 'StockWrittenOff', data: { sku, quantity: 10 } },
        ] as ProductEvent[]),
      );
      expect(view).toMatchObject({ name: 'Cobalt mug', discontinued: true });
      expect(view).not.toHaveProperty('listingShard');
      expect(ProductView.parse(view)).toMatchObject({ discontinued: true });
    });

    it('throws on discontinuing before ProductRegistered instead of inventing a view', () => {
      spec([])
        .when({ type: 'ProductDiscontinued', data: { sku } })
        .thenThrows(/^product-MUG-1: ProductDiscontinued at version 1 before ProductRegistered$/);
    });
  });

  describe('ProductRepriced', () => {
    it('sets the price and keeps the other catalogue facts and the stock supplied', () => {
      const newPrice = { amount: 1500, currency: 'USD' };
      spec([registered(), restocked(5)])
        .when({ type: 'ProductRepriced', data: { sku, unitPrice: newPrice } })
        .then({ ...fresh, price: newPrice, supplied: 15, updatedAt: at(3) });
    });

    it('throws on a new price before ProductRegistered instead of inventing a view', () => {
      spec([])
        .when({ type: 'ProductRepriced', data: { sku, unitPrice: price } })
        .thenThrows(/^product-MUG-1: ProductRepriced at version 1 before ProductRegistered$/);
    });
  });

  describe('events it does not read', () => {
    it.each(stockMovingOrderEvents)('treats $type as a poison event: it belongs to an order stream', (event) => {
      expect(productsProjection.events.safeParse(event).success).toBe(false);
    });

    it('treats an event of the removed reservation streams as a poison event too', () => {
      const legacy = { type: 'ReservationConfirmed', data: { sku, orderId, quantity: 1 } };
      expect(productsProjection.events.safeParse(legacy).success).toBe(false);
    });

    it('parses the product events', () => {
      for (const event of [registered(), restocked(2)]) {
        expect(productsProjection.events.parse(event)).toEqual(event);
      }
    });
  });

  describe('ProductView schema', () => {
    const { listingShard: _, ...freshView } = fresh;

    it('accepts every view the projection builds, and reads it back without the listing key', () => {
      const history = stored(streamId, [registered(), restocked(2), restocked(7)]);
      for (let n = 1; n <= history.length; n++) {
        const folded = foldView(productsProjection, history.slice(0, n));
        if (!folded) throw new Error(`no view after ${n} events`);
        const { listingShard, ...view } = folded;
        expect(listingShard).toBe('0');
        expect(ProductView.parse({ ...view, listingShard })).toStrictEqual(view);
      }
    });

    it('strips unknown keys when parsing, so the live stock figures never leak in from an item', () => {
      expect(ProductView.parse({ ...fresh, available: 7, reserved: 3, sold: 0 })).toStrictEqual(freshView);
    });

    it('lists a product by what the bySku index projects of it: its SKU, name and price', () => {
      const { sku: s, name, price: p, listingShard } = fresh;
      expect(ListedProduct.parse({ sku: s, name, price: p, listingShard })).toStrictEqual({ sku: s, name, price: p });
      expect(ListedProduct.safeParse({ sku: s, name }).success).toBe(false);
    });

    it('rejects a view without the stock supplied, or with a negative one', () => {
      const { supplied: _, ...withoutSupplied } = fresh;
      expect(ProductView.safeParse(withoutSupplied).success).toBe(false);
      expect(ProductView.safeParse({ ...fresh, supplied: -1 }).success).toBe(false);
    });
  });
});
