import { describe, expect, it } from 'vitest';
import {
  allocations,
  InventoryCommand,
  RegisterProduct,
  ReserveStock,
  RestockProduct,
  inventory,
  inventoryStreamId,
  type InventoryEvent,
} from '../../../domain/inventory/index.js';
import { fold } from '../../../domain/shared/decider.js';
import {
  DomainError,
  InsufficientStockError,
  ProductAlreadyRegisteredError,
  ProductNotFoundError,
  ReservationNotFoundError,
} from '../../../domain/shared/errors.js';
import { given } from '../../support/givenWhenThen.js';

const sku = 'ABC-123';
const unitPrice = { amount: 1999, currency: 'EUR' };
const spec = given(inventory);

const registered = (initialStock = 10): InventoryEvent => ({
  type: 'ProductRegistered',
  data: { sku, name: 'Blue mug', unitPrice, initialStock },
});
const restocked = (quantity: number): InventoryEvent => ({ type: 'ProductRestocked', data: { sku, quantity } });
const reserved = (orderId: string, quantity: number): InventoryEvent => ({
  type: 'StockReserved',
  data: { sku, orderId, quantity },
});
const released = (orderId: string, quantity: number): InventoryEvent => ({
  type: 'ReservationReleased',
  data: { sku, orderId, quantity },
});
const confirmed = (orderId: string, quantity: number): InventoryEvent => ({
  type: 'ReservationConfirmed',
  data: { sku, orderId, quantity },
});
const returned = (orderId: string, quantity: number): InventoryEvent => ({
  type: 'StockReturned',
  data: { sku, orderId, quantity },
});

const register = (initialStock = 10): InventoryCommand => ({
  type: 'RegisterProduct',
  data: { sku, name: 'Blue mug', unitPrice, initialStock },
});
const restock = (quantity: number): InventoryCommand => ({ type: 'RestockProduct', data: { sku, quantity } });
const reserve = (orderId: string, quantity: number): InventoryCommand => ({
  type: 'ReserveStock',
  data: { sku, orderId, quantity },
});
const release = (orderId: string): InventoryCommand => ({ type: 'ReleaseReservation', data: { sku, orderId } });
const confirm = (orderId: string): InventoryCommand => ({ type: 'ConfirmReservation', data: { sku, orderId } });
const giveBack = (orderId: string): InventoryCommand => ({ type: 'ReturnStock', data: { sku, orderId } });

describe('inventory decider', () => {
  describe('RegisterProduct', () => {
    it('registers a new product with its initial stock', () => {
      spec([])
        .when(register(10))
        .then([registered(10)]);
    });

    it('registers a product with no stock yet', () => {
      spec([])
        .when(register(0))
        .then([registered(0)]);
    });

    it('refuses to register the same SKU twice', () => {
      const error = spec([registered()]).when(register(5)).thenThrows(ProductAlreadyRegisteredError, {
        code: 'PRODUCT_ALREADY_REGISTERED',
        kind: 'conflict',
        sku,
      });
      expect(error).toBeInstanceOf(DomainError);
      expect(error.name).toBe('ProductAlreadyRegisteredError');
    });
  });

  describe('RestockProduct', () => {
    it('adds units to a registered product', () => {
      spec([registered()])
        .when(restock(5))
        .then([restocked(5)]);
    });

    it('refuses to restock a product that does not exist', () => {
      spec([]).when(restock(5)).thenThrows(ProductNotFoundError, { code: 'PRODUCT_NOT_FOUND', kind: 'not-found', sku });
    });
  });

  describe('ReserveStock', () => {
    it('reserves available units for an order', () => {
      spec([registered(10)])
        .when(reserve('order-1', 3))
        .then([reserved('order-1', 3)]);
    });

    it('may reserve every available unit', () => {
      spec([registered(10), reserved('order-1', 4)])
        .when(reserve('order-2', 6))
        .then([reserved('order-2', 6)]);
    });

    it('counts restocked units as available', () => {
      spec([registered(2), restocked(5)])
        .when(reserve('order-1', 7))
        .then([reserved('order-1', 7)]);
    });

    it('counts released and returned units as available again', () => {
      spec([
        registered(5),
        reserved('order-1', 3),
        released('order-1', 3),
        reserved('order-2', 2),
        confirmed('order-2', 2),
        returned('order-2', 2),
      ])
        .when(reserve('order-3', 5))
        .then([reserved('order-3', 5)]);
    });

    it('refuses more units than are available, net of other reservations and sales', () => {
      const error = spec([registered(10), reserved('order-1', 4), reserved('order-2', 3), confirmed('order-2', 3)])
        .when(reserve('order-3', 4))
        .thenThrows(InsufficientStockError, {
          code: 'OUT_OF_STOCK',
          kind: 'conflict',
          sku,
          requested: 4,
          available: 3,
        });
      expect(error.message).toBe(`Product ${sku} has 3 available, 4 requested.`);
    });

    it('refuses any unit of a product with no stock', () => {
      spec([registered(0)])
        .when(reserve('order-1', 1))
        .thenThrows(InsufficientStockError, { code: 'OUT_OF_STOCK', requested: 1, available: 0 });
    });

    it('refuses to reserve a product that does not exist', () => {
      spec([])
        .when(reserve('order-1', 1))
        .thenThrows(ProductNotFoundError, { code: 'PRODUCT_NOT_FOUND', kind: 'not-found', sku });
    });

    it('changes nothing when the order already holds a reservation (a redelivered step)', () => {
      spec([registered(10), reserved('order-1', 3)])
        .when(reserve('order-1', 3))
        .then([]);
    });

    it('changes nothing for a repeated order even with another quantity or too little stock', () => {
      spec([registered(3), reserved('order-1', 3)])
        .when(reserve('order-1', 50))
        .then([]);
    });

    it.each([
      ['released', [released('order-1', 3)]],
      ['sold', [confirmed('order-1', 3)]],
      ['sold and returned', [confirmed('order-1', 3), returned('order-1', 3)]],
    ])('changes nothing when the order’s reservation was already %s', (_, history) => {
      spec([registered(10), reserved('order-1', 3), ...history])
        .when(reserve('order-1', 3))
        .then([]);
    });

    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
      'reserves for an order id that is also a property of Object.prototype (%s)',
      (orderId) => {
        spec([registered(10)])
          .when(reserve(orderId, 2))
          .then([reserved(orderId, 2)]);
      },
    );
  });

  describe('ReleaseReservation', () => {
    it('gives the reserved units back, with the quantity the reservation held', () => {
      spec([registered(10), reserved('order-1', 3)])
        .when(release('order-1'))
        .then([released('order-1', 3)]);
    });

    it('releases only the named order’s reservation', () => {
      spec([registered(10), reserved('order-1', 3), reserved('order-2', 4)])
        .when(release('order-2'))
        .then([released('order-2', 4)]);
    });

    it('changes nothing when the order holds no reservation (compensation before reservation)', () => {
      spec([registered(10), reserved('order-1', 3)])
        .when(release('order-2'))
        .then([]);
    });

    it('changes nothing when the reservation was already released', () => {
      spec([registered(10), reserved('order-1', 3), released('order-1', 3)])
        .when(release('order-1'))
        .then([]);
    });

    it.each([
      ['sold', [confirmed('order-1', 3)]],
      ['sold and returned', [confirmed('order-1', 3), returned('order-1', 3)]],
    ])('changes nothing when the units were already %s', (_, history) => {
      spec([registered(10), reserved('order-1', 3), ...history])
        .when(release('order-1'))
        .then([]);
    });

    it('changes nothing for a product that does not exist', () => {
      spec([]).when(release('order-1')).then([]);
    });

    it('changes nothing for an order id that is a property of Object.prototype', () => {
      spec([registered(10)])
        .when(release('constructor'))
        .then([]);
    });
  });

  describe('ConfirmReservation', () => {
    it('sells the reserved units', () => {
      spec([registered(10), reserved('order-1', 3)])
        .when(confirm('order-1'))
        .then([confirmed('order-1', 3)]);
    });

    it('changes nothing when the units were already sold', () => {
      spec([registered(10), reserved('order-1', 3), confirmed('order-1', 3)])
        .when(confirm('order-1'))
        .then([]);
    });

    it('changes nothing when the sold units were already returned', () => {
      spec([registered(10), reserved('order-1', 3), confirmed('order-1', 3), returned('order-1', 3)])
        .when(confirm('order-1'))
        .then([]);
    });

    it('refuses to sell units the order never reserved', () => {
      const error = spec([registered(10), reserved('order-1', 3)])
        .when(confirm('order-2'))
        .thenThrows(ReservationNotFoundError, {
          code: 'RESERVATION_NOT_FOUND',
          kind: 'conflict',
          sku,
          orderId: 'order-2',
        });
      expect(error.name).toBe('ReservationNotFoundError');
    });

    it('refuses to sell units whose reservation was released', () => {
      spec([registered(10), reserved('order-1', 3), released('order-1', 3)])
        .when(confirm('order-1'))
        .thenThrows(ReservationNotFoundError, { code: 'RESERVATION_NOT_FOUND', kind: 'conflict', orderId: 'order-1' });
    });

    it('refuses for an order id that is a property of Object.prototype and holds nothing', () => {
      spec([registered(10)])
        .when(confirm('constructor'))
        .thenThrows(ReservationNotFoundError, { code: 'RESERVATION_NOT_FOUND', orderId: 'constructor' });
    });

    it('refuses to confirm for a product that does not exist', () => {
      spec([])
        .when(confirm('order-1'))
        .thenThrows(ProductNotFoundError, { code: 'PRODUCT_NOT_FOUND', kind: 'not-found', sku });
    });
  });

  describe('ReturnStock', () => {
    it('returns sold units to available stock, with the quantity that was sold', () => {
      spec([registered(10), reserved('order-1', 3), confirmed('order-1', 3)])
        .when(giveBack('order-1'))
        .then([returned('order-1', 3)]);
    });

    it('changes nothing when the units were already returned', () => {
      spec([registered(10), reserved('order-1', 3), confirmed('order-1', 3), returned('order-1', 3)])
        .when(giveBack('order-1'))
        .then([]);
    });

    it.each([
      ['only reserved', [reserved('order-1', 3)]],
      ['released', [reserved('order-1', 3), released('order-1', 3)]],
      ['never reserved', []],
    ])('changes nothing when the order’s units were %s', (_, history) => {
      spec([registered(10), ...history])
        .when(giveBack('order-1'))
        .then([]);
    });

    it('changes nothing for a product that does not exist', () => {
      spec([]).when(giveBack('order-1')).then([]);
    });
  });

  describe('evolve', () => {
    it('starts unregistered', () => {
      expect(inventory.initialState()).toEqual({ status: 'UNREGISTERED' });
    });

    it('keeps the counters and every order’s allocation', () => {
      const state = fold(inventory, [
        registered(10),
        restocked(5),
        reserved('order-1', 3),
        reserved('order-2', 4),
        reserved('order-3', 2),
        reserved('order-4', 1),
        released('order-1', 3),
        confirmed('order-2', 4),
        confirmed('order-3', 2),
        returned('order-3', 2),
      ]);
      expect(state).toMatchObject({
        status: 'REGISTERED',
        sku,
        name: 'Blue mug',
        unitPrice,
        initialStock: 10,
        restocked: 5,
        available: 10,
        reserved: 1,
        sold: 4,
      });
      expect(state.status === 'REGISTERED' && allocations(state.orders)).toEqual({
        'order-1': { quantity: 3, status: 'RELEASED' },
        'order-2': { quantity: 4, status: 'SOLD' },
        'order-3': { quantity: 2, status: 'RETURNED' },
        'order-4': { quantity: 1, status: 'RESERVED' },
      });
    });

    it('ignores events for a product that was never registered', () => {
      expect(fold(inventory, [restocked(5), reserved('order-1', 1)])).toEqual({ status: 'UNREGISTERED' });
    });

    it('does not change the state it is given', () => {
      const before = fold(inventory, [registered(10)]);
      const snapshot = structuredClone(before);
      inventory.evolve(before, reserved('order-1', 3));
      expect(before).toEqual(snapshot);
    });
  });

  it('names one stream per SKU', () => {
    expect(inventoryStreamId(sku)).toBe('inventory-ABC-123');
  });
});

describe('inventory command schemas', () => {
  const validRegister = { type: 'RegisterProduct', data: { sku, name: 'Blue mug', unitPrice, initialStock: 10 } };
  const validReserve = { type: 'ReserveStock', data: { sku, orderId: 'order-1', quantity: 2 } };

  it('accept well-formed commands', () => {
    expect(InventoryCommand.parse(validRegister)).toEqual(validRegister);
    expect(InventoryCommand.parse(validReserve)).toEqual(validReserve);
    expect(RestockProduct.safeParse({ type: 'RestockProduct', data: { sku: 'A1', quantity: 1 } }).success).toBe(true);
  });

  it.each([
    ['a fractional quantity', { ...validReserve.data, quantity: 1.5 }],
    ['a zero quantity', { ...validReserve.data, quantity: 0 }],
    ['a negative quantity', { ...validReserve.data, quantity: -1 }],
    ['a quantity as a string', { ...validReserve.data, quantity: '2' }],
    ['a lower-case SKU', { ...validReserve.data, sku: 'abc-123' }],
    ['a SKU starting with a dash', { ...validReserve.data, sku: '-ABC' }],
    ['an empty order id', { ...validReserve.data, orderId: '' }],
    ['an unknown extra field', { ...validReserve.data, note: 'hi' }],
  ])('ReserveStock rejects %s', (_, data) => {
    expect(ReserveStock.safeParse({ type: 'ReserveStock', data }).success).toBe(false);
  });

  it.each([
    ['a negative price', { ...validRegister.data, unitPrice: { amount: -1, currency: 'EUR' } }],
    ['a fractional price', { ...validRegister.data, unitPrice: { amount: 19.99, currency: 'EUR' } }],
    ['a lower-case currency', { ...validRegister.data, unitPrice: { amount: 1999, currency: 'eur' } }],
    ['an extra field on the price', { ...validRegister.data, unitPrice: { ...unitPrice, cents: true } }],
    ['a negative initial stock', { ...validRegister.data, initialStock: -1 }],
    ['an empty name', { ...validRegister.data, name: '' }],
  ])('RegisterProduct rejects %s', (_, data) => {
    expect(RegisterProduct.safeParse({ type: 'RegisterProduct', data }).success).toBe(false);
  });

  it('rejects an unknown field beside data', () => {
    expect(InventoryCommand.safeParse({ ...validReserve, extra: 1 }).success).toBe(false);
  });

  it('rejects an unknown command type', () => {
    expect(InventoryCommand.safeParse({ type: 'DeleteProduct', data: { sku } }).success).toBe(false);
  });
});
