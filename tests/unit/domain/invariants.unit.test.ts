import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ProductEvent,
  product,
  moveStock,
  noStock,
  orderStockMoves,
  productStockMove,
  type ProductCommand,
  type ProductState,
  type SkuStockMove,
  type Stock,
} from '../../../domain/inventory/index.js';
import {
  OrderEvent,
  order,
  terminalStatuses,
  type OrderCommand,
  type OrderLine,
  type OrderState,
  type OrderStatus,
} from '../../../domain/order/index.js';
import { PaymentEvent, payment, type PaymentCommand } from '../../../domain/payment/index.js';
import { fold, type Decider } from '../../../domain/shared/decider.js';
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

// Hundreds of generated histories each, checked step by step: seconds of CPU, more on a loaded machine.
describe('stock invariants', { timeout: 30_000 }, () => {
  const skus = ['A-1', 'B-2'] as const;
  /** Each run is up to 77 commands, each checked (and some replayed) against the model: fewer runs than below. */
  const productRuns = 200;
  const orderIds = ['o1', 'o2', 'o3', 'o4', 'o5'] as const;
  const anySku = fc.constantFrom(...skus);
  const quantity = fc.integer({ min: 1, max: 5 });
  const unitPrice = { amount: 500, currency: 'EUR' };

  /** What is said of a product (its supply), or of an order (and so of what it holds of its SKUs' stock). */
  type Command = ProductCommand | OrderCommand;
  type Event = ProductEvent | OrderEvent;
  const isProductCommand = (cmd: Command): cmd is ProductCommand =>
    cmd.type === 'RegisterProduct' ||
    cmd.type === 'RestockProduct' ||
    cmd.type === 'RepriceProduct' ||
    cmd.type === 'RenameProduct' ||
    cmd.type === 'DiscontinueProduct' ||
    cmd.type === 'WriteOffStock';

  const register = (sku: string): fc.Arbitrary<Command> =>
    fc.integer({ min: 0, max: 30 }).map((initialStock) => ({
      type: 'RegisterProduct',
      data: { sku, name: 'Widget', unitPrice, initialStock },
    }));
  const supply: fc.Arbitrary<Command> = fc.oneof(
    { weight: 1, arbitrary: anySku.chain(register) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(anySku, fc.integer({ min: 1, max: 10 }))
        .map(([sku, q]): Command => ({ type: 'RestockProduct', data: { sku, quantity: q } })),
    },
    // Units written off, up to more than are available: the balance refuses those.
    {
      weight: 2,
      arbitrary: fc
        .tuple(anySku, fc.integer({ min: 1, max: 8 }))
        .map(([sku, q]): Command => ({ type: 'WriteOffStock', data: { sku, quantity: q } })),
    },
    // A new price moves no stock, whatever orders are in flight.
    {
      weight: 1,
      arbitrary: fc.tuple(anySku, fc.integer({ min: 100, max: 900 })).map(([sku, amount]): Command => ({
        type: 'RepriceProduct',
        data: { sku, unitPrice: { amount, currency: 'EUR' } },
      })),
    },
    // Nor does a new name.
    {
      weight: 1,
      arbitrary: fc.tuple(anySku, fc.constantFrom('Widget', 'Gadget', 'Gizmo')).map(([sku, name]): Command => ({
        type: 'RenameProduct',
        data: { sku, name },
      })),
    },
    // Nor does discontinuing, which refuses every restock after it: the orders in flight keep what they hold.
    {
      weight: 1,
      arbitrary: anySku.map((sku): Command => ({ type: 'DiscontinueProduct', data: { sku } })),
    },
  );

  /** One SKU or both, in either order, a few units of each. */
  const lines: fc.Arbitrary<OrderLine[]> = fc
    .tuple(fc.constantFrom(['A-1'], ['B-2'], ['A-1', 'B-2'], ['B-2', 'A-1']), quantity, quantity)
    .map(([chosen, first, second]) => chosen.map((sku, i) => ({ sku, quantity: i === 0 ? first : second, unitPrice })));
  const place = (id: string): fc.Arbitrary<Command> =>
    lines.map((orderLines) => ({
      type: 'PlaceOrder',
      data: { orderId: id, customerId: 'customer-1', lines: orderLines, paymentToken: 'tok_a' },
    }));
  /** What the saga, a client or the sweeper says of one order, in any order: each decider case is reached. */
  const orderCommand = (id: string): fc.Arbitrary<Command> =>
    fc.oneof(
      // Placed again: the same order (a retry) or other lines under the same id (a clash).
      { weight: 1, arbitrary: place(id) },
      { weight: 6, arbitrary: fc.constant<Command>({ type: 'ReserveStock', data: { orderId: id } }) },
      { weight: 6, arbitrary: fc.constant<Command>({ type: 'ConfirmOrder', data: { orderId: id } }) },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom('OUT_OF_STOCK' as const, 'PAYMENT_DECLINED' as const)
          .map((reason): Command => ({ type: 'RejectOrder', data: { orderId: id, reason } })),
      },
      { weight: 2, arbitrary: fc.constant<Command>({ type: 'CancelOrder', data: { orderId: id } }) },
      {
        weight: 1,
        arbitrary: fc.constant<Command>({
          type: 'AwaitPayment',
          data: { orderId: id, since: '2026-11-30T10:00:00.000Z', until: '2026-11-30T10:03:00.000Z' },
        }),
      },
    );
  /** One order's commands in their own order: mostly placed first, sometimes never (so it is not found). */
  const orderScript = (id: string): fc.Arbitrary<Command[]> =>
    fc
      .tuple(fc.option(place(id), { freq: 10 }), fc.array(orderCommand(id), { maxLength: 12, size: 'max' }))
      .map(([placed, rest]) => (placed ? [placed, ...rest] : rest));

  /**
   * Mostly both products registered first, sometimes not, so orders of a SKU never supplied are tried too. Then the
   * supply's and each order's commands, interleaved as `picks` says: each keeps its own order, and orders compete
   * for the same units at any point of their lives.
   */
  const scenario = fc
    .tuple(
      fc.option(register('A-1'), { freq: 10 }),
      fc.option(register('B-2'), { freq: 10 }),
      fc.array(supply, { maxLength: 10, size: 'max' }),
      fc.tuple(...orderIds.map(orderScript)),
      fc.array(fc.nat(), { minLength: 80, maxLength: 80, size: 'max' }),
    )
    .map(([a, b, restocks, orderScripts, picks]) => {
      const queues = [restocks, ...orderScripts].map((script) => [...script]);
      const interleaved: Command[] = [...(a ? [a] : []), ...(b ? [b] : [])];
      for (const pick of picks) {
        const waiting = queues.filter((queue) => queue.length > 0);
        const next = waiting[pick % Math.max(waiting.length, 1)]?.shift();
        if (next) interleaved.push(next);
      }
      return interleaved;
    });

  /** What an order holds, SKU by SKU, as the net of the moves its events made: units out of available, and where. */
  type Holding = ReadonlyMap<string, Stock>;

  /**
   * The shop as the application keeps it: one stream per product, one per order, and each SKU's stock balance, which
   * every event that moves its stock moves in the same atomic write. `held` is bookkeeping beside it: the moves each
   * order's committed writes made, to hold against what the order's status says it holds.
   */
  type Model = {
    products: ReadonlyMap<string, ProductState>;
    orders: ReadonlyMap<string, OrderState>;
    stock: ReadonlyMap<string, Stock>;
    held: ReadonlyMap<string, Holding>;
  };
  const start = (): Model => ({ products: new Map(), orders: new Map(), stock: new Map(), held: new Map() });
  const productOf = (model: Model, sku: string): ProductState => model.products.get(sku) ?? product.initialState();
  const orderOf = (model: Model, id: string): OrderState => model.orders.get(id) ?? order.initialState();
  const stockOf = (model: Model, sku: string): Stock => model.stock.get(sku) ?? noStock();
  const heldBy = (model: Model, id: string): Holding => model.held.get(id) ?? new Map();

  const add = (a: Stock, b: Stock): Stock => ({
    available: a.available + b.available,
    reserved: a.reserved + b.reserved,
    sold: a.sold + b.sold,
  });
  /** The moves summed per SKU, as the store adds up every move of one balance in a write before checking it. */
  const bySku = (moves: readonly SkuStockMove[], from: Holding = new Map()): Map<string, Stock> => {
    const sums = new Map(from);
    for (const { sku, move } of moves) sums.set(sku, add(sums.get(sku) ?? noStock(), move));
    return sums;
  };

  /** What an order holds by its status alone: PENDING with stockReserved its units reserved, CONFIRMED sold, else none. */
  const holdingByStatus = (state: OrderState): Holding => {
    if (state.status === 'CONFIRMED') {
      return new Map(state.lines.map(({ sku, quantity: q }) => [sku, { available: -q, reserved: 0, sold: q }]));
    }
    if (state.status === 'PENDING' && state.stockReserved) {
      return new Map(state.lines.map(({ sku, quantity: q }) => [sku, { available: -q, reserved: q, sold: 0 }]));
    }
    return new Map();
  };
  /** A holding as a plain object, SKUs that net to nothing left out, so two holdings compare by what they hold. */
  const plain = (holding: Holding): Record<string, Stock> =>
    Object.fromEntries(
      [...holding].filter(([, { available, reserved, sold }]) => available !== 0 || reserved !== 0 || sold !== 0),
    );

  /** A write as decided: its events, the balance moves they make, and how the streams look once it commits. */
  type Write = { events: Event[]; moves: SkuStockMove[]; apply: (model: Model) => Model };

  const decideOn = (model: Model, cmd: Command): Write | undefined => {
    if (isProductCommand(cmd)) {
      const { sku } = cmd.data;
      const before = productOf(model, sku);
      const events = attempt(product, cmd, before);
      if (events === undefined) return undefined;
      return {
        events,
        moves: events.flatMap((event) => {
          const move = productStockMove(event);
          return move ? [{ sku: event.data.sku, move }] : [];
        }),
        apply: (m) => ({ ...m, products: new Map(m.products).set(sku, fold(product, events, before)) }),
      };
    }
    const { orderId: id } = cmd.data;
    const before = orderOf(model, id);
    const events = attempt(order, cmd, before);
    if (events === undefined) return undefined;
    // Each event moves the stock by what the order was just before it, as the application takes it (`movesOf`).
    let state = before;
    const moves = events.flatMap((event) => {
      const moved = orderStockMoves(event, state);
      state = order.evolve(state, event);
      return moved;
    });
    return {
      events,
      moves,
      apply: (m) => ({
        ...m,
        orders: new Map(m.orders).set(id, state),
        held: new Map(m.held).set(id, bySku(moves, heldBy(m, id))),
      }),
    };
  };

  /** What a command came to: refused by its decider, refused by a balance (the store), or committed (maybe `[]`). */
  type Outcome =
    { kind: 'refused' } | { kind: 'balance-too-low'; events: Event[] } | { kind: 'committed'; events: Event[] };

  /** Decides, then writes as the store does: the events and every balance's move together, or nothing. */
  const step = (model: Model, cmd: Command): { model: Model; outcome: Outcome } => {
    const write = decideOn(model, cmd);
    if (write === undefined) return { model, outcome: { kind: 'refused' } };
    const { events } = write;
    // The store skips a write with no events: no balance is moved, nothing can be refused.
    if (events.length === 0) return { model, outcome: { kind: 'committed', events } };
    const stock = new Map(model.stock);
    for (const [sku, move] of bySku(write.moves)) {
      const moved = moveStock(stockOf(model, sku), move);
      // One balance too low refuses the whole write: no other SKU of the order moves, no event is appended.
      if (moved === undefined) return { model, outcome: { kind: 'balance-too-low', events } };
      stock.set(sku, moved);
    }
    return { model: { ...write.apply(model), stock }, outcome: { kind: 'committed', events } };
  };

  type Check = (stepped: { before: Model; cmd: Command; after: Model; outcome: Outcome }) => void;

  /** Runs every scenario command by command from an empty shop, handing each step to a check made for that run. */
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
  /** How many units of `sku` the orders hold, by their statuses alone, `as` reserved or sold. */
  const ordersHold = (model: Model, sku: string, as: 'reserved' | 'sold'): number =>
    [...model.orders.values()].reduce((sum, state) => sum + (holdingByStatus(state).get(sku)?.[as] ?? 0), 0);
  /** What the order holds before a step, by its status: nothing, its units reserved, or its units sold. */
  const holds = (state: OrderState): 'nothing' | 'reserved' | 'sold' =>
    state.status === 'CONFIRMED' ? 'sold' : state.status === 'PENDING' && state.stockReserved ? 'reserved' : 'nothing';

  it('never oversells: no count of any SKU goes below zero, and each balance holds what the orders say', () => {
    const committed = new Map<string, number>();
    let refusedByBalance = 0;
    forEachRun(() => ({ after, outcome }) => {
      for (const sku of skus) {
        const { available, reserved, sold } = stockOf(after, sku);
        expect(Math.min(available, reserved, sold)).toBeGreaterThanOrEqual(0);
        // The balance holds exactly what the order streams say is reserved and sold.
        expect({ reserved, sold }).toEqual({
          reserved: ordersHold(after, sku, 'reserved'),
          sold: ordersHold(after, sku, 'sold'),
        });
      }
      if (outcome.kind === 'balance-too-low') refusedByBalance++;
      if (outcome.kind !== 'committed') return;
      for (const event of outcome.events) {
        const schema =
          event.type === 'ProductRegistered' ||
          event.type === 'ProductRestocked' ||
          event.type === 'ProductRepriced' ||
          event.type === 'ProductRenamed' ||
          event.type === 'ProductDiscontinued' ||
          event.type === 'StockWrittenOff'
            ? ProductEvent
            : OrderEvent;
        expect(schema.parse(event)).toEqual(event);
        count(committed, event.type);
      }
    });
    // Not vacuous: every kind of event was committed and checked, many times, and the balances refused oversells.
    for (const type of [...ProductEvent.options, ...OrderEvent.options].map((option) => option.shape.type.value)) {
      expect(committed.get(type) ?? 0, type).toBeGreaterThan(20);
    }
    expect(refusedByBalance).toBeGreaterThan(20);
  });

  it('conserves stock: available + reserved + sold = initial + restocked − written off of each SKU after every step', () => {
    let registeredSteps = 0;
    forEachRun(() => {
      // Tallied from the committed events alone, apart from the products' states and the balances.
      const supplied = new Map<string, number>();
      const writtenOff = new Map<string, number>();
      return ({ after, outcome }) => {
        if (outcome.kind === 'committed') {
          for (const event of outcome.events) {
            if (event.type === 'ProductRegistered') supplied.set(event.data.sku, event.data.initialStock);
            if (event.type === 'ProductRestocked') {
              supplied.set(event.data.sku, (supplied.get(event.data.sku) ?? 0) + event.data.quantity);
            }
            if (event.type === 'StockWrittenOff') {
              writtenOff.set(event.data.sku, (writtenOff.get(event.data.sku) ?? 0) + event.data.quantity);
            }
          }
        }
        for (const sku of skus) {
          const { available, reserved, sold } = stockOf(after, sku);
          const state = productOf(after, sku);
          if (state.status === 'REGISTERED') {
            registeredSteps++;
            expect(state.initialStock + state.restocked).toBe(supplied.get(sku));
            expect(state.writtenOff).toBe(writtenOff.get(sku) ?? 0);
            expect(available + reserved + sold).toBe(state.initialStock + state.restocked - state.writtenOff);
          } else {
            // Nothing was supplied, so nothing can be reserved, sold or given back.
            expect(stockOf(after, sku)).toEqual(noStock());
          }
        }
      };
    });
    expect(registeredSteps).toBeGreaterThan(5000);
  });

  it('has each order hold what its status says: reserved while PENDING with stockReserved, sold once CONFIRMED, else nothing', () => {
    const settled = new Map<string, number>();
    const statuses = new Map<string, number>();
    forEachRun(() => ({ before, cmd, after, outcome }) => {
      for (const [id, state] of after.orders) {
        expect(plain(heldBy(after, id)), id).toEqual(plain(holdingByStatus(state)));
        count(statuses, state.status === 'PENDING' && state.stockReserved ? 'PENDING, reserved' : state.status);
      }
      // Only an order's writes move what it holds; a product's writes move only its own SKU's available units.
      for (const id of orderIds) {
        if (isProductCommand(cmd) || cmd.data.orderId !== id) expect(after.held.get(id)).toBe(before.held.get(id));
      }
      if (isProductCommand(cmd) || outcome.kind !== 'committed') return;
      for (const event of outcome.events)
        count(settled, `${event.type} holding ${holds(orderOf(before, cmd.data.orderId))}`);
    });
    // Not vacuous: every status was checked many times, and every way of taking, selling and giving back units ran.
    for (const status of ['PENDING', 'PENDING, reserved', 'CONFIRMED', 'REJECTED', 'CANCELLED']) {
      expect(statuses.get(status) ?? 0, status).toBeGreaterThan(100);
    }
    for (const transition of [
      'StockReserved holding nothing',
      'OrderConfirmed holding reserved',
      'OrderRejected holding reserved',
      'OrderRejected holding nothing',
      'OrderCancelled holding reserved',
      'OrderCancelled holding nothing',
      'OrderCancelled holding sold',
    ]) {
      expect(settled.get(transition) ?? 0, transition).toBeGreaterThan(10);
    }
  });

  it('is idempotent per order: the same command again decides nothing, or is refused again, and changes nothing', () => {
    const repeatedAfterCommit = new Map<string, number>();
    const repeatedAfterRefusal = new Map<string, number>();
    let withStockToSpare = 0;
    forEachRun(() => ({ cmd, after, outcome }) => {
      // A restock is not a repeated command, and registering again is refused: a product's commands are not retries.
      if (isProductCommand(cmd)) return;
      const again = step(after, cmd);
      expect(again.model).toBe(after);
      expect(again.outcome.kind === 'committed' ? again.outcome.events : []).toEqual([]);
      if (outcome.kind !== 'committed') expect(again.outcome.kind).toBe(outcome.kind);
      if (outcome.kind === 'committed' && outcome.events.length > 0) {
        expect(again.outcome).toEqual({ kind: 'committed', events: [] });
        count(repeatedAfterCommit, cmd.type);
      }
      if (outcome.kind !== 'committed') count(repeatedAfterRefusal, outcome.kind);
      // Whatever became of an order that reserved, asking again reserves nothing, even with stock to spare.
      const state = orderOf(after, cmd.data.orderId);
      if (cmd.type === 'ReserveStock' && holds(state) !== 'nothing') {
        const spare = (stock: Stock): Stock => ({ ...stock, available: stock.available + 1_000 });
        const plenty: Model = { ...after, stock: new Map(skus.map((sku) => [sku, spare(stockOf(after, sku))])) };
        expect(step(plenty, cmd)).toEqual({ model: plenty, outcome: { kind: 'committed', events: [] } });
        withStockToSpare++;
      }
    });
    // Not vacuous: each command was repeated right after it had changed something, and after a refusal.
    for (const type of ['PlaceOrder', 'ReserveStock', 'ConfirmOrder', 'RejectOrder', 'CancelOrder', 'AwaitPayment']) {
      expect(repeatedAfterCommit.get(type) ?? 0, type).toBeGreaterThan(20);
    }
    expect(repeatedAfterRefusal.get('balance-too-low') ?? 0).toBeGreaterThan(20);
    expect(repeatedAfterRefusal.get('refused') ?? 0).toBeGreaterThan(20);
    expect(withStockToSpare).toBeGreaterThan(20);
  });

  it('refuses no reservation while every line’s units are available, and every one short of any SKU, whole', () => {
    const seen = { fits: 0, lastUnit: 0, tooMany: 0, oneSkuShort: 0 };
    forEachRun(() => ({ before, cmd, after, outcome }) => {
      if (cmd.type !== 'ReserveStock') return;
      const state = orderOf(before, cmd.data.orderId);
      if (state.status !== 'PENDING' || state.stockReserved) return;
      const wanted = state.lines.map(({ sku, quantity: q }) => ({ sku, quantity: q }));
      const events = [{ type: 'StockReserved', data: { orderId: cmd.data.orderId, lines: wanted } }];
      const there = ({ sku, quantity: q }: { sku: string; quantity: number }) => q <= stockOf(before, sku).available;
      if (wanted.every(there)) {
        expect(outcome).toEqual({ kind: 'committed', events });
        for (const sku of skus) {
          const q = wanted.find((line) => line.sku === sku)?.quantity ?? 0;
          const was = stockOf(before, sku);
          expect(stockOf(after, sku)).toEqual({
            available: was.available - q,
            reserved: was.reserved + q,
            sold: was.sold,
          });
        }
        seen.fits++;
        if (wanted.some(({ sku, quantity: q }) => q === stockOf(before, sku).available)) seen.lastUnit++;
      } else {
        expect(outcome).toEqual({ kind: 'balance-too-low', events });
        expect(after).toBe(before);
        seen.tooMany++;
        if (wanted.some(there)) seen.oneSkuShort++;
      }
    });
    // Not vacuous: orders that fit, that took a SKU's last unit, that asked too much, and that were short of one
    // SKU of two (so the other, there, was not moved either) were all seen.
    expect(seen.fits).toBeGreaterThan(50);
    expect(seen.lastUnit).toBeGreaterThan(5);
    expect(seen.tooMany).toBeGreaterThan(50);
    expect(seen.oneSkuShort).toBeGreaterThan(5);
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
  /** Reserving and confirming weigh more, so orders get as far as CONFIRMED before a rejection or cancel ends them. */
  const command: fc.Arbitrary<OrderCommand> = fc.oneof(
    { weight: 1, arbitrary: place },
    { weight: 2, arbitrary: fc.constant<OrderCommand>({ type: 'ReserveStock', data: { orderId } }) },
    { weight: 2, arbitrary: fc.constant<OrderCommand>({ type: 'ConfirmOrder', data: { orderId } }) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('OUT_OF_STOCK' as const, 'PAYMENT_DECLINED' as const)
        .map((reason): OrderCommand => ({ type: 'RejectOrder', data: { orderId, reason } })),
    },
    { weight: 1, arbitrary: fc.constant<OrderCommand>({ type: 'CancelOrder', data: { orderId } }) },
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

  it('confirms only an order that holds its units reserved, and reserves them at most once', () => {
    let confirmations = 0;
    let refusedUnreserved = 0;
    fc.assert(
      fc.property(scenario, (commands) => {
        let state = order.initialState();
        let reservations = 0;
        for (const cmd of commands) {
          const events = attempt(order, cmd, state);
          if (cmd.type === 'ConfirmOrder' && state.status === 'PENDING') {
            if (state.stockReserved) {
              expect(events).toEqual([{ type: 'OrderConfirmed', data: { orderId } }]);
              confirmations++;
            } else {
              expect(events).toBeUndefined();
              refusedUnreserved++;
            }
          }
          for (const event of events ?? []) if (event.type === 'StockReserved') reservations++;
          state = (events ?? []).reduce(order.evolve, state);
        }
        expect(reservations).toBeLessThanOrEqual(1);
      }),
      { numRuns },
    );
    // Not vacuous: orders were confirmed, and confirmations of orders holding nothing were refused.
    expect(confirmations).toBeGreaterThan(20);
    expect(refusedUnreserved).toBeGreaterThan(20);
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
