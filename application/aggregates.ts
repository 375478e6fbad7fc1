import type { ZodType } from 'zod';
import {
  product,
  type ProductState,
  ProductEvent,
  type ProductCommand,
  orderStockMoves,
  productStockMove,
  type SkuStockMove,
  stockBalanceId,
  keyClaimId,
  type KeyKind,
} from '../domain/inventory/index.js';
import { order, OrderEvent, type OrderCommand, type OrderState } from '../domain/order/index.js';
import { payment, PaymentEvent, type PaymentCommand, type PaymentState } from '../domain/payment/index.js';
import { type Decider, withStateBefore } from '../domain/shared/decider.js';
import type { BalanceMove, Claim, DomainEvent } from '../eventstore/types.js';

/** What the application needs to load and change one kind of stream. */
export type Aggregate<State, Command, Event extends DomainEvent> = {
  name: string;
  decider: Decider<State, Command, Event>;
  /** Parses stored events, so a corrupt or foreign event fails loudly instead of folding into nonsense. */
  events: ZodType<Event>;
  /**
   * Streams that grow long are loaded from a snapshot plus the events after it. `schema` names the state's shape:
   * change it whenever `evolve` or the state type changes, and old snapshots are ignored.
   */
  snapshot?: { every: number; schema: string };
  /** The balances an event moves, given the state `before` it, in the same atomic write that appends it. */
  moves?: (event: Event, before: State) => BalanceMove[];
  /** The claims an event takes, in the same atomic write (a caller's key that must hold for good, ADR 0024). */
  claims?: (event: Event) => Claim[];
};

/** The claims `events` take. */
export const claimsOf = <State, Command, Event extends DomainEvent>(
  aggregate: Aggregate<State, Command, Event>,
  events: readonly Event[],
): Claim[] => events.flatMap((event) => aggregate.claims?.(event) ?? []);

/** The balances `events` move, appended in order to a stream in `state`. */
export const movesOf = <State, Command, Event extends DomainEvent>(
  aggregate: Aggregate<State, Command, Event>,
  events: readonly Event[],
  state: State,
): BalanceMove[] => {
  const { moves } = aggregate;
  if (!moves) return [];
  return withStateBefore(aggregate.decider, events, state).flatMap(([event, before]) => moves(event, before));
};

/**
 * A keyed restock or write-off claims its key for good (ADR 0024), with its quantity, a keyed new price with the price
 * (ADR 0025), and a keyed new name with the name (ADR 0027), so a retry any time later is told apart from a new command
 * that reuses the key.
 */
const keyClaims = (event: ProductEvent): Claim[] => {
  const claim = (kind: KeyKind, key: string | undefined, data: Claim['data']) =>
    key === undefined ? [] : [{ claimId: keyClaimId(kind, event.data.sku, key), data }];
  switch (event.type) {
    case 'ProductRestocked':
      return claim('restock', event.data.restockId, { quantity: event.data.quantity });
    case 'StockWrittenOff':
      return claim('writeOff', event.data.writeOffId, { quantity: event.data.quantity });
    case 'ProductRepriced':
      return claim('reprice', event.data.repriceId, { ...event.data.unitPrice });
    case 'ProductRenamed':
      return claim('rename', event.data.renameId, { name: event.data.name });
    default:
      return [];
  }
};

/** Each SKU's stock move as a move of its stock balance, which refuses to go below zero. */
const balanceMoves = (moves: SkuStockMove[]): BalanceMove[] =>
  moves.map(({ sku, move }) => ({ balanceId: stockBalanceId(sku), delta: move }));

/**
 * An order, and what it holds of its SKUs' stock: reserving, confirming, rejecting and cancelling move the balances
 * of its lines' SKUs in the same write (ADR 0013), so no order holds units its status does not say, even for an instant.
 */
export const orderAggregate: Aggregate<OrderState, OrderCommand, OrderEvent> = {
  name: 'order',
  decider: order,
  events: OrderEvent,
  moves: (event, before) => balanceMoves(orderStockMoves(event, before)),
};

/**
 * A product: registered once, restocked, repriced, renamed and written off now and then, discontinued at most once.
 * Its stream never holds an order, so pricing an order and restocking read a handful of events however much the
 * product sells. Snapshots cover a product restocked for years.
 */
export const productAggregate: Aggregate<ProductState, ProductCommand, ProductEvent> = {
  name: 'product',
  decider: product,
  events: ProductEvent,
  // 3: the state counts the units written off and remembers its latest keyed write-offs; a snapshot of 2 (or 1) is
  // ignored, and the stream folded whole. A new name (ProductRenamed) changes a field the state had already, and no
  // snapshot of 3 folded one before it could be recorded: those stay good. So does one from before products could be
  // discontinued: its state has no `discontinued`, which is what a product for sale has.
  snapshot: { every: 100, schema: 'product-state-3' },
  moves: (event) => {
    const move = productStockMove(event);
    return move ? balanceMoves([{ sku: event.data.sku, move }]) : [];
  },
  claims: keyClaims,
};

export const paymentAggregate: Aggregate<PaymentState, PaymentCommand, PaymentEvent> = {
  name: 'payment',
  decider: payment,
  events: PaymentEvent,
};
