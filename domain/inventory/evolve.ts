import { assertNever } from '../shared/decider.js';
import type { InventoryEvent } from './events.js';
import { withAllocation } from './ledger.js';
import type { InventoryState, OrderAllocation } from './state.js';

export const evolve = (state: InventoryState, event: InventoryEvent): InventoryState => {
  if (event.type === 'ProductRegistered') {
    const { sku, name, unitPrice, initialStock } = event.data;
    return {
      status: 'REGISTERED',
      sku,
      name,
      unitPrice,
      initialStock,
      restocked: 0,
      available: initialStock,
      reserved: 0,
      sold: 0,
      orders: {},
    };
  }
  // Events for an unregistered SKU cannot be produced by decide; ignore rather than invent a product.
  if (state.status !== 'REGISTERED') return state;

  const allocate = (orderId: string, allocation: OrderAllocation) => withAllocation(state.orders, orderId, allocation);
  switch (event.type) {
    case 'ProductRestocked':
      return {
        ...state,
        restocked: state.restocked + event.data.quantity,
        available: state.available + event.data.quantity,
      };
    case 'StockReserved': {
      const { orderId, quantity } = event.data;
      return {
        ...state,
        available: state.available - quantity,
        reserved: state.reserved + quantity,
        orders: allocate(orderId, { quantity, status: 'RESERVED' }),
      };
    }
    case 'ReservationReleased': {
      const { orderId, quantity } = event.data;
      return {
        ...state,
        available: state.available + quantity,
        reserved: state.reserved - quantity,
        orders: allocate(orderId, { quantity, status: 'RELEASED' }),
      };
    }
    case 'ReservationConfirmed': {
      const { orderId, quantity } = event.data;
      return {
        ...state,
        reserved: state.reserved - quantity,
        sold: state.sold + quantity,
        orders: allocate(orderId, { quantity, status: 'SOLD' }),
      };
    }
    case 'StockReturned': {
      const { orderId, quantity } = event.data;
      return {
        ...state,
        sold: state.sold - quantity,
        available: state.available + quantity,
        orders: allocate(orderId, { quantity, status: 'RETURNED' }),
      };
    }
    default:
      return assertNever(event);
  }
};
