import type { ZodType } from 'zod';
import {
  product,
  type InventoryEvent,
  type ProductState,
  ProductEvent,
  type ProductCommand,
  reservation,
  ReservationEvent,
  type ReservationCommand,
  type ReservationState,
  stockBalanceId,
  stockMove,
} from '../domain/inventory/index.js';
import { order, OrderEvent, type OrderCommand, type OrderState } from '../domain/order/index.js';
import { payment, PaymentEvent, type PaymentCommand, type PaymentState } from '../domain/payment/index.js';
import type { Decider } from '../domain/shared/decider.js';
import type { BalanceMove, DomainEvent } from '../eventstore/types.js';

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
  /** The balances an event moves, in the same atomic write that appends it. */
  moves?: (event: Event) => BalanceMove[];
};

export const orderAggregate: Aggregate<OrderState, OrderCommand, OrderEvent> = {
  name: 'order',
  decider: order,
  events: OrderEvent,
};

/** Every stock-moving event moves its SKU's stock balance, which refuses to go below zero. */
const movesStock = (event: InventoryEvent): BalanceMove[] => [
  { balanceId: stockBalanceId(event.data.sku), delta: stockMove(event) },
];

/**
 * A product: registered once, restocked now and then. Its stream never holds an order, so pricing an order and
 * restocking read a handful of events however much the product sells. Snapshots cover a product restocked for years.
 */
export const productAggregate: Aggregate<ProductState, ProductCommand, ProductEvent> = {
  name: 'product',
  decider: product,
  events: ProductEvent,
  snapshot: { every: 100, schema: 'product-state-1' },
  moves: movesStock,
};

/** One order's reservation of one SKU: at most three events, whatever the SKU's history. */
export const reservationAggregate: Aggregate<ReservationState, ReservationCommand, ReservationEvent> = {
  name: 'reservation',
  decider: reservation,
  events: ReservationEvent,
  moves: movesStock,
};

export const paymentAggregate: Aggregate<PaymentState, PaymentCommand, PaymentEvent> = {
  name: 'payment',
  decider: payment,
  events: PaymentEvent,
};
