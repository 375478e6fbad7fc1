import { assertNever } from '../shared/decider.js';
import { PaymentStateError } from '../shared/errors.js';
import type { AuthorizePayment, DeclinePayment, PaymentCommand, RefundPayment } from './commands.js';
import type { PaymentEvent } from './events.js';
import type { PaymentState } from './state.js';

const authorize = ({ data }: AuthorizePayment, state: PaymentState): PaymentEvent[] => {
  // One authorization per order: a second one (a redelivered saga step) appends nothing.
  if (state.status === 'AUTHORIZED' || state.status === 'REFUNDED') return [];
  if (state.status === 'DECLINED') throw new PaymentStateError(data.orderId, state.status, 'authorize');
  return [{ type: 'PaymentAuthorized', data }];
};

const decline = ({ data }: DeclinePayment, state: PaymentState): PaymentEvent[] => {
  if (state.status === 'DECLINED') return [];
  if (state.status !== 'NONE') throw new PaymentStateError(data.orderId, state.status, 'decline');
  return [{ type: 'PaymentDeclined', data }];
};

const refund = ({ data }: RefundPayment, state: PaymentState): PaymentEvent[] => {
  // Nothing authorized, nothing to give back: compensation may run before or without an authorization.
  if (state.status !== 'AUTHORIZED') return [];
  const { amount, gatewayReference } = state;
  return [{ type: 'PaymentRefunded', data: { orderId: data.orderId, amount, gatewayReference } }];
};

export const decide = (command: PaymentCommand, state: PaymentState): PaymentEvent[] => {
  switch (command.type) {
    case 'AuthorizePayment':
      return authorize(command, state);
    case 'DeclinePayment':
      return decline(command, state);
    case 'RefundPayment':
      return refund(command, state);
    default:
      return assertNever(command);
  }
};
