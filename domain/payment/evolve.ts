import { assertNever } from '../shared/decider.js';
import type { PaymentEvent } from './events.js';
import type { PaymentState } from './state.js';

export const evolve = (state: PaymentState, event: PaymentEvent): PaymentState => {
  switch (event.type) {
    case 'PaymentAuthorized':
      return { status: 'AUTHORIZED', ...event.data };
    case 'PaymentDeclined':
      return { status: 'DECLINED', ...event.data };
    case 'PaymentRefunded':
      return { status: 'REFUNDED', ...event.data };
    default:
      return assertNever(event);
  }
};
