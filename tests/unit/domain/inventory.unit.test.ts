import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ProductCommand,
  ProductEvent,
  ProductRegistered,
  ProductRestocked,
  product,
  productStreamId,
  moveStock,
  noStock,
  orderStockMoves,
  productStockMove,
  stockBalanceId,
  type SkuStockMove,
  type Stock,
  type StockMove,
} from '../../../domain/inventory/index.js';
import { RESTOCKS_REMEMBERED } from '../../../domain/inventory/state.js';
import { order, orderStreamId, type OrderEvent } from '../../../domain/order/index.js';
import { fold } from '../../../domain/shared/decider.js';
import {
  DomainError,
  ProductAlreadyRegisteredError,
  ProductDiscontinuedError,
  ProductNotFoundError,
  RegistrationKeyReusedError,
  RestockKeyReusedError,
  StockLimitExceededError,
  WriteOffKeyReusedError,
} from '../../../domain/shared/errors.js';
import { given } from '../../support/givenWhenThen.js';
import { orderPlaced, orderStockReserved } from '../../support/orderEvents.js';

const sku = 'ABC-123';
const unitPrice = { amount: 1999, currency: 'EUR' };
const aProduct = given(product);

const registered = (initialStock = 10): ProductEvent => ({
  type: 'ProductRegistered',
  data: { sku, name: 'Blue mug', unitPrice, initialStock },
});
const restocked = (quantity: number, restockId?: string): ProductEvent => ({
  type: 'ProductRestocked',
  data: { sku, quantity, ...(restockId === undefined ? {} : { restockId }) },
});

const writtenOff = (quantity: number, writeOffId?: string): ProductEvent => ({
  type: 'StockWrittenOff',
  data: { sku, quantity, ...(writeOffId === undefined ? {} : { writeOffId }) },
});
const writeOff = (quantity: number, writeOffId?: string): ProductCommand => ({
  type: 'WriteOffStock',
  data: { sku, quantity, ...(writeOffId === undefined ? {} : { writeOffId }) },
});

const newPrice = { amount: 2499, currency: 'EUR' };
const repriced = (price = newPrice): ProductEvent => ({ type: 'ProductRepriced', data: { sku, unitPrice: price } });
const reprice = (price = newPrice): ProductCommand => ({ type: 'RepriceProduct', data: { sku, unitPrice: price } });

const renamed = (name = 'Cobalt mug'): ProductEvent => ({ type: 'ProductRenamed', data: { sku, name } });
const rename = (name = 'Cobalt mug'): ProductCommand => ({ type: 'RenameProduct', data: { sku, name } });
const discontinued: ProductEvent = { type: 'ProductDiscontinued', data: { sku } };
const discontinue: ProductCommand = { type: 'DiscontinueProduct', data: { sku } };

const register = (initialStock = 10): ProductCommand => ({
  type: 'RegisterProduct',
  data: { sku, name: 'Blue mug', unitPrice, initialStock },
});
type Registration = Extract<ProductCommand, { type: 'RegisterProduct' }>['data'];
const keyedRegister = (registrationId: string, other: Partial<Registration> = {}): ProductCommand => ({
  type: 'RegisterProduct',
  data: { sku, name: 'Blue mug', unitPrice, initialStock: 10, registrationId, ...other },
});
const keyedRegistered = (registrationId: string): ProductEvent => ({
  type: 'ProductRegistered',
  data: { sku, name: 'Blue mug', unitPrice, initialStock: 10, registrationId },
});
const restock = (quantity: number, restockId?: string): ProductCommand => ({
  type: 'RestockProduct',
  data: { sku, quantity, ...(restockId === undefined ? {} : { restockId }) },
});

/** An order of two SKUs, 2 of one and 3 of the other, through every event that can move their stock. */
const orderId = 'order-1';
const placed = orderPlaced(orderId);
const stockReserved = orderStockReserved(orderId);
const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { orderId } };
const rejected: OrderEvent = { type: 'OrderRejected', data: { orderId, reason: 'PAYMENT_DECLINED' } };
const cancelled = (previousStatus: 'PENDING' | 'CONFIRMED'): OrderEvent => ({
  type: 'OrderCancelled',
  data: { orderId, previousStatus },
});
const awaited: OrderEvent = {
  type: 'PaymentAwaited',
  data: { orderId, since: '2026-11-30T10:00:00.000Z', until: '2026-11-30T10:03:00.000Z' },
};

/** The moves `event` makes, appended to an order stream that holds `history`. */
const movesAfter = (history: OrderEvent[], event: OrderEvent): SkuStockMove[] =>
  orderStockMoves(event, fold(order, history));

/** The moves of every event of `history`, each taken on the order as it was before it: as the store applies them. */
const movesOfHistory = (history: OrderEvent[]): SkuStockMove[] =>
  history.flatMap((event, i) => movesAfter(history.slice(0, i), event));

const reserve = (q: number): StockMove => ({ available: -q, reserved: q, sold: 0 });
const release = (q: number): StockMove => ({ available: q, reserved: -q, sold: 0 });
const sell = (q: number): StockMove => ({ available: 0, reserved: -q, sold: q });
const giveBack = (q: number): StockMove => ({ available: q, reserved: 0, sold: -q });
/** The order's two lines, each moved by `move` of its own quantity. */
const eachLine = (move: (q: number) => StockMove): SkuStockMove[] => [
  { sku: 'MUG-1', move: move(2) },
  { sku: 'TEA-9', move: move(3) },
];
const total = ({ available, reserved, sold }: Stock) => available + reserved + sold;

/** The one SKU move of `moves`, for a SKU `moves` must name. */
const moveOf = (moves: SkuStockMove[], ofSku: string): StockMove => {
  const found = moves.find((m) => m.sku === ofSku);
  if (!found) return expect.fail(`no move of ${ofSku} in ${JSON.stringify(moves)}`);
  return found.move;
};

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
      expect(error.message).toBe(
        `Product ${sku} is already registered; a registration sent again is answered as registered only under the Idempotency-Key it was first sent with.`,
      );
    });

    it('refuses to register it again, identically, after restocks', () => {
      aProduct([registered(10), restocked(5)])
        .when(register(10))
        .thenThrows(ProductAlreadyRegisteredError, { sku });
    });

    it('records a keyed registration with its key', () => {
      aProduct([])
        .when(keyedRegister('reg-1'))
        .then([keyedRegistered('reg-1')]);
    });

    it('records nothing for a keyed registration sent again, however late: after a new price and a restock', () => {
      aProduct([keyedRegistered('reg-1'), repriced(), restocked(5)])
        .when(keyedRegister('reg-1'))
        .then([]);
    });

    it('refuses the same key with another name, price or initial stock: no retry sends another registration', () => {
      const others: ProductCommand[] = [
        keyedRegister('reg-1', { name: 'Red mug' }),
        keyedRegister('reg-1', { unitPrice: newPrice }),
        keyedRegister('reg-1', { unitPrice: { amount: unitPrice.amount, currency: 'USD' } }),
        keyedRegister('reg-1', { initialStock: 11 }),
      ];
      for (const other of others) {
        const error = aProduct([keyedRegistered('reg-1')])
          .when(other)
          .thenThrows(RegistrationKeyReusedError, { code: 'REGISTRATION_KEY_REUSED', kind: 'unprocessable', sku });
        expect(error.message).toContain('another name, price or initial stock');
      }
    });

    it('tells a retry by the price it registered with, not the price the product has now', () => {
      aProduct([keyedRegistered('reg-1'), repriced()])
        .when(keyedRegister('reg-1', { unitPrice: newPrice }))
        .thenThrows(RegistrationKeyReusedError, { sku });
    });

    it('records a keyed registration once, whatever came after it, and refuses its key for any other one', () => {
      const money = fc.record({ amount: fc.integer({ min: 0, max: 5_000 }), currency: fc.constantFrom('EUR', 'USD') });
      const registration = fc.record({
        name: fc.constantFrom('Blue mug', 'Red mug'),
        unitPrice: money,
        initialStock: fc.integer({ min: 0, max: 50 }),
      });
      const after: fc.Arbitrary<ProductEvent> = fc.oneof(
        fc.integer({ min: 1, max: 20 }).map((quantity) => restocked(quantity)),
        money.map((price) => repriced(price)),
      );
      const change = fc.constantFrom('name', 'price', 'currency', 'stock');
      fc.assert(
        fc.property(registration, fc.array(after, { maxLength: 6 }), change, (data, later, changed) => {
          const command = { type: 'RegisterProduct', data: { sku, ...data, registrationId: 'reg-1' } } as const;
          const history = [...product.decide(command, product.initialState()), ...later];
          const state = fold(product, history, product.initialState());
          expect(product.decide(command, state)).toEqual([]);
          const other = {
            name: { ...command.data, name: `${data.name}!` },
            price: { ...command.data, unitPrice: { ...data.unitPrice, amount: data.unitPrice.amount + 1 } },
            currency: { ...command.data, unitPrice: { ...data.unitPrice, currency: 'GBP' } },
            stock: { ...command.data, initialStock: data.initialStock + 1 },
          }[changed];
          expect(() => product.decide({ type: 'RegisterProduct', data: other }, state)).toThrow(
            RegistrationKeyReusedError,
          );
        }),
      );
    });

    it('refuses a keyed registration of a SKU registered unkeyed, or under another key', () => {
      aProduct([registered()]).when(keyedRegister('reg-1')).thenThrows(ProductAlreadyRegisteredError, { sku });
      aProduct([keyedRegistered('reg-1')])
        .when(keyedRegister('reg-2'))
        .thenThrows(ProductAlreadyRegisteredError, { sku });
      aProduct([keyedRegistered('reg-1')])
        .when(register())
        .thenThrows(ProductAlreadyRegisteredError, { sku });
    });
  });

  describe('WriteOffStock', () => {
    it('takes units out of a registered product’s stock, and counts them written off', () => {
      aProduct([registered(10), restocked(5)])
        .when(writeOff(3))
        .then([writtenOff(3)]);
      const state = fold(product, [registered(10), writtenOff(3), writtenOff(2)], product.initialState());
      expect(state).toMatchObject({ initialStock: 10, restocked: 0, writtenOff: 5 });
    });

    it('leaves to the balance whether that many are available: the product does not know what orders hold', () => {
      aProduct([registered(1)])
        .when(writeOff(1_000))
        .then([writtenOff(1_000)]);
    });

    it('takes nothing for a retry of a keyed write-off, and refuses the key for another quantity', () => {
      aProduct([registered(), writtenOff(2, 'count-7')])
        .when(writeOff(2, 'count-7'))
        .then([]);
      aProduct([registered(), writtenOff(2, 'count-7')])
        .when(writeOff(3, 'count-7'))
        .thenThrows(WriteOffKeyReusedError, { code: 'WRITE_OFF_KEY_REUSED', kind: 'unprocessable', sku, quantity: 2 });
      // A restock's key is another list: the same key writes off.
      aProduct([registered(), restocked(2, 'count-7')])
        .when(writeOff(2, 'count-7'))
        .then([writtenOff(2, 'count-7')]);
    });

    // The decider alone, as for restocks.
    it(`remembers the ${RESTOCKS_REMEMBERED} latest keyed write-offs: an older key takes again`, () => {
      const later = Array.from({ length: RESTOCKS_REMEMBERED }, (_, i) => writtenOff(1, `later-${i}`));
      aProduct([registered(), writtenOff(1, 'key-1'), ...later.slice(1)])
        .when(writeOff(1, 'key-1'))
        .then([]);
      aProduct([registered(), writtenOff(1, 'key-1'), ...later])
        .when(writeOff(1, 'key-1'))
        .then([writtenOff(1, 'key-1')]);
    });

    it('refuses a SKU never registered', () => {
      aProduct([])
        .when(writeOff(1))
        .thenThrows(ProductNotFoundError, { code: 'PRODUCT_NOT_FOUND', kind: 'not-found', sku });
    });
  });

  describe('RepriceProduct', () => {
    it('gives a registered product its new price, which the product then has', () => {
      aProduct([registered(), restocked(5)])
        .when(reprice())
        .then([repriced()]);
      const state = fold(product, [registered(), repriced()], product.initialState());
      expect(state).toMatchObject({ status: 'REGISTERED', unitPrice: newPrice, name: 'Blue mug', initialStock: 10 });
    });

    it('records nothing for the price it has already, registered or given since', () => {
      aProduct([registered()]).when(reprice(unitPrice)).then([]);
      aProduct([registered(), repriced()]).when(reprice()).then([]);
      // Back to the first price is a new price.
      aProduct([registered(), repriced()])
        .when(reprice(unitPrice))
        .then([repriced(unitPrice)]);
    });

    it('records a keyed new price even at the price it has, so that its key is claimed (ADR 0025)', () => {
      const keyed = { type: 'RepriceProduct', data: { sku, unitPrice, repriceId: 'list-7' } } as const;
      aProduct([registered()])
        .when(keyed)
        .then([{ type: 'ProductRepriced', data: keyed.data }]);
    });

    it('takes another currency as another price', () => {
      aProduct([registered()])
        .when(reprice({ amount: unitPrice.amount, currency: 'USD' }))
        .then([repriced({ amount: unitPrice.amount, currency: 'USD' })]);
    });

    it('refuses a SKU never registered', () => {
      aProduct([])
        .when(reprice())
        .thenThrows(ProductNotFoundError, { code: 'PRODUCT_NOT_FOUND', kind: 'not-found', sku });
    });
  });

  describe('RenameProduct', () => {
    it('gives a registered product its new name, which the product then has, its price and stock as they were', () => {
      aProduct([registered(), restocked(5), repriced()])
        .when(rename())
        .then([renamed()]);
      const state = fold(product, [registered(), restocked(5), repriced(), renamed()], product.initialState());
      expect(state).toMatchObject({ status: 'REGISTERED', name: 'Cobalt mug', unitPrice: newPrice, restocked: 5 });
    });

    it('records nothing for the name it has already, registered or given since; back to the first is a new name', () => {
      aProduct([registered()]).when(rename('Blue mug')).then([]);
      aProduct([registered(), renamed()]).when(rename()).then([]);
      aProduct([registered(), renamed()])
        .when(rename('Blue mug'))
        .then([renamed('Blue mug')]);
    });

    it('records a keyed new name even at the name it has, so that its key is claimed (ADR 0027)', () => {
      const keyed = { type: 'RenameProduct', data: { sku, name: 'Blue mug', renameId: 'catalogue-7' } } as const;
      aProduct([registered()])
        .when(keyed)
        .then([{ type: 'ProductRenamed', data: keyed.data }]);
    });

    it('refuses a SKU never registered', () => {
      aProduct([])
        .when(rename())
        .thenThrows(ProductNotFoundError, { code: 'PRODUCT_NOT_FOUND', kind: 'not-found', sku });
    });
  });

  describe('DiscontinueProduct', () => {
    it('discontinues a registered product, which keeps its facts and its supply', () => {
      aProduct([registered(), restocked(5), renamed()])
        .when(discontinue)
        .then([discontinued]);
      const state = fold(product, [registered(), restocked(5), renamed(), discontinued], product.initialState());
      expect(state).toMatchObject({ status: 'REGISTERED', name: 'Cobalt mug', restocked: 5, discontinued: true });
    });

    it('records nothing for a product discontinued already: for good, so any retry finds it done', () => {
      aProduct([registered(), discontinued]).when(discontinue).then([]);
      aProduct([registered(), discontinued, repriced(), renamed()]).when(discontinue).then([]);
    });

    it('refuses every restock after it, but answers the retry of a keyed restock recorded before as a retry', () => {
      aProduct([registered(), discontinued])
        .when({ type: 'RestockProduct', data: { sku, quantity: 1 } })
        .thenThrows(ProductDiscontinuedError, { code: 'PRODUCT_DISCONTINUED', kind: 'unprocessable', skus: [sku] });
      aProduct([registered(), restocked(5, 'po-1'), discontinued])
        .when({ type: 'RestockProduct', data: { sku, quantity: 5, restockId: 'po-1' } })
        .then([]);
    });

    it('leaves what is left to write off, and the catalogue facts to change', () => {
      aProduct([registered(), discontinued])
        .when({ type: 'WriteOffStock', data: { sku, quantity: 3 } })
        .then([writtenOff(3)]);
      aProduct([registered(), discontinued]).when(rename()).then([renamed()]);
    });

    it('refuses a SKU never registered', () => {
      aProduct([])
        .when(discontinue)
        .thenThrows(ProductNotFoundError, { code: 'PRODUCT_NOT_FOUND', kind: 'not-found', sku });
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

    it('restocks up to the most units a SKU is ever supplied, and refuses a unit past it, so no figure leaves its bounds', () => {
      aProduct([registered(999_000_000), restocked(999_000)])
        .when(restock(1_000))
        .then([restocked(1_000)]);
      aProduct([registered(999_000_000), restocked(999_000), restocked(1_000)])
        .when(restock(1))
        .thenThrows(StockLimitExceededError, {
          code: 'STOCK_LIMIT_EXCEEDED',
          kind: 'unprocessable',
          sku,
          supplied: 1_000_000_000,
          quantity: 1,
          limit: 1_000_000_000,
        });
    });

    it('adds nothing for a retry of a keyed restock: same key, same quantity', () => {
      aProduct([registered(), restocked(5, 'key-1')])
        .when(restock(5, 'key-1'))
        .then([]);
      // Another key, or none, is another restock.
      aProduct([registered(), restocked(5, 'key-1')])
        .when(restock(5, 'key-2'))
        .then([restocked(5, 'key-2')]);
      aProduct([registered(), restocked(5, 'key-1')])
        .when(restock(5))
        .then([restocked(5)]);
    });

    it('refuses a key used for a restock of another quantity: it names another restock', () => {
      aProduct([registered(), restocked(5, 'key-1')])
        .when(restock(7, 'key-1'))
        .thenThrows(RestockKeyReusedError, { code: 'RESTOCK_KEY_REUSED', kind: 'unprocessable', sku, quantity: 5 });
    });

    // The decider alone: past its memory, the key's claim refuses the write (ADR 0024, tests/unit/application).
    it(`remembers the ${RESTOCKS_REMEMBERED} latest keyed restocks: an older key restocks again`, () => {
      const later = Array.from({ length: RESTOCKS_REMEMBERED }, (_, i) => restocked(1, `later-${i}`));
      aProduct([registered(), restocked(5, 'key-1'), ...later.slice(1)])
        .when(restock(5, 'key-1'))
        .then([]);
      aProduct([registered(), restocked(5, 'key-1'), ...later])
        .when(restock(5, 'key-1'))
        .then([restocked(5, 'key-1')]);
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

    it('keeps the catalogue facts, the initial stock and the sums of the restocks and write-offs, and nothing else', () => {
      expect(fold(product, [registered(10), restocked(5), writtenOff(1), restocked(2)])).toStrictEqual({
        status: 'REGISTERED',
        sku,
        name: 'Blue mug',
        unitPrice,
        initialStock: 10,
        restocked: 7,
        recentRestocks: [],
        writtenOff: 1,
        recentWriteOffs: [],
      });
    });

    it('stays the same size however often the product is restocked, keyed or not', () => {
      const many = fold(product, [registered(0), ...Array.from({ length: 500 }, () => restocked(1))]);
      expect(many).toStrictEqual({ ...fold(product, [registered(0)]), restocked: 500 });
      const keyed = fold(product, [registered(0), ...Array.from({ length: 500 }, (_, i) => restocked(1, `k-${i}`))]);
      expect(keyed.status === 'REGISTERED' && keyed.recentRestocks.map((r) => r.restockId)).toEqual(
        Array.from({ length: RESTOCKS_REMEMBERED }, (_, i) => `k-${500 - RESTOCKS_REMEMBERED + i}`),
      );
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

describe('product stock moves (productStockMove)', () => {
  it.each<[string, ProductEvent, Stock]>([
    ['ProductRegistered', registered(10), { available: 10, reserved: 0, sold: 0 }],
    ['ProductRegistered with no stock', registered(0), { available: 0, reserved: 0, sold: 0 }],
    ['ProductRestocked', restocked(5), { available: 5, reserved: 0, sold: 0 }],
    ['StockWrittenOff', writtenOff(2), { available: -2, reserved: 0, sold: 0 }],
  ])('moves the stock for %s by %j', (_, event, move) => {
    expect(productStockMove(event)).toEqual(move);
  });

  it('moves nothing, not even the balance, for a new price or name or discontinuing; a registration with no stock still moves it', () => {
    expect(productStockMove(repriced())).toBeUndefined();
    expect(productStockMove(renamed())).toBeUndefined();
    expect(productStockMove(discontinued)).toBeUndefined();
    expect(productStockMove(registered(0))).toEqual(noStock());
  });

  it('moves the total by exactly the units supplied', () => {
    expect(total(productStockMove(registered(10)) ?? noStock())).toBe(10);
    expect(total(productStockMove(restocked(4)) ?? noStock())).toBe(4);
  });
});

describe('order stock moves (orderStockMoves: what an order’s event moves, given the order before it)', () => {
  describe('StockReserved', () => {
    it('reserves every line’s units, each on its own SKU: available to reserved', () => {
      expect(movesAfter([placed], stockReserved)).toEqual(eachLine(reserve));
    });

    it.each<[string, OrderEvent[]]>([
      ['already holds its units reserved', [placed, stockReserved]],
      ['is CONFIRMED', [placed, stockReserved, confirmed]],
      ['is REJECTED', [placed, rejected]],
      ['is CANCELLED', [placed, cancelled('PENDING')]],
    ])('moves nothing for a StockReserved on an order that %s: the order does not come to hold more', (_, history) => {
      expect(movesAfter(history, stockReserved)).toEqual([]);
      // As the order's state has it: the event leaves what the order holds as it was.
      const before = fold(order, history);
      expect(order.evolve(before, stockReserved)).toStrictEqual(before);
    });

    it('reserves the quantities the event names', () => {
      const one: OrderEvent = { type: 'StockReserved', data: { orderId, lines: [{ sku: 'MUG-1', quantity: 7 }] } };
      expect(movesAfter([placed], one)).toEqual([{ sku: 'MUG-1', move: reserve(7) }]);
    });
  });

  describe('OrderConfirmed', () => {
    it('sells the units the order held reserved: reserved to sold', () => {
      expect(movesAfter([placed, stockReserved], confirmed)).toEqual(eachLine(sell));
    });

    it('sells them too when the order was parked for its payment', () => {
      expect(movesAfter([placed, stockReserved, awaited], confirmed)).toEqual(eachLine(sell));
    });

    it('moves nothing for an order that holds no reserved units (the decider refuses that confirmation)', () => {
      expect(movesAfter([placed], confirmed)).toEqual([]);
    });
  });

  describe('OrderRejected', () => {
    it('releases the units the order held reserved: reserved back to available', () => {
      expect(movesAfter([placed, stockReserved], rejected)).toEqual(eachLine(release));
    });

    it('moves nothing for an order rejected before it reserved anything (out of stock)', () => {
      expect(movesAfter([placed], { type: 'OrderRejected', data: { orderId, reason: 'OUT_OF_STOCK' } })).toEqual([]);
    });
  });

  describe('OrderCancelled', () => {
    it('releases the units a PENDING order held reserved', () => {
      expect(movesAfter([placed, stockReserved], cancelled('PENDING'))).toEqual(eachLine(release));
    });

    it('gives a CONFIRMED order’s sold units back to available', () => {
      expect(movesAfter([placed, stockReserved, confirmed], cancelled('CONFIRMED'))).toEqual(eachLine(giveBack));
    });

    it('moves nothing for a PENDING order that held nothing', () => {
      expect(movesAfter([placed], cancelled('PENDING'))).toEqual([]);
      expect(movesAfter([placed, awaited], cancelled('PENDING'))).toEqual([]);
    });
  });

  it.each<[string, OrderEvent[], OrderEvent]>([
    ['OrderPlaced', [], placed],
    ['PaymentAwaited on a PENDING order', [placed], awaited],
    ['PaymentAwaited on an order holding reserved units', [placed, stockReserved], awaited],
  ])('moves nothing for %s', (_, history, event) => {
    expect(movesAfter(history, event)).toEqual([]);
  });

  it.each([stockReserved, confirmed, rejected, cancelled('PENDING'), cancelled('CONFIRMED'), awaited])(
    'moves nothing for $type on an order that was never placed',
    (event) => {
      expect(movesAfter([], event)).toEqual([]);
    },
  );

  it('moves only the SKUs on the order’s lines, and never changes a SKU’s total', () => {
    const history = [placed, stockReserved, confirmed, cancelled('CONFIRMED')];
    const moves = movesOfHistory(history);
    expect(moves).toHaveLength(6);
    for (const { sku: moved, move } of moves) {
      expect(['MUG-1', 'TEA-9']).toContain(moved);
      expect(total(move)).toBe(0);
    }
  });

  /**
   * Each way an order can go, and what it holds at the end of it, as the net of its moves on each SKU: the units it
   * took from available, and where they are now (reserved, or sold), or nothing at all.
   */
  const nothing = { available: 0, reserved: 0, sold: 0 };
  const heldReserved = (q: number): Stock => ({ available: -q, reserved: q, sold: 0 });
  const heldSold = (q: number): Stock => ({ available: -q, reserved: 0, sold: q });
  it.each<[string, OrderEvent[], Stock, Stock]>([
    ['PENDING, before reserving', [placed], nothing, nothing],
    ['PENDING, parked for its payment before reserving', [placed, awaited], nothing, nothing],
    ['PENDING with its stock reserved', [placed, stockReserved], heldReserved(2), heldReserved(3)],
    [
      'PENDING with its stock reserved, parked for its payment',
      [placed, stockReserved, awaited],
      heldReserved(2),
      heldReserved(3),
    ],
    ['CONFIRMED', [placed, stockReserved, confirmed], heldSold(2), heldSold(3)],
    ['REJECTED after reserving', [placed, stockReserved, rejected], nothing, nothing],
    ['REJECTED before reserving', [placed, rejected], nothing, nothing],
    ['CANCELLED while PENDING, after reserving', [placed, stockReserved, cancelled('PENDING')], nothing, nothing],
    ['CANCELLED while PENDING, before reserving', [placed, cancelled('PENDING')], nothing, nothing],
    ['CANCELLED once CONFIRMED', [placed, stockReserved, confirmed, cancelled('CONFIRMED')], nothing, nothing],
  ])('leaves an order %s holding what its status says', (_, history, mug, tea) => {
    const moves = movesOfHistory(history);
    const net = (ofSku: string): Stock =>
      moves
        .filter((m) => m.sku === ofSku)
        .reduce(
          (sum, { move }) => ({
            available: sum.available + move.available,
            reserved: sum.reserved + move.reserved,
            sold: sum.sold + move.sold,
          }),
          noStock(),
        );
    expect({ mug: net('MUG-1'), tea: net('TEA-9') }).toEqual({ mug, tea });
  });

  it('does not change the order it is given', () => {
    const before = fold(order, [placed, stockReserved]);
    const snapshot = structuredClone(before);
    orderStockMoves(confirmed, before);
    orderStockMoves(cancelled('PENDING'), before);
    expect(before).toEqual(snapshot);
  });
});

describe('stock (moveStock)', () => {
  it('starts with nothing', () => {
    expect(noStock()).toEqual({ available: 0, reserved: 0, sold: 0 });
  });

  it('applies a move that leaves every count at zero or above', () => {
    expect(
      moveStock({ available: 2, reserved: 2, sold: 1 }, moveOf(movesAfter([placed], stockReserved), 'MUG-1')),
    ).toEqual({
      available: 0,
      reserved: 4,
      sold: 1,
    });
    expect(moveStock(noStock(), productStockMove(registered(0)) ?? noStock())).toEqual(noStock());
    expect(moveStock(noStock(), productStockMove(registered(3)) ?? noStock())).toEqual({
      available: 3,
      reserved: 0,
      sold: 0,
    });
  });

  it.each<[string, string, Stock, StockMove]>([
    [
      'available',
      'StockReserved',
      { available: 1, reserved: 0, sold: 0 },
      moveOf(movesAfter([placed], stockReserved), 'MUG-1'),
    ],
    [
      'reserved',
      'OrderConfirmed',
      { available: 0, reserved: 1, sold: 0 },
      moveOf(movesAfter([placed, stockReserved], confirmed), 'MUG-1'),
    ],
    [
      'reserved',
      'OrderRejected',
      { available: 0, reserved: 1, sold: 0 },
      moveOf(movesAfter([placed, stockReserved], rejected), 'MUG-1'),
    ],
    [
      'sold',
      'OrderCancelled from CONFIRMED',
      { available: 0, reserved: 0, sold: 1 },
      moveOf(movesAfter([placed, stockReserved, confirmed], cancelled('CONFIRMED')), 'MUG-1'),
    ],
  ])('refuses a move that would take %s below zero (%s)', (_, __, stock, move) => {
    expect(moveStock(stock, move)).toBeUndefined();
  });

  it('refuses any reservation of a SKU whose stock was never moved (an unregistered product)', () => {
    expect(moveStock(noStock(), moveOf(movesAfter([placed], stockReserved), 'TEA-9'))).toBeUndefined();
  });

  it('takes the last unit: a reservation of exactly what is available', () => {
    expect(
      moveStock({ available: 3, reserved: 0, sold: 0 }, moveOf(movesAfter([placed], stockReserved), 'TEA-9')),
    ).toEqual({
      available: 0,
      reserved: 3,
      sold: 0,
    });
  });

  it('does not change the stock it is given', () => {
    const stock = { available: 5, reserved: 0, sold: 0 };
    moveStock(stock, reserve(2));
    expect(stock).toEqual({ available: 5, reserved: 0, sold: 0 });
  });
});

describe('stream and balance ids', () => {
  it('names one product stream per SKU', () => {
    expect(productStreamId(sku)).toBe('product-ABC-123');
    expect(productStreamId('ABC-1')).not.toBe(productStreamId(sku));
  });

  it('keeps product streams apart from order streams, which hold what each order holds of the stock', () => {
    expect(orderStreamId(orderId).startsWith('product-')).toBe(false);
    expect(productStreamId(sku).startsWith('order-')).toBe(false);
  });

  it('names one stock balance per SKU', () => {
    expect(stockBalanceId(sku)).toBe('stock-ABC-123');
    expect(stockBalanceId('ABC-1')).not.toBe(stockBalanceId(sku));
  });
});

// What a caller sends is checked at the edge; each event a command decides, against these schemas before its append.
describe('what a product event may hold', () => {
  const validRegister = { type: 'ProductRegistered', data: { sku, name: 'Blue mug', unitPrice, initialStock: 10 } };
  const validRestock = { type: 'ProductRestocked', data: { sku, quantity: 2 } };

  it('accept well-formed events', () => {
    expect(ProductEvent.parse(validRegister)).toEqual(validRegister);
    expect(ProductEvent.parse(validRestock)).toEqual(validRestock);
    expect(ProductRestocked.safeParse({ type: 'ProductRestocked', data: { sku: 'A1', quantity: 1 } }).success).toBe(
      true,
    );
  });

  it.each([
    ['a fractional quantity', { ...validRestock.data, quantity: 1.5 }],
    ['a zero quantity', { ...validRestock.data, quantity: 0 }],
    ['a negative quantity', { ...validRestock.data, quantity: -1 }],
    ['a quantity as a string', { ...validRestock.data, quantity: '2' }],
    ['a lower-case SKU', { ...validRestock.data, sku: 'abc-123' }],
    ['a SKU starting with a dash', { ...validRestock.data, sku: '-ABC' }],
    ['an unknown extra field', { ...validRestock.data, note: 'hi' }],
  ])('ProductRestocked rejects %s', (_, data) => {
    expect(ProductRestocked.safeParse({ type: 'ProductRestocked', data }).success).toBe(false);
  });

  it.each([
    ['a negative price', { ...validRegister.data, unitPrice: { amount: -1, currency: 'EUR' } }],
    ['a fractional price', { ...validRegister.data, unitPrice: { amount: 19.99, currency: 'EUR' } }],
    ['a lower-case currency', { ...validRegister.data, unitPrice: { amount: 1999, currency: 'eur' } }],
    ['an extra field on the price', { ...validRegister.data, unitPrice: { ...unitPrice, cents: true } }],
    ['a negative initial stock', { ...validRegister.data, initialStock: -1 }],
    ['an empty name', { ...validRegister.data, name: '' }],
  ])('ProductRegistered rejects %s', (_, data) => {
    expect(ProductRegistered.safeParse({ type: 'ProductRegistered', data }).success).toBe(false);
  });

  it('rejects an unknown field beside data', () => {
    expect(ProductEvent.safeParse({ ...validRestock, extra: 1 }).success).toBe(false);
  });

  it('rejects an unknown event type', () => {
    expect(ProductEvent.safeParse({ type: 'ProductDeleted', data: { sku } }).success).toBe(false);
  });

  it.each([
    ['an empty name', { sku, name: '' }],
    ['a name of 201 characters', { sku, name: 'x'.repeat(201) }],
    ['no name', { sku }],
    ['an unknown extra field', { sku, name: 'Cobalt mug', note: 'hi' }],
  ])('ProductRenamed rejects %s', (_, data) => {
    expect(ProductEvent.safeParse({ type: 'ProductRenamed', data }).success).toBe(false);
  });
});

describe('product event schemas', () => {
  it('accept every event the product decider decides', () => {
    for (const event of [registered(10), registered(0), restocked(5), repriced(), renamed()]) {
      expect(ProductEvent.parse(event)).toEqual(event);
    }
    expect(ProductEvent.safeParse({ ...restocked(5), data: { sku, quantity: 0 } }).success).toBe(false);
  });

  it('keep order events out of a product stream', () => {
    for (const event of [placed, stockReserved, confirmed, rejected, cancelled('CONFIRMED')]) {
      expect(ProductEvent.safeParse(event).success).toBe(false);
    }
  });
});
