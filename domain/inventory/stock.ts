import { assertNever } from '../shared/decider.js';
import type { OrderEvent, OrderState, StockLine } from '../order/index.js';
import type { ProductEvent } from './events.js';

/**
 * A SKU's stock: `available` can be reserved, `reserved` is held for orders in flight, `sold` has left the
 * warehouse. None is ever below zero, and together they are the stock supplied (initial plus restocked) less what
 * was written off.
 */
export type Stock = { available: number; reserved: number; sold: number };

/** How one event moves a SKU's stock. The store applies it atomically with the event, refusing a move below zero. */
export type StockMove = Stock;

/** One SKU's stock moved by one event. */
export type SkuStockMove = { sku: string; move: StockMove };

export const noStock = (): Stock => ({ available: 0, reserved: 0, sold: 0 });

/**
 * How a product's event moves its own SKU's stock: the supply. A new price is no move at all (`undefined`), not a
 * move of nothing: a registration with no stock still moves its balance, which starts counting then.
 */
export const productStockMove = (event: ProductEvent): StockMove | undefined => {
  switch (event.type) {
    case 'ProductRegistered':
      return { available: event.data.initialStock, reserved: 0, sold: 0 };
    case 'ProductRestocked':
      return { available: event.data.quantity, reserved: 0, sold: 0 };
    case 'StockWrittenOff':
      return { available: -event.data.quantity, reserved: 0, sold: 0 };
    case 'ProductRepriced':
    case 'ProductRenamed':
    case 'ProductDiscontinued':
      return undefined;
    default:
      return assertNever(event);
  }
};

const each = (lines: readonly StockLine[], move: (quantity: number) => StockMove): SkuStockMove[] =>
  lines.map(({ sku, quantity }) => ({ sku, move: move(quantity) }));
const reserve = (q: number): StockMove => ({ available: -q, reserved: q, sold: 0 });
const release = (q: number): StockMove => ({ available: q, reserved: -q, sold: 0 });
const sell = (q: number): StockMove => ({ available: 0, reserved: -q, sold: q });
const giveBack = (q: number): StockMove => ({ available: q, reserved: 0, sold: -q });

/**
 * How an order's event moves its SKUs' stock, given the order as it was `before` the event: what the order holds
 * follows from its status (see `OrderState`), so settling it moves exactly what it held. Reserving takes units from
 * available; confirming sells the reserved ones; rejecting or cancelling gives back whatever it held.
 */
export const orderStockMoves = (event: OrderEvent, before: OrderState): SkuStockMove[] => {
  if (before.status === 'NONE') return [];
  const reserved = before.status === 'PENDING' && before.stockReserved === true;
  switch (event.type) {
    case 'StockReserved':
      // As evolve takes it: only a PENDING order that holds nothing yet comes to hold the units.
      return before.status === 'PENDING' && !reserved ? each(event.data.lines, reserve) : [];
    case 'OrderConfirmed':
      return reserved ? each(before.lines, sell) : [];
    case 'OrderRejected':
      return reserved ? each(before.lines, release) : [];
    case 'OrderCancelled':
      if (reserved) return each(before.lines, release);
      return before.status === 'CONFIRMED' ? each(before.lines, giveBack) : [];
    case 'OrderPlaced':
    case 'PaymentAwaited':
      return [];
    default:
      return assertNever(event);
  }
};

/** The stock after a move, or `undefined` when the move would take any count below zero (that is: oversell). */
export const moveStock = (stock: Stock, move: StockMove): Stock | undefined => {
  const next = addStock(stock, move);
  return next.available < 0 || next.reserved < 0 || next.sold < 0 ? undefined : next;
};

/** Two stocks (or moves) added count by count, with no floor: a running total of moves may pass through zero. */
export const addStock = (a: Stock, b: Stock): Stock => ({
  available: a.available + b.available,
  reserved: a.reserved + b.reserved,
  sold: a.sold + b.sold,
});

/** The key of a SKU's stock balance, which every event that moves its stock moves in the same write. */
export const stockBalanceId = (sku: string): string => `stock-${sku}`;

/** The kinds of keyed product command whose key is claimed for good (ADR 0024, 0025, 0027). */
const keyKinds = ['restock', 'writeOff', 'reprice', 'rename'] as const;
export type KeyKind = (typeof keyKinds)[number];

/**
 * The key of a keyed restock's, write-off's, new price's or new name's claim (ADR 0024, 0025, 0027): its kind, its
 * SKU, and the caller's key, which may hold any visible character (a SKU holds no `/`, so no two of them meet in one
 * id).
 */
export const keyClaimId = (kind: KeyKind, sku: string, key: string): string => `${kind}Key-${sku}/${key}`;

/** The shape of every {@link keyClaimId}, built from the same kinds. */
const keyClaimShape = new RegExp(`^(?:${keyKinds.join('|')})Key-[^/]+/`);

/** Whether an id is a key's claim ({@link keyClaimId}): what the invariants look for among the snapshots table's items. */
export const isKeyClaimId = (id: string): boolean => keyClaimShape.test(id);
