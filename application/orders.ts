import { createHash, randomUUID } from 'node:crypto';
import {
  order,
  type OrderCommand,
  type OrderLine,
  type OrderStatus,
  orderStreamId,
  type PlaceOrder,
} from '../domain/order/index.js';
import { productStreamId, stockBalanceId } from '../domain/inventory/index.js';
import { fold } from '../domain/shared/decider.js';
import { OrderNotFoundError } from '../domain/shared/errors.js';
import { BalanceChangedError, BalanceTooLowError, ConcurrencyError } from '../eventstore/errors.js';
import type { EventStore } from '../eventstore/types.js';
import { productAggregate, orderAggregate } from './aggregates.js';
import { readStock } from './products.js';
import { type Caller, mayAccess } from './caller.js';
import { UnknownSkuError } from './errors.js';
import { type CommandContext, handleCommand, load } from './handleCommand.js';

/**
 * The order id an idempotency key stands for: a UUID-shaped hash of the customer and the key, so the same key
 * from the same customer always names the same stream, and no side table is needed to remember keys.
 */
export const orderIdForKey = (customerId: string, idempotencyKey: string): string => {
  const hex = createHash('sha256').update(`${customerId}\n${idempotencyKey}`).digest('hex');
  // Laid out as an RFC 9562 version 8 (custom) UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
};

export type PlaceOrderInput = {
  customerId: string;
  items: { sku: string; quantity: number }[];
  paymentToken: string;
  idempotencyKey?: string;
};

/** How often a placement reads the stock again when it changed between the read and the write. */
const PLACEMENT_ATTEMPTS = 8;

/**
 * Places an order at the products' current prices, and settles its stock in the same write (ADR 0014): the order
 * reserves its units (`StockReserved`, each SKU's balance moved), or, when a line's SKU has fewer available than it
 * asks for, is rejected `OUT_OF_STOCK` at once. Only an order that holds its stock starts the saga.
 *
 * The stock is read before the write, eventually consistently, beside the prices; the write holds the decision to
 * it: a reservation moves the balances, which refuse to go below zero, and a rejection commits only while each short
 * SKU is still short. A stock that changed in between is read again, strongly consistently, and decided on again.
 *
 * Placing the same order again (same key, same contents) changes nothing and answers the same order; the same key
 * with other contents is refused.
 */
export const placeOrder = async (
  input: PlaceOrderInput,
  context: CommandContext,
): Promise<{ orderId: string; status: OrderStatus }> => {
  const orderId = input.idempotencyKey ? orderIdForKey(input.customerId, input.idempotencyKey) : randomUUID();
  const skus = input.items.map((item) => item.sku);
  const [lines, first] = await Promise.all([priceLines(context.store, input.items), availableOf(context.store, skus)]);
  let stock = first;
  for (let attempt = 1; ; attempt++) {
    const short = lines.filter((line, index) => (stock[index] ?? 0) < line.quantity);
    const place: PlaceOrder = {
      type: 'PlaceOrder',
      data: { orderId, customerId: input.customerId, lines, paymentToken: input.paymentToken },
    };
    const settleStock: OrderCommand =
      short.length === 0
        ? { type: 'ReserveStock', data: { orderId } }
        : { type: 'RejectOrder', data: { orderId, reason: 'OUT_OF_STOCK' } };
    try {
      const { state } = await handleCommand(
        orderAggregate,
        orderStreamId(orderId),
        (current) => {
          const placed = order.decide(place, current);
          // An order placed before (a repeated key) is answered as it stands: its stock was settled with it.
          if (placed.length === 0) return [];
          return [...placed, ...order.decide(settleStock, fold(order, placed, current))];
        },
        context,
        // A new order's stream does not exist yet; a repeated key loses the append's condition and reads the order.
        { state: order.initialState(), version: 0 },
        short.map((line) => ({ balanceId: stockBalanceId(line.sku), below: { available: line.quantity } })),
      );
      if (state.status === 'NONE') throw new Error('an order that was just placed does not exist');
      return { orderId, status: state.status };
    } catch (error) {
      if (!(error instanceof BalanceTooLowError || error instanceof BalanceChangedError)) throw error;
      // Still changing after every read: the API answers "retry".
      if (attempt >= PLACEMENT_ATTEMPTS) throw new ConcurrencyError(error.balanceIds, { cause: error });
      stock = await availableOf(context.store, skus, { consistent: true });
    }
  }
};

/** Each SKU's available units, from its stock balance. */
const availableOf = async (
  store: EventStore,
  skus: string[],
  options: { consistent?: boolean } = {},
): Promise<number[]> => Promise.all(skus.map(async (sku) => (await readStock(store, sku, options)).stock.available));

/**
 * Captures each product's price now; the client never sets a price. A price is set once, by ProductRegistered, the
 * first event of the product's stream: that one event is read, eventually consistently, and again strongly
 * consistently for a product not found that way (one registered a moment ago).
 */
const priceLines = async (store: EventStore, items: PlaceOrderInput['items']): Promise<OrderLine[]> => {
  const registration = async (sku: string) => {
    const streamId = productStreamId(sku);
    const first = await load(store, productAggregate, streamId, { toVersion: 1, consistent: false });
    return first.state.status === 'REGISTERED' ? first : load(store, productAggregate, streamId, { toVersion: 1 });
  };
  const products = await Promise.all(items.map((item) => registration(item.sku)));
  const unknown = items.filter((_, index) => products[index]?.state.status !== 'REGISTERED').map((item) => item.sku);
  if (unknown.length > 0) throw new UnknownSkuError(unknown);
  return items.map((item, index) => {
    const product = products[index]?.state;
    if (product?.status !== 'REGISTERED') throw new UnknownSkuError([item.sku]);
    return { sku: item.sku, quantity: item.quantity, unitPrice: product.unitPrice };
  });
};

/** Cancels an order of the caller's (or any, for an admin); someone else's order does not exist for the caller. */
export const cancelOrder = async (
  input: { orderId: string; caller: Caller },
  context: CommandContext,
): Promise<{ orderId: string; status: OrderStatus }> => {
  const { state } = await handleCommand(
    orderAggregate,
    orderStreamId(input.orderId),
    (current) => {
      if (current.status === 'NONE' || !mayAccess(input.caller, current.customerId)) {
        throw new OrderNotFoundError(input.orderId);
      }
      return order.decide({ type: 'CancelOrder', data: { orderId: input.orderId } }, current);
    },
    context,
  );
  if (state.status === 'NONE') throw new OrderNotFoundError(input.orderId);
  return { orderId: input.orderId, status: state.status };
};

const withoutPaymentToken = ({ paymentToken: _, ...data }: Record<string, unknown>): Record<string, unknown> => data;

export type OrderHistoryEntry = {
  type: string;
  version: number;
  data: Record<string, unknown>;
  recordedAt: string;
  correlationId: string;
};

/**
 * The order's events as stored, for its customer or an admin, without the payment token: the gateway needs it,
 * nobody reading the history does.
 */
export const orderHistory = async (
  input: { orderId: string; caller: Caller },
  store: EventStore,
): Promise<OrderHistoryEntry[]> => {
  const events = await store.readStream(orderStreamId(input.orderId));
  const placed = events[0];
  const customerId = placed?.type === 'OrderPlaced' ? placed.data.customerId : undefined;
  if (typeof customerId !== 'string' || !mayAccess(input.caller, customerId)) {
    throw new OrderNotFoundError(input.orderId);
  }
  return events.map(({ type, version, data, recordedAt, metadata }) => ({
    type,
    version,
    data: withoutPaymentToken(data),
    recordedAt,
    correlationId: metadata.correlationId,
  }));
};
