import { describe, expect, it } from 'vitest';
import type { InventoryEvent } from '../../../domain/inventory/index.js';
import { InventoryView, inventoryProjection } from '../../../projections/index.js';
import { at, foldView, givenView, stored } from './givenView.js';

const sku = 'MUG-1';
const streamId = `inventory-${sku}`;
const price = { amount: 1250, currency: 'EUR' };

const registered: InventoryEvent = {
  type: 'ProductRegistered',
  data: { sku, name: 'Stoneware mug', unitPrice: price, initialStock: 10 },
};
const restocked = (quantity: number): InventoryEvent => ({ type: 'ProductRestocked', data: { sku, quantity } });
type OrderQuantityEvent = Exclude<InventoryEvent['type'], 'ProductRegistered' | 'ProductRestocked'>;
const forOrder =
  (type: OrderQuantityEvent) =>
  (orderId: string, quantity: number): InventoryEvent => ({ type, data: { sku, orderId, quantity } });
const reserved = forOrder('StockReserved');
const released = forOrder('ReservationReleased');
const confirmed = forOrder('ReservationConfirmed');
const returned = forOrder('StockReturned');

/** Stock right after registration, at version 1. */
const fresh: InventoryView = {
  sku,
  name: 'Stoneware mug',
  price,
  available: 10,
  reserved: 0,
  sold: 0,
  updatedAt: at(1),
};

const spec = givenView(inventoryProjection, streamId);

describe('inventory projection', () => {
  it('reads inventory streams and keys each view by SKU', () => {
    expect(inventoryProjection.name).toBe('inventory');
    expect(inventoryProjection.streamPrefix).toBe('inventory-');
    expect(inventoryProjection.key('inventory-ABC-123')).toEqual({ sku: 'ABC-123' });
  });

  describe('ProductRegistered', () => {
    it('creates the view with the initial stock available', () => {
      spec([]).when(registered).then(fresh);
    });

    it('throws when the SKU already has a view: RegisterProduct is refused twice, so this is corruption', () => {
      spec([registered])
        .when(registered)
        .thenThrows(/inventory-MUG-1: ProductRegistered at version 2 again/);
    });
  });

  describe('ProductRestocked', () => {
    it('adds to available stock', () => {
      spec([registered])
        .when(restocked(5))
        .then({ ...fresh, available: 15, updatedAt: at(2) });
    });
  });

  describe('StockReserved', () => {
    it('moves units from available to reserved', () => {
      spec([registered])
        .when(reserved('o1', 3))
        .then({ ...fresh, available: 7, reserved: 3, updatedAt: at(2) });
    });
  });

  describe('ReservationReleased', () => {
    it('moves units from reserved back to available', () => {
      spec([registered, reserved('o1', 3), reserved('o2', 4)])
        .when(released('o1', 3))
        .then({ ...fresh, available: 6, reserved: 4, updatedAt: at(4) });
    });
  });

  describe('ReservationConfirmed', () => {
    it('moves units from reserved to sold', () => {
      spec([registered, reserved('o1', 3), reserved('o2', 4)])
        .when(confirmed('o2', 4))
        .then({ ...fresh, available: 3, reserved: 3, sold: 4, updatedAt: at(4) });
    });
  });

  describe('StockReturned', () => {
    it('moves units from sold back to available', () => {
      spec([registered, reserved('o1', 3), confirmed('o1', 3)])
        .when(returned('o1', 3))
        .then({ ...fresh, available: 10, reserved: 0, sold: 0, updatedAt: at(4) });
    });
  });

  describe('an event before ProductRegistered (out of order, or a poison stream)', () => {
    it.each([
      ['ProductRestocked', restocked(1)],
      ['StockReserved', reserved('o1', 1)],
      ['ReservationReleased', released('o1', 1)],
      ['ReservationConfirmed', confirmed('o1', 1)],
      ['StockReturned', returned('o1', 1)],
    ])('throws on %s instead of inventing a view', (type, event) => {
      spec([])
        .when(event)
        .thenThrows(new RegExp(`^inventory-MUG-1: ${type} at version 1 before ProductRegistered$`));
    });
  });

  describe('InventoryView schema', () => {
    it('accepts every view the projection builds, unchanged', () => {
      const history = stored(streamId, [
        registered,
        restocked(2),
        reserved('o1', 3),
        reserved('o2', 4),
        released('o1', 3),
        confirmed('o2', 4),
        returned('o2', 4),
      ]);
      for (let n = 1; n <= history.length; n++) {
        const view = foldView(inventoryProjection, history.slice(0, n));
        expect(InventoryView.parse(view)).toStrictEqual(view);
      }
    });
  });
});
