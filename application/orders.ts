import { createHash, randomUUID } from 'node:crypto';
import {
  assertOneLinePerSku,
  order,
  type OrderCommand,
  type OrderLine,
  type OrderStatus,
  orderStreamId,
  type PlaceOrder,
  type OutOfStock,
  type RejectionReason,
} from '../domain/order/index.js';
import { stockBalanceId } from '../domain/inventory/index.js';
import { fold } from '../domain/shared/decider.js';
import type { Money } from '../domain/shared/values.js';
import { OrderNotFoundError, ProductDiscontinuedError } from '../domain/shared/errors.js';
import { BalanceChangedError, BalanceTooLowError, ConcurrencyError } from '../eventstore/errors.js';
import type { EventStore } from '../eventstore/types.js';
import { orderAggregate } from './aggregates.js';
import { keepLatest } from './latest.js';
import { productForPricing, readStock } from './products.js';
import { type Caller, mayAccess } from './caller.js';
import { CancellationWindowClosedError, UnknownSkuError } from './errors.js';
import { type CommandContext, handleCommand } from './handleCommand.js';

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

/** How often a placement decides again when the stock was not as it guessed. */
const PLACEMENT_ATTEMPTS = 8;

/**
 * Places an order at the products' current prices, and settles its stock in the same write (ADR 0014): the order
 * reserves its units (`StockReserved`, each SKU's balance moved), or, when a line's SKU has fewer available than it
 * asks for, is rejected `OUT_OF_STOCK` at once. Only an order that holds its stock starts the saga.
 *
 * The stock is not read first: placement guesses from what this process last learned of it (`stockHints`), every
 * line having enough unless it learned otherwise, and the write holds the guess to the stock as it is: a reservation
 * moves the balances, which refuse to go below zero (and say what they hold), and a rejection commits only while each
 * short SKU is still short. A wrong guess is corrected, from the refusal or from a strongly consistent read of the
 * balances, and decided on again: a sold-out SKU's orders cost one write each once a refusal has taught it. An order
 * about to be rejected for some of its lines reads the others' stock first, so that its rejection names them all.
 *
 * Placing the same order again (same key, same contents) changes nothing and answers the same order; the same key
 * with other contents is refused.
 */
export const placeOrder = async (
  input: PlaceOrderInput,
  context: CommandContext,
): Promise<{
  orderId: string;
  status: OrderStatus;
  rejectionReason?: RejectionReason;
  outOfStock?: OutOfStock;
  lines: OrderLine[];
  total: Money;
}> => {
  const orderId = input.idempotencyKey ? orderIdForKey(input.customerId, input.idempotencyKey) : randomUUID();
  const skus = input.items.map((item) => item.sku);
  const hints = context.stockHints ?? new Map<string, number>();
  // Refused before any read: a second line for one SKU is wrong whatever the products are.
  assertOneLinePerSku(input.items);
  const { lines, discontinued } = await priceLines(context, input.items);
  const place: PlaceOrder = {
    type: 'PlaceOrder',
    data: { orderId, customerId: input.customerId, lines, paymentToken: input.paymentToken },
  };
  const shortOf = () => lines.filter((line) => (hints.get(line.sku) ?? Number.POSITIVE_INFINITY) < line.quantity);
  let othersRead = false;
  for (let attempt = 1; ; attempt++) {
    let short = shortOf();
    // A rejection names every short line (the README's and the API's word), but the guess knows only the lines it
    // learned of: before rejecting for some, the others are read, so that a customer told what to change is not
    // turned away again for a line the first answer left out. An order all of whose lines are short reads nothing.
    if (short.length > 0 && short.length < lines.length && !othersRead) {
      othersRead = true;
      await learnStock(
        context.store,
        lines.filter((line) => !short.includes(line)).map((line) => line.sku),
        hints,
      );
      short = shortOf();
    }
    const settleStock: OrderCommand =
      short.length === 0
        ? { type: 'ReserveStock', data: { orderId } }
        : { type: 'RejectOrder', data: { orderId, reason: 'OUT_OF_STOCK', outOfStock: short.map((line) => line.sku) } };
    try {
      const { state, events } = await handleCommand(
        orderAggregate,
        orderStreamId(orderId),
        (current) => {
          const placed = order.decide(place, current);
          // An order placed before (a repeated key) is answered as it stands: its stock was settled with it.
          if (placed.length === 0) return [];
          // Only a new order is refused: one placed before its product was discontinued is answered above.
          if (discontinued.length > 0) throw new ProductDiscontinuedError(discontinued);
          return [...placed, ...order.decide(settleStock, fold(order, placed, current))];
        },
        context,
        // A new order's stream does not exist yet; a repeated key loses the append's condition and reads the order.
        { state: order.initialState(), version: 0 },
        short.map((line) => ({ balanceId: stockBalanceId(line.sku), below: { available: line.quantity } })),
      );
      if (state.status === 'NONE') throw new Error('an order that was just placed does not exist');
      if (events.some((event) => event.type === 'StockReserved')) {
        for (const line of lines) {
          const known = hints.get(line.sku);
          if (known !== undefined) remember(hints, line.sku, known - line.quantity);
        }
      }
      // A rejected order says why, so a client need not read it again to tell out of stock from a failed payment; and
      // every answer says what the order costs, priced here, for the client to show without reading it back.
      return {
        orderId,
        status: state.status,
        ...(state.status === 'REJECTED' ? { rejectionReason: state.rejectionReason } : {}),
        ...(state.status === 'REJECTED' && state.outOfStock ? { outOfStock: state.outOfStock } : {}),
        lines: state.lines,
        total: state.total,
      };
    } catch (error) {
      if (!(error instanceof BalanceTooLowError || error instanceof BalanceChangedError)) throw error;
      // Still changing after every read: the API answers "retry".
      if (attempt >= PLACEMENT_ATTEMPTS) throw new ConcurrencyError(error.balanceIds, { cause: error });
      const [refused] = error.balanceIds;
      const sku = skus.find((s) => stockBalanceId(s) === refused);
      const current = error instanceof BalanceTooLowError ? error.current?.available : undefined;
      if (error.balanceIds.length === 1 && sku !== undefined && current !== undefined) remember(hints, sku, current);
      else await learnStock(context.store, skus, hints);
    }
  }
};

/** Each SKU's available units as its stock balance holds them now, read strongly consistently, into `hints`. */
const learnStock = async (store: EventStore, skus: string[], hints: Map<string, number>): Promise<void> => {
  const read = await Promise.all(skus.map((sku) => readStock(store, sku, { consistent: true })));
  skus.forEach((sku, index) => remember(hints, sku, read[index]?.stock.available ?? 0));
};

/** The most SKUs one instance keeps a stock hint for; the one learned of longest ago goes first. */
export const STOCK_HINTS_KEPT = 10_000;

/**
 * Keeps what was learned of a SKU's stock, as the latest: a warm instance that meets a million SKUs keeps the hints
 * of the {@link STOCK_HINTS_KEPT} last. A forgotten hint costs nothing but a guess that every line has enough.
 */
const remember = (hints: Map<string, number>, sku: string, available: number): void =>
  keepLatest(hints, sku, available, STOCK_HINTS_KEPT);

/**
 * Captures each product's price and name now (within a second: `productForPricing`); the client sets neither. Says which
 * products are discontinued (as of the same read), for a new order to be refused.
 */
const priceLines = async (
  context: CommandContext,
  items: PlaceOrderInput['items'],
): Promise<{ lines: OrderLine[]; discontinued: string[] }> => {
  const now = (context.now ?? new Date()).getTime();
  const products = await Promise.all(
    items.map((item) => productForPricing(context.store, item.sku, context.catalogue, now)),
  );
  const unknown = items.filter((_, index) => !products[index]).map((item) => item.sku);
  if (unknown.length > 0) throw new UnknownSkuError(unknown);
  const lines = items.map((item, index) => {
    const product = products[index];
    if (!product) throw new UnknownSkuError([item.sku]);
    return { sku: item.sku, name: product.name, quantity: item.quantity, unitPrice: product.unitPrice };
  });
  return { lines, discontinued: items.filter((_, index) => products[index]?.discontinued).map((item) => item.sku) };
};

/**
 * When a confirmed order's cancellation window closes for its customer (ms), from when it was confirmed; undefined
 * with no window, or for an order confirmed before confirmations recorded their time (ADR 0029).
 */
export const cancellationWindowEnd = (
  confirmedAt: string | undefined,
  windowMs: number | undefined,
): number | undefined =>
  confirmedAt === undefined || windowMs === undefined ? undefined : Date.parse(confirmedAt) + windowMs;

/**
 * Cancels an order of the caller's (or any, for an admin); someone else's order does not exist for the caller. A
 * customer may cancel a confirmed order only within `cancellationWindowMs` of its confirmation (its goods may be on
 * their way after that); an admin may at any time, and so may a customer an order confirmed before confirmations
 * recorded their time.
 */
export const cancelOrder = async (
  input: { orderId: string; caller: Caller; cancellationWindowMs?: number },
  context: CommandContext,
): Promise<{ orderId: string; status: OrderStatus; lines: OrderLine[]; total: Money }> => {
  const now = (context.now ?? new Date()).getTime();
  const { state } = await handleCommand(
    orderAggregate,
    orderStreamId(input.orderId),
    (current) => {
      if (current.status === 'NONE' || !mayAccess(input.caller, current.customerId)) {
        throw new OrderNotFoundError(input.orderId);
      }
      const closesAt =
        current.status === 'CONFIRMED'
          ? cancellationWindowEnd(current.confirmedAt, input.cancellationWindowMs)
          : undefined;
      if (closesAt !== undefined && !input.caller.isAdmin && now > closesAt) {
        throw new CancellationWindowClosedError(input.orderId, new Date(closesAt).toISOString());
      }
      return order.decide({ type: 'CancelOrder', data: { orderId: input.orderId } }, current);
    },
    context,
  );
  if (state.status === 'NONE') throw new OrderNotFoundError(input.orderId);
  return { orderId: input.orderId, status: state.status, lines: state.lines, total: state.total };
};
