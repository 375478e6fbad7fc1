import { assertNever } from '../shared/decider.js';
import type { ProductEvent } from './events.js';
import { type ProductState, RESTOCKS_REMEMBERED } from './state.js';

/** The latest keyed moves, with `entry` last when the move was keyed: what a retry is recognised by (decide.ts). */
const remembered = <Entry>(recent: Entry[], entry: Entry | undefined): Entry[] =>
  entry === undefined ? recent : [...recent, entry].slice(-RESTOCKS_REMEMBERED);

export const evolve = (state: ProductState, event: ProductEvent): ProductState => {
  switch (event.type) {
    case 'ProductRegistered': {
      const { sku, name, unitPrice, initialStock, registrationId } = event.data;
      return {
        status: 'REGISTERED',
        sku,
        name,
        unitPrice,
        initialStock,
        ...(registrationId === undefined ? {} : { registration: { registrationId, unitPrice } }),
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
      const recentRestocks = remembered(
        state.recentRestocks,
        restockId === undefined ? undefined : { restockId, quantity },
      );
      return { ...state, restocked: state.restocked + quantity, recentRestocks };
    }
    case 'StockWrittenOff': {
      if (state.status !== 'REGISTERED') return state;
      const { quantity, writeOffId } = event.data;
      const recentWriteOffs = remembered(
        state.recentWriteOffs,
        writeOffId === undefined ? undefined : { writeOffId, quantity },
      );
      return { ...state, writtenOff: state.writtenOff + quantity, recentWriteOffs };
    }
    case 'ProductRepriced':
      return state.status === 'REGISTERED' ? { ...state, unitPrice: event.data.unitPrice } : state;
    case 'ProductRenamed':
      return state.status === 'REGISTERED' ? { ...state, name: event.data.name } : state;
    case 'ProductDiscontinued':
      return state.status === 'REGISTERED' ? { ...state, discontinued: true } : state;
    default:
      return assertNever(event);
  }
};
