import { assertNever } from '../shared/decider.js';
import type { InventoryEvent } from './events.js';

/**
 * A SKU's stock: `available` can be reserved, `reserved` is held for orders in flight, `sold` has left the
 * warehouse. None is ever below zero, and together they are the stock supplied: initial plus restocked.
 */
export type Stock = { available: number; reserved: number; sold: number };

/** How one event moves a SKU's stock. The store applies it atomically with the event, refusing a move below zero. */
export type StockMove = Stock;

export const noStock = (): Stock => ({ available: 0, reserved: 0, sold: 0 });

export const stockMove = (event: InventoryEvent): StockMove => {
  switch (event.type) {
    case 'ProductRegistered':
      return { available: event.data.initialStock, reserved: 0, sold: 0 };
    case 'ProductRestocked':
      return { available: event.data.quantity, reserved: 0, sold: 0 };
    case 'StockReserved':
      return { available: -event.data.quantity, reserved: event.data.quantity, sold: 0 };
    case 'ReservationReleased':
      return { available: event.data.quantity, reserved: -event.data.quantity, sold: 0 };
    case 'ReservationConfirmed':
      return { available: 0, reserved: -event.data.quantity, sold: event.data.quantity };
    case 'StockReturned':
      return { available: event.data.quantity, reserved: 0, sold: -event.data.quantity };
    default:
      return assertNever(event);
  }
};

/** The stock after a move, or `undefined` when the move would take any count below zero (that is: oversell). */
export const moveStock = (stock: Stock, move: StockMove): Stock | undefined => {
  const next = {
    available: stock.available + move.available,
    reserved: stock.reserved + move.reserved,
    sold: stock.sold + move.sold,
  };
  return next.available < 0 || next.reserved < 0 || next.sold < 0 ? undefined : next;
};

/** The key of a SKU's stock balance, which every event that moves its stock moves in the same write. */
export const stockBalanceId = (sku: string): string => `stock-${sku}`;
