import { createHash, randomUUID } from 'node:crypto';
import { order, orderStreamId, type OrderLine, type OrderStatus } from '../domain/order/index.js';
import { productStreamId } from '../domain/inventory/index.js';
import { OrderNotFoundError } from '../domain/shared/errors.js';
import type { EventStore } from '../eventstore/types.js';
import { productAggregate, orderAggregate } from './aggregates.js';
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

/**
 * Places an order at the products' current prices. Placing the same order again (same key, same contents) changes
 * nothing and answers the same order; the same key with other contents is refused.
 */
export const placeOrder = async (
  input: PlaceOrderInput,
  context: CommandContext,
): Promise<{ orderId: string; status: OrderStatus }> => {
  const orderId = input.idempotencyKey ? orderIdForKey(input.customerId, input.idempotencyKey) : randomUUID();
  const lines = await priceLines(context.store, input.items);
  const { state } = await handleCommand(
    orderAggregate,
    orderStreamId(orderId),
    (current) =>
      order.decide(
        {
          type: 'PlaceOrder',
          data: { orderId, customerId: input.customerId, lines, paymentToken: input.paymentToken },
        },
        current,
      ),
    context,
    // A new order's stream does not exist yet; a repeated key loses the append's condition and reads the order.
    { state: order.initialState(), version: 0 },
  );
  if (state.status === 'NONE') throw new Error('an order that was just placed does not exist');
  return { orderId, status: state.status };
};

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
