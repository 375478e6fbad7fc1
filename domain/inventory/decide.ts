import { assertNever } from '../shared/decider.js';
import {
  InsufficientStockError,
  ProductAlreadyRegisteredError,
  ProductNotFoundError,
  ReservationNotFoundError,
} from '../shared/errors.js';
import type {
  ConfirmReservation,
  InventoryCommand,
  RegisterProduct,
  ReleaseReservation,
  ReserveStock,
  RestockProduct,
  ReturnStock,
} from './commands.js';
import type { InventoryEvent } from './events.js';
import { allocationOf } from './ledger.js';
import type { InventoryState, OrderAllocation } from './state.js';

type Registered = Extract<InventoryState, { status: 'REGISTERED' }>;

const registered = (state: InventoryState, sku: string): Registered => {
  if (state.status !== 'REGISTERED') throw new ProductNotFoundError(sku);
  return state;
};

const allocationOfOrder = (state: Registered, orderId: string): OrderAllocation | undefined =>
  allocationOf(state.orders, orderId);

const register = ({ data }: RegisterProduct, state: InventoryState): InventoryEvent[] => {
  if (state.status === 'REGISTERED') throw new ProductAlreadyRegisteredError(data.sku);
  return [{ type: 'ProductRegistered', data }];
};

const restock = ({ data }: RestockProduct, state: InventoryState): InventoryEvent[] => {
  registered(state, data.sku);
  return [{ type: 'ProductRestocked', data }];
};

const reserve = ({ data }: ReserveStock, state: InventoryState): InventoryEvent[] => {
  const product = registered(state, data.sku);
  // One reservation per order: whatever became of an earlier one, a repeated request changes nothing.
  if (allocationOfOrder(product, data.orderId)) return [];
  if (data.quantity > product.available) throw new InsufficientStockError(data.sku, data.quantity, product.available);
  return [{ type: 'StockReserved', data }];
};

const release = ({ data }: ReleaseReservation, state: InventoryState): InventoryEvent[] => {
  if (state.status !== 'REGISTERED') return [];
  const allocation = allocationOfOrder(state, data.orderId);
  if (allocation?.status !== 'RESERVED') return [];
  return [{ type: 'ReservationReleased', data: { ...data, quantity: allocation.quantity } }];
};

const confirm = ({ data }: ConfirmReservation, state: InventoryState): InventoryEvent[] => {
  const allocation = allocationOfOrder(registered(state, data.sku), data.orderId);
  if (allocation?.status === 'SOLD' || allocation?.status === 'RETURNED') return [];
  // Selling units that are not held for the order would break the stock identity: refuse loudly.
  if (allocation?.status !== 'RESERVED') throw new ReservationNotFoundError(data.sku, data.orderId);
  return [{ type: 'ReservationConfirmed', data: { ...data, quantity: allocation.quantity } }];
};

const returnStock = ({ data }: ReturnStock, state: InventoryState): InventoryEvent[] => {
  if (state.status !== 'REGISTERED') return [];
  const allocation = allocationOfOrder(state, data.orderId);
  if (allocation?.status !== 'SOLD') return [];
  return [{ type: 'StockReturned', data: { ...data, quantity: allocation.quantity } }];
};

export const decide = (command: InventoryCommand, state: InventoryState): InventoryEvent[] => {
  switch (command.type) {
    case 'RegisterProduct':
      return register(command, state);
    case 'RestockProduct':
      return restock(command, state);
    case 'ReserveStock':
      return reserve(command, state);
    case 'ReleaseReservation':
      return release(command, state);
    case 'ConfirmReservation':
      return confirm(command, state);
    case 'ReturnStock':
      return returnStock(command, state);
    default:
      return assertNever(command);
  }
};
