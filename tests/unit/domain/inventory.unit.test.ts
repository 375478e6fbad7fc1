import { describe, expect, it } from 'vitest';
import {
  InventoryCommand,
  InventoryEvent,
  ProductCommand,
  RegisterProduct,
  ReleaseReservation,
  ReservationCommand,
  ReservationEvent,
  ReserveStock,
  RestockProduct,
  product,
  productStreamId,
  moveStock,
  noStock,
  reservation,
  reservationStreamId,
  stockBalanceId,
  stockMove,
  type ProductEvent,
  type ReservationState,
  type Stock,
} from '../../../domain/inventory/index.js';
import { fold } from '../../../domain/shared/decider.js';
import {
  DomainError,
  ProductAlreadyRegisteredError,
  ProductNotFoundError,
  ReservationNotFoundError,
} from '../../../domain/shared/errors.js';
import { given } from '../../support/givenWhenThen.js';

const sku = 'ABC-123';
const orderId = 'order-1';
const unitPrice = { amount: 1999, currency: 'EUR' };
const aProduct = given(product);
const held = given(reservation);

const registered = (initialStock = 10): ProductEvent => ({
  type: 'ProductRegistered',
  data: { sku, name: 'Blue mug', unitPrice, initialStock },
});
const restocked = (quantity: number): ProductEvent => ({ type: 'ProductRestocked', data: { sku, quantity } });

type OrderQuantityEvent = ReservationEvent['type'];
const forOrder =
  (type: OrderQuantityEvent) =>
  (quantity: number, id = orderId): ReservationEvent => ({ type, data: { sku, orderId: id, quantity } });
const reserved = forOrder('StockReserved');
const released = forOrder('ReservationReleased');
const confirmed = forOrder('ReservationConfirmed');
const returned = forOrder('StockReturned');

const register = (initialStock = 10): ProductCommand => ({
  type: 'RegisterProduct',
  data: { sku, name: 'Blue mug', unitPrice, initialStock },
});
const restock = (quantity: number): ProductCommand => ({ type: 'RestockProduct', data: { sku, quantity } });
const reserve = (quantity: number, id = orderId): ReservationCommand => ({
  type: 'ReserveStock',
  data: { sku, orderId: id, quantity },
});
const release = (id = orderId): ReservationCommand => ({ type: 'ReleaseReservation', data: { sku, orderId: id } });
const confirm = (id = orderId): ReservationCommand => ({ type: 'ConfirmReservation', data: { sku, orderId: id } });
const giveBack = (id = orderId): ReservationCommand => ({ type: 'ReturnStock', data: { sku, orderId: id } });

/** Every state a reservation of 3 units can be in once it exists, by the events that lead there. */
const histories: [Exclude<ReservationState['status'], 'NONE'>, ReservationEvent[]][] = [
  ['RESERVED', [reserved(3)]],
  ['RELEASED', [reserved(3), released(3)]],
  ['SOLD', [reserved(3), confirmed(3)]],
  ['RETURNED', [reserved(3), confirmed(3), returned(3)]],
];
const historyOf = (status: string): ReservationEvent[] => histories.find(([s]) => s === status)?.[1] ?? [];

describe('product decider', () => {
  describe('RegisterProduct', () => {
    it('registers a new product with its initial stock', () => {
      aProduct([])
        .when(register(10))
        .then([registered(10)]);
    });

    it('registers a product with no stock yet', () => {
      aProduct([])
        .when(register(0))
        .then([registered(0)]);
    });

    it('refuses to register the same SKU twice', () => {
      const error = aProduct([registered()]).when(register(5)).thenThrows(ProductAlreadyRegisteredError, {
        code: 'PRODUCT_ALREADY_REGISTERED',
        kind: 'conflict',
        sku,
      });
      expect(error).toBeInstanceOf(DomainError);
      expect(error.name).toBe('ProductAlreadyRegisteredError');
      expect(error.message).toBe(`Product ${sku} is already registered.`);
    });

    it('refuses to register it again, identically, after restocks', () => {
      aProduct([registered(10), restocked(5)])
        .when(register(10))
        .thenThrows(ProductAlreadyRegisteredError, { sku });
    });
  });

  describe('RestockProduct', () => {
    it('adds units to a registered product', () => {
      aProduct([registered()])
        .when(restock(5))
        .then([restocked(5)]);
    });

    it('adds units again on every restock: a restock is not a repeated command', () => {
      aProduct([registered(), restocked(5), restocked(5)])
        .when(restock(5))
        .then([restocked(5)]);
    });

    it('refuses to restock a product that does not exist', () => {
      const error = aProduct([])
        .when(restock(5))
        .thenThrows(ProductNotFoundError, { code: 'PRODUCT_NOT_FOUND', kind: 'not-found', sku });
      expect(error.name).toBe('ProductNotFoundError');
    });
  });

  describe('evolve', () => {
    it('starts unregistered', () => {
      expect(product.initialState()).toEqual({ status: 'UNREGISTERED' });
    });

    it('keeps the catalogue facts, the initial stock and the sum of the restocks, and nothing else', () => {
      expect(fold(product, [registered(10), restocked(5), restocked(2)])).toStrictEqual({
        status: 'REGISTERED',
        sku,
        name: 'Blue mug',
        unitPrice,
        initialStock: 10,
        restocked: 7,
      });
    });

    it('stays the same size however often the product is restocked', () => {
      const many = fold(product, [registered(0), ...Array.from({ length: 500 }, () => restocked(1))]);
      expect(many).toStrictEqual({ ...fold(product, [registered(0)]), restocked: 500 });
    });

    it('ignores a restock of a product that was never registered', () => {
      expect(fold(product, [restocked(5)])).toEqual({ status: 'UNREGISTERED' });
    });

    it('does not change the state it is given', () => {
      const before = fold(product, [registered(10)]);
      const snapshot = structuredClone(before);
      product.evolve(before, restocked(3));
      expect(before).toEqual(snapshot);
    });
  });
});

describe('reservation decider (one order’s hold on one SKU)', () => {
  describe('ReserveStock', () => {
    it('reserves the units the order asks for', () => {
      held([])
        .when(reserve(3))
        .then([reserved(3)]);
    });

    it('decides without knowing the stock: the SKU’s balance refuses what is not there, in the same write', () => {
      held([])
        .when(reserve(1_000_000))
        .then([reserved(1_000_000)]);
    });

    it.each(histories)(
      'changes nothing when the order’s reservation is already %s (a redelivered step)',
      (_, history) => {
        held(history).when(reserve(3)).then([]);
      },
    );

    it.each(histories)('changes nothing when it is already %s, even when asked for another quantity', (_, history) => {
      held(history).when(reserve(1)).then([]);
      held(history).when(reserve(50)).then([]);
    });

    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
      'reserves for an order id that is also a property of Object.prototype (%s)',
      (id) => {
        held([])
          .when(reserve(2, id))
          .then([reserved(2, id)]);
      },
    );
  });

  describe('ReleaseReservation', () => {
    it('gives the reserved units back, with the quantity the reservation holds', () => {
      held([reserved(3)])
        .when(release())
        .then([released(3)]);
    });

    it('changes nothing when the order holds no reservation (compensation before reservation)', () => {
      held([]).when(release()).then([]);
    });

    it.each(['RELEASED', 'SOLD', 'RETURNED'])('changes nothing when the reservation is already %s', (status) => {
      held(historyOf(status)).when(release()).then([]);
    });
  });

  describe('ConfirmReservation', () => {
    it('sells the reserved units, with the quantity the reservation holds', () => {
      held([reserved(3)])
        .when(confirm())
        .then([confirmed(3)]);
    });

    it.each(['SOLD', 'RETURNED'])('changes nothing when the units are already %s', (status) => {
      held(historyOf(status)).when(confirm()).then([]);
    });

    it('refuses to sell units the order never reserved', () => {
      const error = held([]).when(confirm()).thenThrows(ReservationNotFoundError, {
        code: 'RESERVATION_NOT_FOUND',
        kind: 'conflict',
        sku,
        orderId,
      });
      expect(error).toBeInstanceOf(DomainError);
      expect(error.name).toBe('ReservationNotFoundError');
      expect(error.message).toBe(`Order ${orderId} holds no reservation of ${sku}.`);
    });

    it('refuses to sell units whose reservation was released', () => {
      held(historyOf('RELEASED'))
        .when(confirm())
        .thenThrows(ReservationNotFoundError, { code: 'RESERVATION_NOT_FOUND', kind: 'conflict', sku, orderId });
    });

    it('refuses for an order id that is a property of Object.prototype and holds nothing', () => {
      held([])
        .when(confirm('constructor'))
        .thenThrows(ReservationNotFoundError, { code: 'RESERVATION_NOT_FOUND', orderId: 'constructor' });
    });
  });

  describe('ReturnStock', () => {
    it('returns sold units to available stock, with the quantity that was sold', () => {
      held(historyOf('SOLD'))
        .when(giveBack())
        .then([returned(3)]);
    });

    it.each(['NONE', 'RESERVED', 'RELEASED', 'RETURNED'])('changes nothing when the reservation is %s', (status) => {
      held(historyOf(status)).when(giveBack()).then([]);
    });
  });

  describe('giving back whatever the order holds (release and return, decided on one state)', () => {
    it.each([
      ['NONE', []],
      ['RESERVED', [released(3)]],
      ['RELEASED', []],
      ['SOLD', [returned(3)]],
      ['RETURNED', []],
    ])('from %s decides %j', (status, expected) => {
      const state = fold(reservation, historyOf(status));
      expect([...reservation.decide(release(), state), ...reservation.decide(giveBack(), state)]).toEqual(expected);
    });
  });

  describe('evolve', () => {
    it('starts with no reservation', () => {
      expect(reservation.initialState()).toEqual({ status: 'NONE' });
    });

    it.each(histories)('reaches %s, keeping the order, the SKU and the quantity', (status, history) => {
      expect(fold(reservation, history)).toStrictEqual({ status, sku, orderId, quantity: 3 });
    });

    it('does not change the state it is given', () => {
      const before = fold(reservation, [reserved(3)]);
      const snapshot = structuredClone(before);
      reservation.evolve(before, confirmed(3));
      expect(before).toEqual(snapshot);
    });
  });
});

describe('stock', () => {
  it.each<[string, InventoryEvent, Stock]>([
    ['ProductRegistered', registered(10), { available: 10, reserved: 0, sold: 0 }],
    ['ProductRegistered with no stock', registered(0), { available: 0, reserved: 0, sold: 0 }],
    ['ProductRestocked', restocked(5), { available: 5, reserved: 0, sold: 0 }],
    ['StockReserved', reserved(3), { available: -3, reserved: 3, sold: 0 }],
    ['ReservationReleased', released(3), { available: 3, reserved: -3, sold: 0 }],
    ['ReservationConfirmed', confirmed(3), { available: 0, reserved: -3, sold: 3 }],
    ['StockReturned', returned(3), { available: 3, reserved: 0, sold: -3 }],
  ])('moves the stock for %s by %j', (_, event, move) => {
    expect(stockMove(event)).toEqual(move);
  });

  it('moves the total only by the units supplied: reservations move units between counts', () => {
    const total = ({ available, reserved, sold }: Stock) => available + reserved + sold;
    expect(total(stockMove(registered(10)))).toBe(10);
    expect(total(stockMove(restocked(4)))).toBe(4);
    for (const event of [reserved(3), released(3), confirmed(3), returned(3)]) expect(total(stockMove(event))).toBe(0);
  });

  it('starts with nothing', () => {
    expect(noStock()).toEqual({ available: 0, reserved: 0, sold: 0 });
  });

  it('applies a move that leaves every count at zero or above', () => {
    expect(moveStock({ available: 5, reserved: 2, sold: 1 }, stockMove(reserved(5)))).toEqual({
      available: 0,
      reserved: 7,
      sold: 1,
    });
    expect(moveStock(noStock(), stockMove(registered(0)))).toEqual(noStock());
  });

  it.each<[string, string, Stock, InventoryEvent]>([
    ['available', 'StockReserved', { available: 2, reserved: 0, sold: 0 }, reserved(3)],
    ['reserved', 'ReservationReleased', { available: 0, reserved: 2, sold: 0 }, released(3)],
    ['reserved', 'ReservationConfirmed', { available: 0, reserved: 2, sold: 0 }, confirmed(3)],
    ['sold', 'StockReturned', { available: 0, reserved: 0, sold: 2 }, returned(3)],
  ])('refuses a move that would take %s below zero (%s)', (_, __, stock, event) => {
    expect(moveStock(stock, stockMove(event))).toBeUndefined();
  });

  it('refuses any reservation of a SKU whose stock was never moved (an unregistered product)', () => {
    expect(moveStock(noStock(), stockMove(reserved(1)))).toBeUndefined();
  });

  it('does not change the stock it is given', () => {
    const stock = { available: 5, reserved: 0, sold: 0 };
    moveStock(stock, stockMove(reserved(2)));
    expect(stock).toEqual({ available: 5, reserved: 0, sold: 0 });
  });
});

describe('stream and balance ids', () => {
  it('names one product stream per SKU', () => {
    expect(productStreamId(sku)).toBe('product-ABC-123');
  });

  it('names one reservation stream per SKU and order', () => {
    expect(reservationStreamId(sku, orderId)).toBe('reservation-ABC-123/order-1');
    expect(reservationStreamId(sku, 'order-2')).not.toBe(reservationStreamId(sku, orderId));
    expect(reservationStreamId('ABC-1', orderId)).not.toBe(reservationStreamId(sku, orderId));
  });

  it('keeps reservation streams apart from product streams', () => {
    expect(reservationStreamId(sku, orderId).startsWith('product-')).toBe(false);
  });

  it('names one stock balance per SKU', () => {
    expect(stockBalanceId(sku)).toBe('stock-ABC-123');
  });
});

describe('inventory command schemas', () => {
  const validRegister = { type: 'RegisterProduct', data: { sku, name: 'Blue mug', unitPrice, initialStock: 10 } };
  const validReserve = { type: 'ReserveStock', data: { sku, orderId, quantity: 2 } };
  const validRelease = { type: 'ReleaseReservation', data: { sku, orderId } };

  it('accept well-formed commands', () => {
    expect(InventoryCommand.parse(validRegister)).toEqual(validRegister);
    expect(InventoryCommand.parse(validReserve)).toEqual(validReserve);
    expect(RestockProduct.safeParse({ type: 'RestockProduct', data: { sku: 'A1', quantity: 1 } }).success).toBe(true);
    expect(ProductCommand.parse(validRegister)).toEqual(validRegister);
    expect(ReservationCommand.parse(validReserve)).toEqual(validReserve);
    expect(ReservationCommand.parse(validRelease)).toEqual(validRelease);
  });

  it('split into what is said of a product and what is said of one order’s reservation', () => {
    expect(ProductCommand.safeParse(validReserve).success).toBe(false);
    expect(ProductCommand.safeParse(validRelease).success).toBe(false);
    expect(ReservationCommand.safeParse(validRegister).success).toBe(false);
    expect(ReservationCommand.safeParse({ type: 'RestockProduct', data: { sku, quantity: 1 } }).success).toBe(false);
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

  it('ReleaseReservation takes no quantity: the reservation knows it', () => {
    expect(
      ReleaseReservation.safeParse({ type: 'ReleaseReservation', data: { ...validRelease.data, quantity: 2 } }).success,
    ).toBe(false);
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

describe('inventory event schemas', () => {
  it('accept every event the deciders decide, and keep product and reservation events apart', () => {
    const productEvents = [registered(10), restocked(5)];
    const reservationEvents = [reserved(3), released(3), confirmed(3), returned(3)];
    for (const event of [...productEvents, ...reservationEvents]) expect(InventoryEvent.parse(event)).toEqual(event);
    for (const event of reservationEvents) {
      expect(ReservationEvent.parse(event)).toEqual(event);
      expect(InventoryEvent.safeParse({ ...event, data: { ...event.data, quantity: 0 } }).success).toBe(false);
    }
    for (const event of productEvents) expect(ReservationEvent.safeParse(event).success).toBe(false);
  });
});
