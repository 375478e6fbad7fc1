import { assertNever } from '../shared/decider.js';
import {
  ProductAlreadyRegisteredError,
  ProductDiscontinuedError,
  ProductNotFoundError,
  RegistrationKeyReusedError,
  RestockKeyReusedError,
  StockLimitExceededError,
  WriteOffKeyReusedError,
} from '../shared/errors.js';
import { STOCK_LEVEL_MAX } from '../shared/limits.js';
import type { ProductCommand, RegisterProduct, RestockProduct, WriteOffStock } from './commands.js';
import type { ProductEvent } from './events.js';
import type { ProductState } from './state.js';

/**
 * Whether a keyed command repeats a recent one, `earlier`: its retry, which records nothing. The same key for another
 * quantity is no retry, and `reused` says so.
 */
const isRetry = (
  earlier: { quantity: number } | undefined,
  quantity: number,
  reused: (earlierQuantity: number) => Error,
): boolean => {
  if (earlier === undefined) return false;
  if (earlier.quantity !== quantity) throw reused(earlier.quantity);
  return true;
};

/**
 * A restock adds units, up to the most a SKU is ever supplied: past it, its figures would leave their bounds. One
 * keyed like a recent one is its retry: it adds nothing, unless it asks for another quantity, which no retry does.
 */
const restock = ({ data }: RestockProduct, state: ProductState): ProductEvent[] => {
  if (state.status !== 'REGISTERED') throw new ProductNotFoundError(data.sku);
  const { restockId } = data;
  const earlier = restockId === undefined ? undefined : state.recentRestocks.find((r) => r.restockId === restockId);
  if (isRetry(earlier, data.quantity, (quantity) => new RestockKeyReusedError(data.sku, quantity))) return [];
  // Units no order can take: a restock of what is sold no more is a mistake (a retry of one before is answered above).
  if (state.discontinued) throw new ProductDiscontinuedError([data.sku]);
  const supplied = state.initialStock + state.restocked;
  if (supplied + data.quantity > STOCK_LEVEL_MAX) {
    throw new StockLimitExceededError(data.sku, supplied, data.quantity, STOCK_LEVEL_MAX);
  }
  return [{ type: 'ProductRestocked', data }];
};

/**
 * A write-off takes units out of the available stock. Whether that many are available is the stock balance's to say,
 * in the same write (it refuses to go below zero): units reserved or sold are not the product's to write off. One
 * keyed like a recent one is its retry, as for a restock.
 */
const writeOff = ({ data }: WriteOffStock, state: ProductState): ProductEvent[] => {
  if (state.status !== 'REGISTERED') throw new ProductNotFoundError(data.sku);
  const { writeOffId } = data;
  const earlier = writeOffId === undefined ? undefined : state.recentWriteOffs.find((w) => w.writeOffId === writeOffId);
  if (isRetry(earlier, data.quantity, (quantity) => new WriteOffKeyReusedError(data.sku, quantity))) return [];
  return [{ type: 'StockWrittenOff', data }];
};

/**
 * A SKU is registered once. Sent again under the key it was registered with, however late, the registration is its
 * retry and records nothing; the same key with another name, price or stock is no retry. Unkeyed, or under another
 * key, it is another registration of a SKU that exists.
 */
const register = ({ data }: RegisterProduct, state: ProductState): ProductEvent[] => {
  if (state.status !== 'REGISTERED') return [{ type: 'ProductRegistered', data }];
  const { registrationId } = data;
  if (registrationId === undefined || state.registration?.registrationId !== registrationId) {
    throw new ProductAlreadyRegisteredError(data.sku);
  }
  const { unitPrice } = state.registration;
  const same =
    data.name === state.name &&
    data.initialStock === state.initialStock &&
    data.unitPrice.amount === unitPrice.amount &&
    data.unitPrice.currency === unitPrice.currency;
  if (!same) throw new RegistrationKeyReusedError(data.sku);
  return [];
};

export const decide = (command: ProductCommand, state: ProductState): ProductEvent[] => {
  switch (command.type) {
    case 'RegisterProduct':
      return register(command, state);
    case 'RestockProduct':
      return restock(command, state);
    case 'WriteOffStock':
      return writeOff(command, state);
    case 'RepriceProduct': {
      if (state.status !== 'REGISTERED') throw new ProductNotFoundError(command.data.sku);
      // The price it has already: a retry, or a second admin who had the same idea. Nothing to record, unless keyed:
      // the key is claimed by the write that records it (ADR 0025), and a key left unclaimed here would let a late
      // retry of this call undo a new price given after it.
      const { amount, currency } = command.data.unitPrice;
      const unchanged = state.unitPrice.amount === amount && state.unitPrice.currency === currency;
      if (unchanged && command.data.repriceId === undefined) return [];
      return [{ type: 'ProductRepriced', data: command.data }];
    }
    case 'RenameProduct': {
      if (state.status !== 'REGISTERED') throw new ProductNotFoundError(command.data.sku);
      // As for a new price: the name it has already records nothing, unless keyed, so that its key is claimed.
      if (state.name === command.data.name && command.data.renameId === undefined) return [];
      return [{ type: 'ProductRenamed', data: command.data }];
    }
    case 'DiscontinueProduct': {
      if (state.status !== 'REGISTERED') throw new ProductNotFoundError(command.data.sku);
      // For good: discontinued again, it is as it was, and a retry however late records nothing.
      return state.discontinued ? [] : [{ type: 'ProductDiscontinued', data: command.data }];
    }
    default:
      return assertNever(command);
  }
};
