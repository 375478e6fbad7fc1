import { assertNever } from '../shared/decider.js';
import { ProductAlreadyRegisteredError, ProductNotFoundError } from '../shared/errors.js';
import type { ProductCommand } from './commands.js';
import type { ProductEvent } from './events.js';
import type { ProductState } from './state.js';

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
