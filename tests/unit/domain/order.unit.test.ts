import { describe, expect, it } from 'vitest';
import {
  keepsPayment,
  OrderCancelled,
  type OrderCommand,
  OrderStatus,
  OrderEvent,
  OrderPlaced,
  OrderRejected,
  type PlaceOrder,
  StockReserved,
  order,
  orderStreamId,
  orderTotal,
  terminalStatuses,
  type OrderLine,
  type RejectionReason,
} from '../../../domain/order/index.js';
import { shownOrderEvent } from '../../../domain/order/shown.js';
import { fold } from '../../../domain/shared/decider.js';
import {
  DomainError,
  DuplicateOrderLineError,
  InvalidOrderTransitionError,
  MixedCurrenciesError,
  OrderTotalTooLargeError,
  OrderAlreadyPlacedError,
  OrderNotFoundError,
  StockNotReservedError,
} from '../../../domain/shared/errors.js';
import { given } from '../../support/givenWhenThen.js';
import { eur, mug, orderPlaced, orderStockReserved, tea } from '../../support/orderEvents.js';

const orderId = 'order-1';
const customerId = 'customer-1';
const paymentToken = 'tok_approve';
const lines = [mug, tea];
const spec = given(order);

const placed = orderPlaced(orderId, paymentToken);
const stockReserved = orderStockReserved(orderId);
/** A PENDING order that holds its units reserved: the only order that can be confirmed. */
const reserved = [placed, stockReserved];
const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { orderId } };
const rejected = (reason: RejectionReason = 'OUT_OF_STOCK'): OrderEvent => ({
  type: 'OrderRejected',
  data: { orderId, reason },
});
const cancelled = (previousStatus: 'PENDING' | 'CONFIRMED'): OrderEvent => ({
  type: 'OrderCancelled',
  data: { orderId, previousStatus },
});

/** The saga parked the order's payment: it stays PENDING, holding whatever it held. */
const awaitedEvent: OrderEvent = {
  type: 'PaymentAwaited',
  data: { orderId, since: '2026-11-30T09:00:00.000Z', until: '2026-11-30T09:03:00.000Z' },
};

const place = (data: Partial<PlaceOrder['data']> = {}): OrderCommand => ({
  type: 'PlaceOrder',
  data: { orderId, customerId, lines, paymentToken, ...data },
});
const reserveStock: OrderCommand = { type: 'ReserveStock', data: { orderId } };
const confirm: OrderCommand = { type: 'ConfirmOrder', data: { orderId } };
const reject = (reason: RejectionReason = 'OUT_OF_STOCK'): OrderCommand => ({
  type: 'RejectOrder',
  data: { orderId, reason },
});
const cancel: OrderCommand = { type: 'CancelOrder', data: { orderId } };

describe('order decider', () => {
  describe('PlaceOrder', () => {
    it('places a new order and prices it from its lines', () => {
      spec([]).when(place()).then([placed]);
    });

    it.each([
      ['pending', [placed]],
      ['pending with its stock reserved', reserved],
      ['confirmed', [...reserved, confirmed]],
      ['rejected', [placed, rejected()]],
      ['cancelled', [placed, cancelled('PENDING')]],
    ])('changes nothing when the same order is placed again while %s (an idempotent retry)', (_, history) => {
      spec(history).when(place()).then([]);
    });

    it('recognises a retry whose lines list the same fields in another order', () => {
      const reordered = lines.map(({ sku, quantity, unitPrice }) => ({
        unitPrice: { currency: unitPrice.currency, amount: unitPrice.amount },
        quantity,
        sku,
      }));
      spec([placed])
        .when(place({ lines: reordered }))
        .then([]);
    });

    it('recognises a retry whose lines come in another order (a cart rebuilt from a map)', () => {
      spec([placed])
        .when(place({ lines: [tea, mug] }))
        .then([]);
    });

    it.each([
      ['other lines', { lines: [{ sku: 'MUG-1', quantity: 1, unitPrice: eur(1250) }] }],
      ['one line fewer', { lines: [tea] }],
      ['one line more', { lines: [mug, tea, { sku: 'CUP-3', quantity: 1, unitPrice: eur(800) }] }],
      [
        'the same SKUs with their quantities swapped',
        {
          lines: [
            { ...mug, quantity: tea.quantity },
            { ...tea, quantity: mug.quantity },
          ],
        },
      ],
      ['a different quantity', { lines: [mug, { ...tea, quantity: tea.quantity + 1 }] }],
      ['another customer', { customerId: 'customer-2' }],
      ['another payment token', { paymentToken: 'tok_other' }],
    ])('refuses to reuse the order id for %s', (_, change) => {
      const error = spec([placed])
        .when(place(change))
        .thenThrows(OrderAlreadyPlacedError, { code: 'ORDER_ALREADY_PLACED', kind: 'unprocessable', orderId });
      expect(error).toBeInstanceOf(DomainError);
    });

    it('treats a retry after a price change as the same order: prices were captured at the first placement', () => {
      spec([placed])
        .when(place({ lines: [mug, { ...tea, unitPrice: eur(500) }] }))
        .then([]);
    });

    it('refuses an order listing the same product on two lines', () => {
      spec([])
        .when(place({ lines: [...lines, { sku: 'MUG-1', quantity: 1, unitPrice: eur(1250) }] }))
        .thenThrows(DuplicateOrderLineError, { code: 'DUPLICATE_ORDER_LINE', kind: 'unprocessable', sku: 'MUG-1' });
    });

    it('refuses an order priced in more than one currency', () => {
      spec([])
        .when(place({ lines: [mug, { sku: 'TEA-9', quantity: 1, unitPrice: { amount: 499, currency: 'USD' } }] }))
        .thenThrows(MixedCurrenciesError, {
          code: 'MIXED_CURRENCIES',
          kind: 'unprocessable',
          currencies: ['EUR', 'USD'],
        });
    });
  });

  describe('ReserveStock', () => {
    it('reserves every line’s units of a pending order, by SKU and quantity', () => {
      spec([placed]).when(reserveStock).then([stockReserved]);
    });

    it('reserves those of a single-line order', () => {
      spec([{ ...placed, data: { ...placed.data, lines: [tea], total: eur(1497) } }])
        .when(reserveStock)
        .then([{ type: 'StockReserved', data: { orderId, lines: [{ sku: 'TEA-9', quantity: 3 }] } }]);
    });

    it('decides without knowing the stock: each SKU’s balance refuses what is not there, in the same write', () => {
      const huge = [{ ...mug, quantity: 1_000_000 }];
      spec([{ ...placed, data: { ...placed.data, lines: huge, total: eur(1_250_000_000) } }])
        .when(reserveStock)
        .then([{ type: 'StockReserved', data: { orderId, lines: [{ sku: 'MUG-1', quantity: 1_000_000 }] } }]);
    });

    it('reserves for an order parked for its payment before it reserved anything', () => {
      spec([placed, awaitedEvent]).when(reserveStock).then([stockReserved]);
    });

    it.each([
      ['holds its units reserved already (a redelivered step)', reserved],
      ['holds them and is parked for its payment', [...reserved, awaitedEvent]],
      ['is CONFIRMED', [...reserved, confirmed]],
      ['is REJECTED before it reserved anything (out of stock)', [placed, rejected('OUT_OF_STOCK')]],
      ['is REJECTED after it reserved', [...reserved, rejected('PAYMENT_DECLINED')]],
      ['is CANCELLED while PENDING', [placed, cancelled('PENDING')]],
      ['is CANCELLED after it reserved', [...reserved, cancelled('PENDING')]],
      ['is CANCELLED once CONFIRMED', [...reserved, confirmed, cancelled('CONFIRMED')]],
    ])('changes nothing when the order %s', (_, history) => {
      spec(history).when(reserveStock).then([]);
    });

    it('refuses an order that does not exist', () => {
      spec([])
        .when(reserveStock)
        .thenThrows(OrderNotFoundError, { code: 'ORDER_NOT_FOUND', kind: 'not-found', orderId });
    });

    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
      'reserves for an order id that is also a property of Object.prototype (%s)',
      (id) => {
        given(order)([{ ...placed, data: { ...placed.data, orderId: id } }])
          .when({ type: 'ReserveStock', data: { orderId: id } })
          .then([{ ...stockReserved, data: { ...stockReserved.data, orderId: id } }]);
      },
    );
  });

  describe('ConfirmOrder', () => {
    it('confirms a pending order that holds its units reserved', () => {
      spec(reserved).when(confirm).then([confirmed]);
    });

    it('records when it confirmed, which the order then holds until it is cancelled', () => {
      const at = '2026-12-03T09:00:00.000Z';
      const timed = { type: 'ConfirmOrder', data: { orderId, confirmedAt: at } } as const;
      spec(reserved)
        .when(timed)
        .then([{ type: 'OrderConfirmed', data: { orderId, confirmedAt: at } }]);
      const done = fold(order, [...reserved, { type: 'OrderConfirmed', data: { orderId, confirmedAt: at } }]);
      expect(done).toMatchObject({ status: 'CONFIRMED', confirmedAt: at });
      const cancelled: OrderEvent = { type: 'OrderCancelled', data: { orderId, previousStatus: 'CONFIRMED' } };
      expect(
        fold(order, [...reserved, { type: 'OrderConfirmed', data: { orderId, confirmedAt: at } }, cancelled]),
      ).not.toHaveProperty('confirmedAt');
      // A confirmation recorded before it said when: the order holds no time.
      expect(fold(order, [...reserved, confirmed])).not.toHaveProperty('confirmedAt');
    });

    it('confirms one parked for its payment, too', () => {
      spec([...reserved, awaitedEvent])
        .when(confirm)
        .then([confirmed]);
    });

    it('refuses to confirm a pending order that reserved nothing: it would sell units it does not hold', () => {
      const error = spec([placed]).when(confirm).thenThrows(StockNotReservedError, {
        code: 'STOCK_NOT_RESERVED',
        kind: 'conflict',
        orderId,
      });
      expect(error).toBeInstanceOf(DomainError);
      expect(error.name).toBe('StockNotReservedError');
      expect(error.message).toBe(`Order ${orderId} holds no reserved stock to sell.`);
    });

    it('refuses it while the order is parked for its payment without reserved units', () => {
      spec([placed, awaitedEvent]).when(confirm).thenThrows(StockNotReservedError, { orderId });
    });

    it('changes nothing when the order is already confirmed', () => {
      spec([...reserved, confirmed])
        .when(confirm)
        .then([]);
    });

    it('refuses an order that does not exist', () => {
      spec([]).when(confirm).thenThrows(OrderNotFoundError, { code: 'ORDER_NOT_FOUND', kind: 'not-found', orderId });
    });

    it.each([
      ['REJECTED', [placed, rejected()]],
      ['REJECTED', [...reserved, rejected('PAYMENT_DECLINED')]],
      ['CANCELLED', [placed, cancelled('PENDING')]],
      ['CANCELLED', [...reserved, cancelled('PENDING')]],
    ])('refuses to confirm a %s order', (from, history) => {
      const error = spec(history).when(confirm).thenThrows(InvalidOrderTransitionError, {
        code: 'INVALID_ORDER_TRANSITION',
        kind: 'conflict',
        orderId,
        from,
        to: 'CONFIRMED',
      });
      expect(error.message).toBe(`Order ${orderId} is ${from} and cannot become CONFIRMED.`);
    });
  });

  describe('RejectOrder', () => {
    it.each(['OUT_OF_STOCK', 'PAYMENT_DECLINED'] as const)('rejects a pending order (%s)', (reason) => {
      spec([placed])
        .when(reject(reason))
        .then([rejected(reason)]);
    });

    it('records which of its lines were short when it rejects an order OUT_OF_STOCK', () => {
      const data = { orderId, reason: 'OUT_OF_STOCK' as const, outOfStock: [tea.sku] };
      spec([placed])
        .when({ type: 'RejectOrder', data })
        .then([{ type: 'OrderRejected', data }]);
      const state = fold(order, [placed, { type: 'OrderRejected', data }], order.initialState());
      expect(state).toMatchObject({ status: 'REJECTED', rejectionReason: 'OUT_OF_STOCK', outOfStock: [tea.sku] });
    });

    it('names no short line but its own, and only for OUT_OF_STOCK: a payment fails for the order, not a line', () => {
      const pending = fold(order, [placed], order.initialState());
      const foreign: OrderCommand = {
        type: 'RejectOrder',
        data: { orderId, reason: 'OUT_OF_STOCK', outOfStock: ['NOT-ITS-SKU'] },
      };
      const declined: OrderCommand = {
        type: 'RejectOrder',
        data: { orderId, reason: 'PAYMENT_DECLINED', outOfStock: [tea.sku] },
      };
      for (const command of [foreign, declined]) {
        expect(() => order.decide(command, pending)).toThrow('not its short lines');
      }
    });

    it('rejects a pending order that holds its units reserved (they go back with the rejection)', () => {
      spec(reserved)
        .when(reject('PAYMENT_DECLINED'))
        .then([rejected('PAYMENT_DECLINED')]);
    });

    it('changes nothing when the order is already rejected, whatever the reason given again', () => {
      spec([placed, rejected('OUT_OF_STOCK')])
        .when(reject('PAYMENT_DECLINED'))
        .then([]);
    });

    it('refuses an order that does not exist', () => {
      spec([]).when(reject()).thenThrows(OrderNotFoundError, { code: 'ORDER_NOT_FOUND', kind: 'not-found', orderId });
    });

    it.each([
      ['CONFIRMED', [...reserved, confirmed]],
      ['CANCELLED', [placed, cancelled('PENDING')]],
    ])('refuses to reject a %s order', (from, history) => {
      spec(history).when(reject()).thenThrows(InvalidOrderTransitionError, {
        code: 'INVALID_ORDER_TRANSITION',
        kind: 'conflict',
        from,
        to: 'REJECTED',
      });
    });
  });

  describe('CancelOrder', () => {
    it('cancels a pending order and records that it was pending', () => {
      spec([placed])
        .when(cancel)
        .then([cancelled('PENDING')]);
    });

    it('cancels a pending order that holds its units reserved, as pending (they are released)', () => {
      spec(reserved)
        .when(cancel)
        .then([cancelled('PENDING')]);
    });

    it('cancels a confirmed order and records that it was confirmed (its stock must be returned)', () => {
      spec([...reserved, confirmed])
        .when(cancel)
        .then([cancelled('CONFIRMED')]);
    });

    it.each([
      ['pending', [placed, cancelled('PENDING')]],
      ['confirmed', [...reserved, confirmed, cancelled('CONFIRMED')]],
    ])('appends nothing when an order cancelled once %s is cancelled again (a retried cancel)', (_, history) => {
      spec(history).when(cancel).then([]);
    });

    it('refuses to cancel a rejected order', () => {
      spec([placed, rejected()]).when(cancel).thenThrows(InvalidOrderTransitionError, {
        code: 'INVALID_ORDER_TRANSITION',
        kind: 'conflict',
        from: 'REJECTED',
        to: 'CANCELLED',
      });
    });

    it('refuses an order that does not exist', () => {
      spec([]).when(cancel).thenThrows(OrderNotFoundError, { code: 'ORDER_NOT_FOUND', kind: 'not-found', orderId });
    });
  });

  describe('evolve', () => {
    const details = { orderId, customerId, lines, total: eur(3997), paymentToken };

    it('starts with no order', () => {
      expect(order.initialState()).toEqual({ status: 'NONE' });
    });

    it.each([
      ['placed', [placed], { ...details, status: 'PENDING' }],
      ['placed with its stock reserved', reserved, { ...details, status: 'PENDING', stockReserved: true }],
      ['confirmed', [...reserved, confirmed], { ...details, status: 'CONFIRMED' }],
      [
        'rejected',
        [...reserved, rejected('PAYMENT_DECLINED')],
        { ...details, status: 'REJECTED', rejectionReason: 'PAYMENT_DECLINED' },
      ],
      [
        'cancelled after confirmation',
        [...reserved, confirmed, cancelled('CONFIRMED')],
        { ...details, status: 'CANCELLED', cancelledFrom: 'CONFIRMED' },
      ],
      [
        'cancelled while pending, its stock reserved',
        [...reserved, cancelled('PENDING')],
        { ...details, status: 'CANCELLED', cancelledFrom: 'PENDING' },
      ],
    ])('folds an order %s into its state', (_, history, expected) => {
      expect(fold(order, history)).toStrictEqual(expected);
    });

    it('forgets the reservation once the order settles: what a settled order holds follows from its status', () => {
      for (const settled of [confirmed, rejected(), cancelled('PENDING')]) {
        expect(fold(order, [...reserved, settled])).not.toHaveProperty('stockReserved');
      }
    });

    it('ignores StockReserved on an order that is no longer PENDING', () => {
      expect(fold(order, [...reserved, confirmed, stockReserved])).toStrictEqual(fold(order, [...reserved, confirmed]));
      expect(fold(order, [placed, rejected(), stockReserved])).toStrictEqual(fold(order, [placed, rejected()]));
    });

    it('carries every field of OrderPlaced into every state, one it does not name included', () => {
      // A field a later schema adds to OrderPlaced (a customer's note, say) must not need evolve to be taught it.
      const withNote = { ...placed, data: { ...placed.data, note: 'leave at the door' } } as OrderEvent;
      const histories = [
        [withNote, stockReserved, awaitedEvent],
        [withNote, stockReserved, confirmed],
        [withNote, stockReserved, rejected()],
        [withNote, stockReserved, confirmed, cancelled('CONFIRMED')],
        [withNote, stockReserved, cancelled('PENDING')],
      ];
      for (const history of histories) expect(fold(order, history)).toHaveProperty('note', 'leave at the door');
    });

    it('ignores events for an order that was never placed', () => {
      expect(fold(order, [stockReserved, confirmed, cancelled('PENDING')])).toEqual({ status: 'NONE' });
    });
  });

  it('knows which states are terminal', () => {
    expect([...terminalStatuses].sort()).toEqual(['CANCELLED', 'REJECTED']);
  });

  it('names one stream per order', () => {
    expect(orderStreamId(orderId)).toBe('order-order-1');
  });
});

describe('orderTotal', () => {
  it('sums quantity times unit price over the lines, in minor units', () => {
    expect(orderTotal(lines)).toEqual(eur(2 * 1250 + 3 * 499));
  });

  it('prices a single line', () => {
    expect(orderTotal([{ sku: 'A', quantity: 7, unitPrice: { amount: 3, currency: 'JPY' } }])).toEqual({
      amount: 21,
      currency: 'JPY',
    });
  });

  it('counts free lines as zero', () => {
    expect(orderTotal([...lines, { sku: 'GIFT', quantity: 1, unitPrice: eur(0) }])).toEqual(eur(3997));
  });

  it('refuses lines in mixed currencies and names each currency once', () => {
    const mixed: OrderLine[] = [
      { sku: 'A', quantity: 1, unitPrice: eur(100) },
      { sku: 'B', quantity: 1, unitPrice: { amount: 100, currency: 'USD' } },
      { sku: 'C', quantity: 1, unitPrice: eur(100) },
    ];
    expect(() => orderTotal(mixed)).toThrow(MixedCurrenciesError);
    expect(() => orderTotal(mixed)).toThrow(
      expect.objectContaining({ code: 'MIXED_CURRENCIES', kind: 'unprocessable', currencies: ['EUR', 'USD'] }),
    );
  });

  it('refuses a total past the largest amount recorded exactly, and takes the largest itself', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(orderTotal([{ sku: 'A', quantity: 1, unitPrice: eur(max) }])).toEqual(eur(max));
    const over: OrderLine[] = [
      { sku: 'A', quantity: 1, unitPrice: eur(max) },
      { sku: 'B', quantity: 1, unitPrice: eur(1) },
    ];
    expect(() => orderTotal(over)).toThrow(
      expect.objectContaining({ code: 'ORDER_TOTAL_TOO_LARGE', kind: 'unprocessable', currency: 'EUR' }),
    );
    expect(() => orderTotal([{ sku: 'A', quantity: 2, unitPrice: eur(max) }])).toThrow(OrderTotalTooLargeError);
  });
});

// What a caller sends is checked at the edge (api/schemas.ts); each event a command decides, against these schemas
// before its append.
describe('what an order event may hold', () => {
  const withLine = (line: Record<string, unknown>) => ({ ...placed, data: { ...placed.data, lines: [line] } });

  it.each([
    ['a fractional quantity', withLine({ ...mug, quantity: 1.5 })],
    ['a zero quantity', withLine({ ...mug, quantity: 0 })],
    ['a lower-case SKU', withLine({ ...mug, sku: 'mug-1' })],
    ['a negative price', withLine({ ...mug, unitPrice: eur(-1) })],
    ['a fractional price', withLine({ ...mug, unitPrice: eur(12.5) })],
    ['a price without a currency', withLine({ ...mug, unitPrice: { amount: 100 } })],
    ['an unknown field on a line', withLine({ ...mug, discount: 10 })],
    ['an unknown field on the order', { ...placed, data: { ...placed.data, coupon: 'FREE' } }],
    ['no lines', { ...placed, data: { ...placed.data, lines: [] } }],
    ['an empty payment token', { ...placed, data: { ...placed.data, paymentToken: '' } }],
    ['a missing customer', { ...placed, data: { orderId, lines, total: placed.data.total, paymentToken } }],
  ])('OrderPlaced rejects %s', (_, event) => {
    expect(OrderPlaced.safeParse(event).success).toBe(false);
  });

  it('OrderRejected takes only the known reasons', () => {
    expect(OrderRejected.safeParse(rejected('PAYMENT_DECLINED')).success).toBe(true);
    expect(OrderRejected.safeParse({ ...rejected(), data: { orderId, reason: 'BORED' } }).success).toBe(false);
  });

  it('OrderCancelled rejects an unknown field and an empty order id', () => {
    const event = cancelled('PENDING');
    expect(OrderCancelled.safeParse({ ...event, data: { ...event.data, why: 'x' } }).success).toBe(false);
    expect(OrderCancelled.safeParse({ ...event, data: { ...event.data, orderId: '' } }).success).toBe(false);
  });
});

describe('order event schemas', () => {
  it('accept every event the decider decides', () => {
    for (const event of [placed, stockReserved, confirmed, rejected(), cancelled('CONFIRMED'), awaitedEvent]) {
      expect(OrderEvent.parse(event)).toEqual(event);
    }
  });

  const withStockLines = (lines: unknown[]) => ({ ...stockReserved, data: { orderId, lines } });
  it.each([
    ['no lines', withStockLines([])],
    ['a zero quantity', withStockLines([{ sku: 'MUG-1', quantity: 0 }])],
    ['a fractional quantity', withStockLines([{ sku: 'MUG-1', quantity: 1.5 }])],
    ['a lower-case SKU', withStockLines([{ sku: 'mug-1', quantity: 1 }])],
    ['a price on a line: the stock knows units, not money', withStockLines([mug])],
    ['an empty order id', { ...stockReserved, data: { ...stockReserved.data, orderId: '' } }],
  ])('StockReserved rejects %s', (_, event) => {
    expect(StockReserved.safeParse(event).success).toBe(false);
  });
});

describe("an event as the order's history shows it", () => {
  it('shows every event the decider decides, all but the payment token', () => {
    const events = [placed, stockReserved, confirmed, rejected(), cancelled('CONFIRMED'), awaitedEvent];
    for (const event of events) {
      const { paymentToken: _, ...shownData } = event.data as Record<string, unknown>;
      expect(shownOrderEvent(event)).toEqual({ type: event.type, data: shownData });
    }
    expect(JSON.stringify(shownOrderEvent(placed))).not.toContain(placed.data.paymentToken);
  });

  it('drops a field its shown form does not name, rather than show or refuse it', () => {
    const withSecret = { ...confirmed, data: { ...confirmed.data, cardNumber: '4242424242424242' } };
    expect(shownOrderEvent(withSecret)).toEqual(confirmed);
  });

  it("shows an event it cannot read (a later version's) by its type alone, none of its data", () => {
    expect(shownOrderEvent({ type: 'OrderShipped', data: { orderId, carrierToken: 'secret' } })).toEqual({
      type: 'OrderShipped',
      data: {},
    });
    expect(shownOrderEvent({ type: 'OrderConfirmed', data: { id: orderId } })).toEqual({
      type: 'OrderConfirmed',
      data: {},
    });
  });
});

describe('parking the payment (AwaitPayment)', () => {
  const since = '2026-11-30T10:00:00.000Z';
  const until = '2026-11-30T10:03:00.000Z';
  const awaitPayment: OrderCommand = { type: 'AwaitPayment', data: { orderId, since, until } };
  const awaited: OrderEvent = { type: 'PaymentAwaited', data: { orderId, since, until } };

  it('records that a PENDING order waits for the gateway, with its bound', () => {
    spec([placed]).when(awaitPayment).then([awaited]);
    expect(fold(order, [placed, awaited])).toMatchObject({ status: 'PENDING', awaitingPayment: { since, until } });
  });

  it('records it once: parking again keeps the first bound', () => {
    spec([placed, awaited])
      .when({ type: 'AwaitPayment', data: { orderId, since: until, until: '2026-11-30T11:00:00.000Z' } })
      .then([]);
  });

  it.each([
    ['CONFIRMED', [...reserved, confirmed]],
    ['REJECTED', [placed, rejected('PAYMENT_UNAVAILABLE')]],
    ['CANCELLED', [placed, cancelled('PENDING')]],
  ] as const)('has nothing to wait for once the order is %s', (_, history) => {
    spec([...history])
      .when(awaitPayment)
      .then([]);
  });

  it('forgets the wait once the order settles', () => {
    expect(fold(order, [...reserved, awaited, confirmed])).not.toHaveProperty('awaitingPayment');
    expect(fold(order, [placed, awaited, cancelled('PENDING')])).not.toHaveProperty('awaitingPayment');
  });

  it('needs a placed order', () => {
    spec([]).when(awaitPayment).thenThrows(OrderNotFoundError);
  });
});

describe('which orders keep their payment', () => {
  it('is a confirmed order alone, of every status there is', () => {
    expect(OrderStatus.options.filter(keepsPayment)).toEqual(['CONFIRMED']);
    expect(keepsPayment('NONE')).toBe(false);
  });
});
