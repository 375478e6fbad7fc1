import { assertNever } from '../shared/decider.js';
import {
  ProductAlreadyRegisteredError,
  ProductNotFoundError,
  RestockKeyReusedError,
  StockLimitExceededError,
} from '../shared/errors.js';
import { STOCK_LEVEL_MAX } from '../shared/limits.js';
import type { ProductCommand, RestockProduct } from './commands.js';
import type { ProductEvent } from './events.js';
import type { ProductState } from './state.js';

/**
 * A restock adds units, up to the most a SKU is ever supplied: past it, its figures would leave their bounds. One
 * keyed like a recent one is its retry: it adds nothing, unless it asks for another quantity, which no retry does.
 */
const restock = ({ data }: RestockProduct, state: ProductState): ProductEvent[] => {
  if (state.status !== 'REGISTERED') throw new ProductNotFoundError(data.sku);
  const { restockId } = data;
  const earlier = restockId === undefined ? undefined : state.recentRestocks.find((r) => r.restockId === restockId);
  if (earlier) {
    if (earlier.quantity !== data.quantity) throw new RestockKeyReusedError(data.sku, earlier.quantity);
    return [];
  }
  const supplied = state.initialStock + state.restocked;
  if (supplied + data.quantity > STOCK_LEVEL_MAX) {
    throw new StockLimitExceededError(data.sku, supplied, data.quantity, STOCK_LEVEL_MAX);
  }
  return [{ type: 'ProductRestocked', data }];
};

export const decide = (command: ProductCommand, state: ProductState): ProductEvent[] => {
  switch (command.type) {
    case 'RegisterProduct':
      if (state.status === 'REGISTERED') throw new ProductAlreadyRegisteredError(command.data.sku);
      return [{ type: 'ProductRegistered', data: command.data }];
    case 'RestockProduct':
      return restock(command, state);
    case 'RepriceProduct': {
      if (state.status !== 'REGISTERED') throw new ProductNotFoundError(command.data.sku);
      // The price it has already: a retry, or a second admin who had the same idea. Nothing to record.
      const { amount, currency } = command.data.unitPrice;
      if (state.unitPrice.amount === amount && state.unitPrice.currency === currency) return [];
      return [{ type: 'ProductRepriced', data: command.data }];
    }
    default:
      return assertNever(command);
  }
};
