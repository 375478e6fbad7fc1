import { assertNever } from '../shared/decider.js';
import type { ProductEvent } from './events.js';
import { type ProductState, RESTOCKS_REMEMBERED } from './state.js';

export const evolve = (state: ProductState, event: ProductEvent): ProductState => {
  switch (event.type) {
    case 'ProductRegistered': {
      const { sku, name, unitPrice, initialStock } = event.data;
      return {
        status: 'REGISTERED',
        sku,
        name,
        unitPrice,
        initialStock,
        restocked: 0,
        recentRestocks: [],
        writtenOff: 0,
        recentWriteOffs: [],
      };
    }
    case 'ProductRestocked': {
      // Events for an unregistered SKU cannot be produced by decide; ignore rather than invent a product.
      if (state.status !== 'REGISTERED') return state;
      const { quantity, restockId } = event.data;
      const recentRestocks =
        restockId === undefined
          ? state.recentRestocks
          : [...state.recentRestocks, { restockId, quantity }].slice(-RESTOCKS_REMEMBERED);
      return { ...state, restocked: state.restocked + quantity, recentRestocks };
    }
    case 'StockWrittenOff': {
      if (state.status !== 'REGISTERED') return state;
      const { quantity, writeOffId } = event.data;
      const recentWriteOffs =
        writeOffId === undefined
          ? state.recentWriteOffs
          : [...state.recentWriteOffs, { writeOffId, quantity }].slice(-RESTOCKS_REMEMBERED);
      return { ...state, writtenOff: state.writtenOff + quantity, recentWriteOffs };
    }
    case 'ProductRepriced':
      return state.status === 'REGISTERED' ? { ...state, unitPrice: event.data.unitPrice } : state;
    default:
      return assertNever(event);
  }
};
