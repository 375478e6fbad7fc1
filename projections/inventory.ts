import { z } from 'zod';
import { InventoryEvent } from '../domain/inventory/index.js';
import { assertNever } from '../domain/shared/decider.js';
import { Money, Sku, StockLevel } from '../domain/shared/values.js';
import type { StoredEvent } from '../eventstore/types.js';
import type { Projection } from './projection.js';

const streamPrefix = 'inventory-';

/**
 * A product's stock as clients read it: `available` can be reserved, `reserved` is held for orders in flight,
 * `sold` has left the warehouse. Unknown keys are stripped when parsing, as for the order view.
 */
export const InventoryView = z.object({
  sku: Sku,
  name: z.string(),
  price: Money,
  available: StockLevel,
  reserved: StockLevel,
  sold: StockLevel,
  updatedAt: z.iso.datetime(),
});
export type InventoryView = z.infer<typeof InventoryView>;

const evolve = (view: InventoryView | undefined, event: StoredEvent<InventoryEvent>): InventoryView => {
  const updatedAt = event.recordedAt;
  if (event.type === 'ProductRegistered') {
    // RegisterProduct is refused for a registered SKU: a second ProductRegistered means a corrupt stream.
    if (view !== undefined) throw new Error(`${event.streamId}: ProductRegistered at version ${event.version} again`);
    const { sku, name, unitPrice, initialStock } = event.data;
    return { sku, name, price: unitPrice, available: initialStock, reserved: 0, sold: 0, updatedAt };
  }
  if (view === undefined) {
    throw new Error(`${event.streamId}: ${event.type} at version ${event.version} before ProductRegistered`);
  }
  const { available, reserved, sold } = view;
  const { quantity } = event.data;
  switch (event.type) {
    case 'ProductRestocked':
      return { ...view, available: available + quantity, updatedAt };
    case 'StockReserved':
      return { ...view, available: available - quantity, reserved: reserved + quantity, updatedAt };
    case 'ReservationReleased':
      return { ...view, reserved: reserved - quantity, available: available + quantity, updatedAt };
    case 'ReservationConfirmed':
      return { ...view, reserved: reserved - quantity, sold: sold + quantity, updatedAt };
    case 'StockReturned':
      return { ...view, sold: sold - quantity, available: available + quantity, updatedAt };
    default:
      return assertNever(event);
  }
};

/** One view per SKU stream (`inventory-<SKU>`), keyed by `sku`. */
export const inventoryProjection: Projection<InventoryView, InventoryEvent> = {
  name: 'inventory',
  streamPrefix,
  key: (streamId) => ({ sku: streamId.slice(streamPrefix.length) }),
  events: InventoryEvent,
  evolve,
};
