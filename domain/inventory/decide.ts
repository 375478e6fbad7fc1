import { assertNever } from '../shared/decider.js';
import { ProductAlreadyRegisteredError, ProductNotFoundError, ReservationNotFoundError } from '../shared/errors.js';
import type { ProductCommand, ReservationCommand } from './commands.js';
import type { ProductEvent, ReservationEvent } from './events.js';
import type { ProductState, ReservationState } from './state.js';

export const decide = (command: ProductCommand, state: ProductState): ProductEvent[] => {
  switch (command.type) {
    case 'RegisterProduct':
      if (state.status === 'REGISTERED') throw new ProductAlreadyRegisteredError(command.data.sku);
      return [{ type: 'ProductRegistered', data: command.data }];
    case 'RestockProduct':
      if (state.status !== 'REGISTERED') throw new ProductNotFoundError(command.data.sku);
      return [{ type: 'ProductRestocked', data: command.data }];
    default:
      return assertNever(command);
  }
};

/**
 * One order's reservation of one SKU. Whether the units are there is not this decider's to know: the stock balance
 * refuses a move below zero in the same write (see `stock.ts`), so buyers of one SKU never race on a stream.
 */
export const decideReservation = (command: ReservationCommand, state: ReservationState): ReservationEvent[] => {
  const { sku, orderId } = command.data;
  switch (command.type) {
    case 'ReserveStock':
      // One reservation per order: whatever became of an earlier one, a repeated request changes nothing.
      return state.status === 'NONE' ? [{ type: 'StockReserved', data: command.data }] : [];
    case 'ReleaseReservation':
      return state.status === 'RESERVED'
        ? [{ type: 'ReservationReleased', data: { sku, orderId, quantity: state.quantity } }]
        : [];
    case 'ConfirmReservation':
      if (state.status === 'SOLD' || state.status === 'RETURNED') return [];
      // Selling units that are not held for the order would break the stock identity: refuse loudly.
      if (state.status !== 'RESERVED') throw new ReservationNotFoundError(sku, orderId);
      return [{ type: 'ReservationConfirmed', data: { sku, orderId, quantity: state.quantity } }];
    case 'ReturnStock':
      return state.status === 'SOLD'
        ? [{ type: 'StockReturned', data: { sku, orderId, quantity: state.quantity } }]
        : [];
    default:
      return assertNever(command);
  }
};
