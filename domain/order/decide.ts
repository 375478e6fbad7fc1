import { assertNever } from '../shared/decider.js';
import {
  DuplicateOrderLineError,
  InvalidOrderTransitionError,
  MixedCurrenciesError,
  OrderAlreadyPlacedError,
  OrderTotalTooLargeError,
  OrderNotFoundError,
  StockNotReservedError,
} from '../shared/errors.js';
import type { Money } from '../shared/values.js';
import type {
  AwaitPayment,
  CancelOrder,
  ConfirmOrder,
  OrderCommand,
  PlaceOrder,
  RejectOrder,
  ReserveStock,
} from './commands.js';
import type { OrderEvent, OrderLine } from './events.js';
import type { ExistingOrder, OrderState } from './state.js';

const placed = (state: OrderState, orderId: string): ExistingOrder => {
  if (state.status === 'NONE') throw new OrderNotFoundError(orderId);
  return state;
};

export const orderTotal = (lines: OrderLine[]): Money => {
  const currencies = [...new Set(lines.map((line) => line.unitPrice.currency))];
  const [currency] = currencies;
  if (currency === undefined || currencies.length > 1) throw new MixedCurrenciesError(currencies);
  const amount = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0);
  // Past 2^53 an amount is no longer exact, in JavaScript or in DynamoDB's marshalling of it.
  if (!Number.isSafeInteger(amount)) throw new OrderTotalTooLargeError(currency);
  return { amount, currency };
};

/** An order has one line per SKU: a second line for one is refused, naming it. */
export const assertOneLinePerSku = (lines: { sku: string }[]): void => {
  const seen = new Set<string>();
  for (const line of lines) {
    if (seen.has(line.sku)) throw new DuplicateOrderLineError(line.sku);
    seen.add(line.sku);
  }
};

/**
 * Whether a repeated placement asks for the same goods, in whatever order its lines come (an order has one line per
 * SKU; a client that rebuilds its cart from a map may send them in another order). Prices are left out: they were
 * captured when the order was first placed, and a retry after a price change is still the same order.
 */
const sameLines = (a: OrderLine[], b: OrderLine[]): boolean =>
  a.length === b.length &&
  a.every((line) => b.some((other) => other.sku === line.sku && other.quantity === line.quantity));

const place = ({ data }: PlaceOrder, state: OrderState): OrderEvent[] => {
  if (state.status !== 'NONE') {
    // The same request again (an idempotent retry) changes nothing; different contents under the same id are refused.
    const same =
      state.customerId === data.customerId &&
      state.paymentToken === data.paymentToken &&
      sameLines(state.lines, data.lines);
    if (same) return [];
    throw new OrderAlreadyPlacedError(data.orderId);
  }
  assertOneLinePerSku(data.lines);
  return [{ type: 'OrderPlaced', data: { ...data, total: orderTotal(data.lines) } }];
};

/**
 * Whether the units are there is not the order's to know: each SKU's stock balance refuses a move below zero in the
 * same write (`orderStockMoves` in domain/inventory/stock.ts), so buyers of one SKU never race on a stream. An order
 * no longer PENDING, or one that already holds its units, decides nothing.
 */
const reserve = ({ data }: ReserveStock, state: OrderState): OrderEvent[] => {
  const order = placed(state, data.orderId);
  if (order.status !== 'PENDING' || order.stockReserved) return [];
  const lines = order.lines.map(({ sku, quantity }) => ({ sku, quantity }));
  return [{ type: 'StockReserved', data: { orderId: data.orderId, lines } }];
};

const confirm = ({ data }: ConfirmOrder, state: OrderState): OrderEvent[] => {
  const order = placed(state, data.orderId);
  if (order.status === 'CONFIRMED') return [];
  if (order.status !== 'PENDING') throw new InvalidOrderTransitionError(data.orderId, order.status, 'CONFIRMED');
  // Confirming sells the reserved units: selling units never reserved would break the stock identity.
  if (!order.stockReserved) throw new StockNotReservedError(data.orderId);
  return [{ type: 'OrderConfirmed', data }];
};

const reject = ({ data }: RejectOrder, state: OrderState): OrderEvent[] => {
  const order = placed(state, data.orderId);
  if (order.status === 'REJECTED') return [];
  if (order.status !== 'PENDING') throw new InvalidOrderTransitionError(data.orderId, order.status, 'REJECTED');
  // Which lines were short is only said of an order rejected for it, and only of its own lines: never a client's word.
  const named = data.outOfStock ?? [];
  if (
    named.length > 0 &&
    (data.reason !== 'OUT_OF_STOCK' || !named.every((sku) => order.lines.some((l) => l.sku === sku)))
  ) {
    throw new Error(`${data.orderId}: out of stock names ${named.join(', ')}, not its short lines`);
  }
  return [{ type: 'OrderRejected', data }];
};

const cancel = ({ data }: CancelOrder, state: OrderState): OrderEvent[] => {
  const order = placed(state, data.orderId);
  // A cancel sent again (its answer lost to a timeout) must find it done, not fail: idempotent like confirm and reject.
  if (order.status === 'CANCELLED') return [];
  if (order.status !== 'PENDING' && order.status !== 'CONFIRMED') {
    throw new InvalidOrderTransitionError(data.orderId, order.status, 'CANCELLED');
  }
  return [{ type: 'OrderCancelled', data: { orderId: data.orderId, previousStatus: order.status } }];
};

/**
 * Parks a PENDING order's payment: recorded once, so a saga that wakes and parks again appends nothing, and the
 * order keeps the bound it was first given. An order that is no longer PENDING has nothing to wait for.
 */
const awaitPayment = ({ data }: AwaitPayment, state: OrderState): OrderEvent[] => {
  const order = placed(state, data.orderId);
  if (order.status !== 'PENDING' || order.awaitingPayment) return [];
  return [{ type: 'PaymentAwaited', data }];
};

export const decide = (command: OrderCommand, state: OrderState): OrderEvent[] => {
  switch (command.type) {
    case 'PlaceOrder':
      return place(command, state);
    case 'ReserveStock':
      return reserve(command, state);
    case 'ConfirmOrder':
      return confirm(command, state);
    case 'RejectOrder':
      return reject(command, state);
    case 'CancelOrder':
      return cancel(command, state);
    case 'AwaitPayment':
      return awaitPayment(command, state);
    default:
      return assertNever(command);
  }
};
