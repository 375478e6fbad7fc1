import type { ZodType } from 'zod';
import { inventory, InventoryEvent, type InventoryCommand, type InventoryState } from '../domain/inventory/index.js';
import { order, OrderEvent, type OrderCommand, type OrderState } from '../domain/order/index.js';
import { payment, PaymentEvent, type PaymentCommand, type PaymentState } from '../domain/payment/index.js';
import type { Decider } from '../domain/shared/decider.js';
import type { DomainEvent } from '../eventstore/types.js';

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
};

export const orderAggregate: Aggregate<OrderState, OrderCommand, OrderEvent> = {
  name: 'order',
  decider: order,
  events: OrderEvent,
};

/** A popular SKU collects an event per reservation, sale and release: it is the one stream that grows long. */
export const inventoryAggregate: Aggregate<InventoryState, InventoryCommand, InventoryEvent> = {
  name: 'inventory',
  decider: inventory,
  events: InventoryEvent,
  snapshot: { every: 100, schema: 'inventory-state-2' },
};

export const paymentAggregate: Aggregate<PaymentState, PaymentCommand, PaymentEvent> = {
  name: 'payment',
  decider: payment,
  events: PaymentEvent,
};
