import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InventoryEvent,
  product,
  moveStock,
  noStock,
  reservation,
  stockMove,
  type InventoryCommand,
  type ProductState,
  type ReservationState,
  type Stock,
} from '../../../domain/inventory/index.js';
import {
  OrderEvent,
  order,
  terminalStatuses,
  type OrderCommand,
  type OrderLine,
  type OrderStatus,
} from '../../../domain/order/index.js';
import { PaymentEvent, payment, type PaymentCommand } from '../../../domain/payment/index.js';
import type { Decider } from '../../../domain/shared/decider.js';
import { DomainError } from '../../../domain/shared/errors.js';

const numRuns = 400;

/** Decides like a command handler would: a refusal (a DomainError) is `undefined`; any other error is a bug. */
const attempt = <State, Command, Event>(
  decider: Decider<State, Command, Event>,
  command: Command,
  state: State,
): Event[] | undefined => {
  try {
    return decider.decide(command, state);
  } catch (error) {
    if (error instanceof DomainError) return undefined;
    throw error;
  }
};

describe('stock invariants', () => {
  const sku = 'SKU-1';
  /** Each run is up to 41 commands, each checked (and some replayed) against the model: fewer runs than below. */
  const productRuns = 200;
  const orderIds = ['o1', 'o2', 'o3', 'o4', 'o5'] as const;
  const orderId = fc.constantFrom(...orderIds);
  const quantity = fc.integer({ min: 1, max: 8 });

  const register: fc.Arbitrary<InventoryCommand> = fc.integer({ min: 0, max: 15 }).map((initialStock) => ({
    type: 'RegisterProduct',
    data: { sku, name: 'Widget', unitPrice: { amount: 500, currency: 'EUR' }, initialStock },
  }));
  const reserve = fc
    .tuple(orderId, quantity)
    .map(([id, q]): InventoryCommand => ({ type: 'ReserveStock', data: { sku, orderId: id, quantity: q } }));
  const command: fc.Arbitrary<InventoryCommand> = fc.oneof(
    { weight: 1, arbitrary: register },
    {
      weight: 2,
      arbitrary: quantity.map((q): InventoryCommand => ({ type: 'RestockProduct', data: { sku, quantity: q } })),
    },
    { weight: 5, arbitrary: reserve },
    // Confirm and return weigh more: a return needs a reservation that was confirmed and not released first.
    ...(
      [
        ['ReleaseReservation', 2],
        ['ConfirmReservation', 4],
        ['ReturnStock', 4],
      ] as const
    ).map(([type, weight]) => ({
      weight,
      arbitrary: orderId.map((id): InventoryCommand => ({ type, data: { sku, orderId: id } })),
    })),
  );
  /** Mostly a registered product, sometimes none, so the unregistered paths run too. */
  const scenario = fc
    .tuple(fc.option(register, { freq: 10 }), fc.array(command, { minLength: 5, maxLength: 40, size: 'max' }))
    .map(([first, rest]) => (first ? [first, ...rest] : rest));

  /**
   * One SKU as the application keeps it: the product's stream, one reservation stream per order, and the SKU's
   * stock balance, which every stock-moving event moves in the same atomic write.
   */
  type Model = { product: ProductState; reservations: ReadonlyMap<string, ReservationState>; stock: Stock };
  const start = (): Model => ({ product: product.initialState(), reservations: new Map(), stock: noStock() });
  const reservationOf = (model: Model, id: string): ReservationState =>
    model.reservations.get(id) ?? reservation.initialState();

  /** What a command came to: refused by its decider, refused by the balance (the store), or committed (maybe `[]`). */
  type Outcome =
    | { kind: 'refused' }
    | { kind: 'balance-too-low'; events: InventoryEvent[] }
    | { kind: 'committed'; events: InventoryEvent[] };

  const decideOn = (model: Model, cmd: InventoryCommand): InventoryEvent[] | undefined => {
    switch (cmd.type) {
      case 'RegisterProduct':
      case 'RestockProduct':
        return attempt(product, cmd, model.product);
      default:
        return attempt(reservation, cmd, reservationOf(model, cmd.data.orderId));
    }
  };

  const apply = (model: Model, event: InventoryEvent): Model => {
    switch (event.type) {
      case 'ProductRegistered':
      case 'ProductRestocked':
        return { ...model, product: product.evolve(model.product, event) };
      default: {
        const { orderId: id } = event.data;
        const next = reservation.evolve(reservationOf(model, id), event);
        return { ...model, reservations: new Map(model.reservations).set(id, next) };
      }
    }
  };

  /** The sum of the events' moves, as the store adds up every move of one balance in a write before checking it. */
  const totalMove = (events: InventoryEvent[]): Stock =>
    events.map(stockMove).reduce(
      (sum, move) => ({
        available: sum.available + move.available,
        reserved: sum.reserved + move.reserved,
        sold: sum.sold + move.sold,
      }),
      noStock(),
    );

  /** Decides, then writes as the store does: the events and the balance's move together, or nothing. */
  const step = (model: Model, cmd: InventoryCommand): { model: Model; outcome: Outcome } => {
    const events = decideOn(model, cmd);
    if (events === undefined) return { model, outcome: { kind: 'refused' } };
    // The store skips a write with no events: no balance is moved, nothing can be refused.
    if (events.length === 0) return { model, outcome: { kind: 'committed', events } };
    const stock = moveStock(model.stock, totalMove(events));
    if (stock === undefined) return { model, outcome: { kind: 'balance-too-low', events } };
    return { model: { ...events.reduce(apply, model), stock }, outcome: { kind: 'committed', events } };
  };

  type Check = (stepped: { before: Model; cmd: InventoryCommand; after: Model; outcome: Outcome }) => void;

  /** Runs every scenario command by command from a new SKU, handing each step to a check made for that run. */
  const forEachRun = (checkFor: () => Check): void => {
    fc.assert(
      fc.property(scenario, (commands) => {
        const checkStep = checkFor();
        let model = start();
        for (const cmd of commands) {
          const { model: after, outcome } = step(model, cmd);
          checkStep({ before: model, cmd, after, outcome });
          model = after;
        }
      }),
      { numRuns: productRuns },
    );
  };

  const count = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const heldAs = (model: Model, status: ReservationState['status']) =>
    [...model.reservations.values()].reduce(
      (sum, r) => (r.status === status && r.status !== 'NONE' ? sum + r.quantity : sum),
      0,
    );

  it('never oversells: no count goes below zero, and the balance agrees with the reservations', () => {
    const committed = new Map<string, number>();
    let refusedByBalance = 0;
    forEachRun(() => ({ after, outcome }) => {
      const { available, reserved, sold } = after.stock;
      expect(Math.min(available, reserved, sold)).toBeGreaterThanOrEqual(0);
      // The balance holds exactly what the reservation streams say is reserved and sold.
      expect({ reserved, sold }).toEqual({ reserved: heldAs(after, 'RESERVED'), sold: heldAs(after, 'SOLD') });
      if (outcome.kind === 'balance-too-low') refusedByBalance++;
      if (outcome.kind !== 'committed') return;
      for (const event of outcome.events) {
        expect(InventoryEvent.parse(event)).toEqual(event);
        count(committed, event.type);
      }
    });
    // Not vacuous: every kind of event was committed and checked, many times, and the balance refused oversells.
    for (const type of InventoryEvent.options.map((option) => option.shape.type.value)) {
      expect(committed.get(type) ?? 0, type).toBeGreaterThan(20);
    }
    expect(refusedByBalance).toBeGreaterThan(20);
  });

  it('conserves stock: available + reserved + sold = initial + restocked after every step', () => {
    let registeredSteps = 0;
    forEachRun(() => {
      // Tallied from the committed events alone, apart from the product's state and the balance.
      let supplied = 0;
      return ({ after, outcome }) => {
        if (outcome.kind === 'committed') {
          for (const event of outcome.events) {
            if (event.type === 'ProductRegistered') supplied = event.data.initialStock;
            if (event.type === 'ProductRestocked') supplied += event.data.quantity;
          }
        }
        const { available, reserved, sold } = after.stock;
        const { product } = after;
        if (product.status === 'REGISTERED') {
          registeredSteps++;
          expect(product.initialStock + product.restocked).toBe(supplied);
          expect(available + reserved + sold).toBe(product.initialStock + product.restocked);
        } else {
          // Nothing was supplied, so nothing can be reserved, sold or returned.
          expect(after.stock).toEqual(noStock());
        }
      };
    });
    expect(registeredSteps).toBeGreaterThan(1000);
  });

  it('is idempotent per order: the same command again decides nothing, or is refused again, and changes nothing', () => {
    const repeatedAfterCommit = new Map<string, number>();
    const repeatedAfterRefusal = new Map<string, number>();
    let otherQuantity = 0;
    forEachRun(() => ({ cmd, after, outcome }) => {
      if (cmd.type === 'RegisterProduct' || cmd.type === 'RestockProduct') return;
      const again = step(after, cmd);
      expect(again.model).toBe(after);
      expect(again.outcome.kind === 'committed' ? again.outcome.events : []).toEqual([]);
      if (outcome.kind !== 'committed') expect(again.outcome.kind).toBe(outcome.kind);
      if (outcome.kind === 'committed' && outcome.events.length > 0) {
        expect(again.outcome).toEqual({ kind: 'committed', events: [] });
        count(repeatedAfterCommit, cmd.type);
      }
      if (outcome.kind !== 'committed') count(repeatedAfterRefusal, outcome.kind);
      // Whatever became of an order's reservation, asking again for any quantity decides nothing.
      if (cmd.type === 'ReserveStock' && reservationOf(after, cmd.data.orderId).status !== 'NONE') {
        for (const q of [1, cmd.data.quantity + 1, 1_000]) {
          const other: InventoryCommand = { type: 'ReserveStock', data: { ...cmd.data, quantity: q } };
          expect(step(after, other)).toEqual({ model: after, outcome: { kind: 'committed', events: [] } });
        }
        otherQuantity++;
      }
    });
    // Not vacuous: each command was repeated right after it had changed something, and after a refusal.
    for (const type of ['ReserveStock', 'ReleaseReservation', 'ConfirmReservation', 'ReturnStock']) {
      expect(repeatedAfterCommit.get(type) ?? 0, type).toBeGreaterThan(20);
    }
    expect(repeatedAfterRefusal.get('balance-too-low') ?? 0).toBeGreaterThan(20);
    expect(repeatedAfterRefusal.get('refused') ?? 0).toBeGreaterThan(20);
    expect(otherQuantity).toBeGreaterThan(20);
  });

  it('refuses no order while the stock it asks for is available, and every order that asks for more', () => {
    const seen = { fits: 0, exactlyAll: 0, tooMany: 0 };
    forEachRun(() => ({ before, cmd, after, outcome }) => {
      if (cmd.type !== 'ReserveStock' || reservationOf(before, cmd.data.orderId).status !== 'NONE') return;
      const { quantity: q } = cmd.data;
      if (q <= before.stock.available) {
        expect(outcome).toEqual({ kind: 'committed', events: [{ type: 'StockReserved', data: cmd.data }] });
        expect(after.stock).toEqual({
          available: before.stock.available - q,
          reserved: before.stock.reserved + q,
          sold: before.stock.sold,
        });
        seen.fits++;
        if (q === before.stock.available) seen.exactlyAll++;
      } else {
        expect(outcome).toEqual({ kind: 'balance-too-low', events: [{ type: 'StockReserved', data: cmd.data }] });
        expect(after).toBe(before);
        seen.tooMany++;
      }
    });
    // Not vacuous: orders that fit, that took the last unit, and that asked for too much were all seen.
    expect(seen.fits).toBeGreaterThan(50);
    expect(seen.exactlyAll).toBeGreaterThan(5);
    expect(seen.tooMany).toBeGreaterThan(50);
  });
});

describe('order invariants', () => {
  const orderId = 'order-1';
  const lineSets: OrderLine[][] = [
    [{ sku: 'A-1', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }],
    [
      { sku: 'A-1', quantity: 2, unitPrice: { amount: 100, currency: 'EUR' } },
      { sku: 'B-2', quantity: 1, unitPrice: { amount: 250, currency: 'EUR' } },
    ],
  ];
  /** Two contents only, so a later PlaceOrder is as often a retry as a clash. */
  const place: fc.Arbitrary<OrderCommand> = fc
    .record({ lines: fc.constantFrom(...lineSets), paymentToken: fc.constantFrom('tok_a', 'tok_b') })
    .map(({ lines, paymentToken }) => ({
      type: 'PlaceOrder',
      data: { orderId, customerId: 'customer-1', lines, paymentToken },
    }));
  const command: fc.Arbitrary<OrderCommand> = fc.oneof(
    place,
    fc.constant<OrderCommand>({ type: 'ConfirmOrder', data: { orderId } }),
    fc
      .constantFrom('OUT_OF_STOCK' as const, 'PAYMENT_DECLINED' as const)
      .map((reason): OrderCommand => ({ type: 'RejectOrder', data: { orderId, reason } })),
    fc.constant<OrderCommand>({ type: 'CancelOrder', data: { orderId } }),
  );
  const scenario = fc
    .tuple(fc.option(place, { freq: 10 }), fc.array(command, { maxLength: 25, size: 'max' }))
    .map(([first, rest]) => (first ? [first, ...rest] : rest));

  it('never leaves a terminal state: later commands are refused or change nothing', () => {
    const afterTerminal = { refused: 0, unchanged: 0, byStatus: new Map<OrderStatus, number>() };
    fc.assert(
      fc.property(scenario, (commands) => {
        let state = order.initialState();
        for (const cmd of commands) {
          const terminal =
            state.status !== 'NONE' && terminalStatuses.includes(state.status) ? state.status : undefined;
          const events = attempt(order, cmd, state);
          for (const event of events ?? []) expect(OrderEvent.parse(event)).toEqual(event);
          const next = (events ?? []).reduce(order.evolve, state);
          if (terminal !== undefined) {
            if (events === undefined) afterTerminal.refused++;
            else expect(events).toEqual([]);
            if (events !== undefined) afterTerminal.unchanged++;
            expect(next.status).toBe(terminal);
            afterTerminal.byStatus.set(terminal, (afterTerminal.byStatus.get(terminal) ?? 0) + 1);
          }
          state = next;
        }
      }),
      { numRuns },
    );
    // Not vacuous: both terminal states were reached and probed, with refusals and with no-ops.
    expect(afterTerminal.refused).toBeGreaterThan(20);
    expect(afterTerminal.unchanged).toBeGreaterThan(20);
    for (const status of terminalStatuses) expect(afterTerminal.byStatus.get(status) ?? 0, status).toBeGreaterThan(20);
  });
});

describe('payment invariants', () => {
  const orderId = 'order-1';
  const command: fc.Arbitrary<PaymentCommand> = fc.oneof(
    fc
      .record({ amount: fc.integer({ min: 0, max: 10_000 }), gatewayReference: fc.constantFrom('gw-1', 'gw-2') })
      .map(({ amount, gatewayReference }): PaymentCommand => ({
        type: 'AuthorizePayment',
        data: { orderId, amount: { amount, currency: 'EUR' }, gatewayReference },
      })),
    fc.constant<PaymentCommand>({
      type: 'DeclinePayment',
      data: { orderId, amount: { amount: 100, currency: 'EUR' }, reason: 'declined' },
    }),
    fc.constant<PaymentCommand>({ type: 'RefundPayment', data: { orderId } }),
  );

  it('is authorized at most once, and refunds at most once exactly what was authorized', () => {
    let retriedAfterAuthorization = 0;
    let refundsChecked = 0;
    fc.assert(
      fc.property(fc.array(command, { maxLength: 20, size: 'max' }), (commands) => {
        let state = payment.initialState();
        const appended: PaymentEvent[] = [];
        for (const cmd of commands) {
          if (cmd.type === 'AuthorizePayment' && appended.some((event) => event.type === 'PaymentAuthorized')) {
            retriedAfterAuthorization++;
          }
          const events = attempt(payment, cmd, state) ?? [];
          for (const event of events) expect(PaymentEvent.parse(event)).toEqual(event);
          appended.push(...events);
          state = events.reduce(payment.evolve, state);
        }
        const authorizations = appended.filter((event) => event.type === 'PaymentAuthorized');
        const refunds = appended.filter((event) => event.type === 'PaymentRefunded');
        expect(authorizations.length).toBeLessThanOrEqual(1);
        expect(refunds.length).toBeLessThanOrEqual(authorizations.length);
        const [authorization] = authorizations;
        const [refund] = refunds;
        if (authorization && refund) {
          expect(refund.data).toEqual(authorization.data);
          refundsChecked++;
        }
      }),
      { numRuns },
    );
    // Not vacuous: authorization was attempted again after it had succeeded, and refunds were compared.
    expect(retriedAfterAuthorization).toBeGreaterThan(20);
    expect(refundsChecked).toBeGreaterThan(20);
  });
});
