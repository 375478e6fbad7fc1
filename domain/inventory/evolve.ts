import { assertNever } from '../shared/decider.js';
import type { ProductEvent } from './events.js';
import type { ProductState } from './state.js';

export const evolve = (state: ProductState, event: ProductEvent): ProductState => {
  switch (event.type) {
    case 'ProductRegistered': {
      const { sku, name, unitPrice, initialStock } = event.data;
      return { status: 'REGISTERED', sku, name, unitPrice, initialStock, restocked: 0 };
    }
    case 'ProductRestocked':
      // Events for an unregistered SKU cannot be produced by decide; ignore rather than invent a product.
      return state.status === 'REGISTERED' ? { ...state, restocked: state.restocked + event.data.quantity } : state;
    default:
      return assertNever(event);
  }
};
