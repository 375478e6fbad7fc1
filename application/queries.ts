import { createHash } from 'node:crypto';
import * as z from 'zod';
import { stockBalanceId } from '../domain/inventory/index.js';
import { orderStreamId, type OrderStatus } from '../domain/order/index.js';
import { DomainError, OrderNotFoundError, ProductNotFoundError } from '../domain/shared/errors.js';
import { Sku } from '../domain/shared/values.js';
import { isTransient } from '../eventstore/errors.js';
import type { EventStore } from '../eventstore/types.js';
import { ordersProjection, OrderView, publicView } from '../projections/orders.js';
import { cancellationWindowEnd } from './orders.js';
import type { ReadModelName } from '../projections/index.js';
import { catchUp, type Versioned } from '../projections/projection.js';
import { type Caller, mayAccess } from './caller.js';
import type { ListedProduct, ProductView } from '../projections/products.js';
import { currentProduct, type ProductDetails, readStock, stockOf } from './products.js';

export type OrderPageQuery = {
  customerId: string;
  limit: number;
  after?: Record<string, unknown>;
  /** Only orders in these statuses; all when left out. */
  statuses?: OrderStatus[];
  /** Only orders placed in this range, both ends included, as the views' `placedAt` are written (ISO, UTC). */
  placed?: { from?: string; to?: string };
};
export type ProductPageQuery = { limit: number; after?: Record<string, unknown> };

/**
 * A view as a read model answered it, and which version of the read model that was, where the reader knows (a
 * rebuild or a rollback changes what the views say without changing their streams' versions, so an ETag needs both).
 */
export type ReadModelView<T> = Versioned<T> & { readModel?: number };

/** Reads of the `orders` and `products` read models. */
export type ReadModels = {
  order(orderId: string): Promise<ReadModelView<OrderView> | undefined>;
  ordersOf(
    query: OrderPageQuery,
  ): Promise<{ orders: Versioned<OrderView>[]; next?: Record<string, unknown>; readModel?: number }>;
  product(sku: string): Promise<ReadModelView<ProductView> | undefined>;
  /** Products, `limit` at a time, in SKU order, after the position `after`. */
  productsPage(
    query: ProductPageQuery,
  ): Promise<{ products: ListedProduct[]; next?: Record<string, unknown>; readModel?: number }>;
  /**
   * The version of the read model that answers now, when versions are kept: what names an answer folded from the
   * events in its stead, so its ETag is the one the view will have.
   */
  liveVersion(readModel: ReadModelName): Promise<number | undefined>;
};

/** A page cursor that does not decode, belongs to another customer's listing, or to another read model version. */
export class InvalidCursorError extends DomainError {
  constructor(detail = 'The cursor is not one this listing handed out.') {
    super('INVALID_CURSOR', 'unprocessable', detail);
    this.name = 'InvalidCursorError';
  }
}

/**
 * The order's events recorded up to `at` (all of them without), folded by the same projection that builds the read
 * model, so both answers have one shape. Someone else's order, or one not placed by then, is not found.
 */
const foldOrder = async (
  { orderId, caller, at }: { orderId: string; caller: Caller; at?: Date },
  store: EventStore,
): Promise<ReadModelView<OrderView>> => {
  const streamId = orderStreamId(orderId);
  const events = (await store.readStream(streamId)).filter((event) => !at || new Date(event.recordedAt) <= at);
  const { view, version } = await catchUp(ordersProjection, streamId, { view: undefined, version: 0 }, events, () =>
    Promise.resolve([]),
  );
  if (!view || !mayAccess(caller, view.customerId)) throw new OrderNotFoundError(orderId);
  return { view: publicView(view), version };
};

/**
 * Until when the order's customer may cancel it (ADR 0029): a confirmed order's confirmation plus the stage's window,
 * for a client to offer the cancel only while it is taken. Undefined for any other status, or with no window.
 */
export const cancellableUntil = (view: OrderView, windowMs: number | undefined): { cancellableUntil?: string } => {
  const closesAt = view.status === 'CONFIRMED' ? cancellationWindowEnd(view.confirmedAt, windowMs) : undefined;
  return closesAt === undefined ? {} : { cancellableUntil: new Date(closesAt).toISOString() };
};

/**
 * The order from its read model; someone else's order is as missing as an absent one. One the read model has not
 * seen yet, or still shows `PENDING` (just placed, or the projection behind in a burst), is folded from its stream
 * instead: the `Location` a `202` hands out answers at once, and a client polling it never sees its order go back
 * from settled to `PENDING` when the lagging view catches up with an earlier event. So is a confirmed one whose
 * stream has gone on past its view (a cancellation the view does not show yet).
 */
export const getOrder = async (
  { orderId, caller }: { orderId: string; caller: Caller },
  readModels: ReadModels,
  store: EventStore,
): Promise<ReadModelView<OrderView>> => {
  const found = await readModels.order(orderId);
  if (found && !mayAccess(caller, found.view.customerId)) {
    // The work an order that does not exist costs, its stream read and folded, so that the time the answer takes
    // differs from a missing one's only by folding the events found (README: a keyed order's id can be computed from
    // its customer and key). Nothing of the stream decides the answer: one that cannot be read is as missing as any.
    await foldOrder({ orderId, caller }, store).catch(() => undefined);
    throw new OrderNotFoundError(orderId);
  }
  // A confirmed order can still be cancelled, and its view may not show it yet (placed, cancelled and confirmed in
  // one lag): a client already answered CANCELLED must not be told CONFIRMED again, nor 304 on its copy. So its
  // stream is asked for anything after the view's version, which is nothing unless the view lags.
  try {
    const behind =
      found?.view.status === 'CONFIRMED' &&
      (await store.readStream(orderStreamId(orderId), { afterVersion: found.version })).length > 0;
    if (!found || found.view.status === 'PENDING' || behind) {
      const folded = await foldOrder({ orderId, caller }, store);
      // Named by the read model that answers, as the view at that version will be: one ETag for one representation.
      const readModel = found ? found.readModel : await readModels.liveVersion('orders');
      return readModel === undefined ? folded : { ...folded, readModel };
    }
  } catch (error) {
    // A stream that cannot be read (an upcaster that throws on one of its events) is parked by its projection, its
    // view stopped before that event: the view is the answer, as the list gives it. A throttle is not that.
    if (!found || isTransient(error) || error instanceof DomainError) throw error;
  }
  return found;
};

/** The order as it was at `at`: before it existed, it is not found. */
export const getOrderAt = (
  { orderId, caller, at }: { orderId: string; caller: Caller; at: Date },
  store: EventStore,
): Promise<ReadModelView<OrderView>> => foldOrder({ orderId, caller, at }, store);

// The position in the index, shaped as in the view: a crafted cursor with an empty field, which DynamoDB refuses as
// a start key, is the caller's mistake (422), not a 500. The customer is a digest of the id, not the id: a cursor's
// length must not grow with the subject's (up to 256 characters, each up to 6 in JSON), past the 2048 a cursor may be.
const CursorPosition = z.strictObject({
  ...OrderView.pick({ orderId: true }).shape,
  // As the service writes it (an ISO instant, 24 characters): a sort key past DynamoDB's 1,024 bytes is refused there.
  placedAt: OrderView.shape.placedAt.max(30),
  customer: z.string().length(22),
});

const customerTag = (customerId: string) => createHash('sha256').update(customerId).digest('base64url').slice(0, 22);

/** Cursors are opaque to clients: a listing's position, base64url-encoded JSON. */
const encodeCursor = (position: object): string => Buffer.from(JSON.stringify(position)).toString('base64url');

/**
 * The position a cursor this listing handed out names, checked by `accept` (which throws on one it must not take).
 * Only the encoding it hands out is read: Node's base64 decoder skips what is not base64url (`…@@@`, padding, `+` and
 * `/`) and would read those too.
 */
const decodeCursor = <Position, Key>(
  cursor: string,
  schema: z.ZodType<Position>,
  accept: (position: Position) => Key,
): Key => {
  try {
    const json = Buffer.from(cursor, 'base64url').toString('utf8');
    if (Buffer.from(json).toString('base64url') !== cursor) throw new Error('not an encoding this listing hands out');
    const position = schema.parse(JSON.parse(json));
    // Nor any other JSON of the position (spaced, a key twice): the schema's output is what was encoded.
    if (JSON.stringify(position) !== json) throw new Error('not the JSON this listing writes');
    return accept(position);
  } catch {
    throw new InvalidCursorError();
  }
};

const encodeOrderCursor = (key: Record<string, unknown>, customerId: string): string =>
  encodeCursor({ orderId: key.orderId, placedAt: key.placedAt, customer: customerTag(customerId) });

/** The index key a cursor this listing handed out for `customerId`'s orders names. */
const decodeOrderCursor = (cursor: string, customerId: string): Record<string, unknown> =>
  decodeCursor(cursor, CursorPosition, ({ orderId, placedAt, customer }) => {
    if (customer !== customerTag(customerId)) throw new Error('another customer’s cursor');
    return { orderId, customerId, placedAt };
  });

/** Another customer's orders listed by a caller who is not an admin. */
export class ListingForbiddenError extends DomainError {
  constructor() {
    super('FORBIDDEN', 'forbidden', "Only an admin lists another customer's orders.");
    this.name = 'ListingForbiddenError';
  }
}

// The instants a view's `placedAt` can be, as `toISOString` writes them: 24 characters that sort as they follow.
const EARLIEST = '0000-01-01T00:00:00.000Z';
const LATEST = '9999-12-31T23:59:59.999Z';
/** `at` as a view's `placedAt` would be written, held within the years such a string can name. */
const placedAtOf = (at: number): string =>
  at < Date.parse(EARLIEST) ? EARLIEST : at > Date.parse(LATEST) ? LATEST : new Date(at).toISOString();

/** The `placedAt` of orders placed from `placedFrom` and before `placedBefore`, as a range with both ends included. */
const placedRange = (placedFrom?: Date, placedBefore?: Date) => ({
  ...(placedFrom ? { from: placedAtOf(placedFrom.getTime()) } : {}),
  ...(placedBefore ? { to: placedAtOf(placedBefore.getTime() - 1) } : {}),
});

/**
 * A customer's orders, newest first, `limit` at a time, in `statuses` and placed from `placedFrom` and before
 * `placedBefore` if given: the caller's own, or for an admin any `customerId`'s (support looking at a customer's
 * orders). A cursor is good for the listing of the customer it was handed out for; it names a place in that
 * customer's orders, so it carries on under any statuses, and under any dates that hold that place.
 */
export const listOrders = async (
  {
    caller,
    limit,
    cursor,
    customerId = caller.sub,
    statuses,
    placedFrom,
    placedBefore,
  }: {
    caller: Caller;
    limit: number;
    cursor?: string;
    customerId?: string;
    statuses?: OrderStatus[];
    placedFrom?: Date;
    placedBefore?: Date;
  },
  readModels: ReadModels,
): Promise<{ orders: Versioned<OrderView>[]; nextCursor?: string; readModel?: number }> => {
  if (!mayAccess(caller, customerId)) throw new ListingForbiddenError();
  const placed = placedRange(placedFrom, placedBefore);
  const after = cursor ? decodeOrderCursor(cursor, customerId) : undefined;
  // DynamoDB refuses a start key outside the query's range: a cursor of another listing's dates is the caller's.
  const at = after?.placedAt as string | undefined;
  if (at !== undefined && ((placed.from && at < placed.from) || (placed.to && at > placed.to))) {
    throw new InvalidCursorError('The cursor names an order placed outside placedFrom and placedBefore.');
  }
  // `placedBefore` not after `placedFrom` (the API answers it 400): nothing is in it, and DynamoDB would refuse it.
  if (placed.from && placed.to && placed.from > placed.to) return { orders: [] };
  const { orders, next, readModel } = await readModels.ordersOf({
    customerId,
    limit,
    ...(after ? { after } : {}),
    ...(statuses ? { statuses } : {}),
    ...(placed.from || placed.to ? { placed } : {}),
  });
  return {
    orders,
    ...(next ? { nextCursor: encodeOrderCursor(next, customerId) } : {}),
    ...(readModel === undefined ? {} : { readModel }),
  };
};

/**
 * The product: its catalogue facts from the read model, and its stock from the balance, which every order event that
 * moves stock moves as it commits, so the figures are never behind the orders (one small item, read eventually
 * consistent). A product the read model has not seen yet is answered from its stream, so the `Location` a
 * `201` hands out answers at once.
 */
export const getProduct = async (
  sku: string,
  readModels: ReadModels,
  store: EventStore,
): Promise<{ product: ProductDetails; readModel?: number }> => {
  const [found, { stock, version }] = await Promise.all([readModels.product(sku), readStock(store, sku)]);
  if (!found) {
    const current = await currentProduct(store, sku);
    if (!current) throw new ProductNotFoundError(sku);
    const { product: registered } = current;
    // Registered a moment ago: its balance, written in the same transaction, may not have reached every replica.
    const [figures, readModel] = await Promise.all([
      readStock(store, sku, { consistent: true }),
      readModels.liveVersion('products'),
    ]);
    const discontinued = registered.discontinued === true;
    const product = { sku, name: registered.name, price: registered.unitPrice, ...figures, discontinued };
    return readModel === undefined ? { product } : { product, readModel };
  }
  const { name, price } = found.view;
  const discontinued = found.view.discontinued === true;
  return {
    // The price's fields in one order, whichever order the view's map kept them in: one answer, one body.
    product: { sku, name, price: { amount: price.amount, currency: price.currency }, stock, version, discontinued },
    ...(found.readModel === undefined ? {} : { readModel: found.readModel }),
  };
};

// A products listing's position: the last SKU of the page, the read model version it was read from (a switch between
// versions may add or drop products before it), and the order it lists in: a cursor of the unsorted listing that
// came before (no `by`) would go on in another order, skipping products, so it is refused and the client starts again.
const ProductCursor = z.strictObject({ sku: Sku, v: z.int().nonnegative(), by: z.literal('sku') });

/**
 * The products, a page at a time, in SKU order, each with its stock figures from its balance as `GET /products/{sku}`
 * answers them (all the page's balances in one batch read). A product registered a moment ago shows once the read
 * model has it.
 */
export const listProducts = async (
  { limit, cursor }: { limit: number; cursor?: string },
  readModels: ReadModels,
  store: EventStore,
): Promise<{ products: ProductDetails[]; nextCursor?: string; readModel?: number }> => {
  const after = cursor ? decodeCursor(cursor, ProductCursor, (position) => position) : undefined;
  const page = await readModels.productsPage({ limit, ...(after ? { after: { sku: after.sku } } : {}) });
  // Checked against the version the page was read from, not one asked for before: a switch between the two would
  // carry a cursor over to the other table unnoticed.
  const version = page.readModel ?? 0;
  if (after && after.v !== version) {
    throw new InvalidCursorError(
      'The products read model has changed versions since this cursor was handed out: start again from the first page.',
    );
  }
  const balances = await store.readBalances(page.products.map(({ sku }) => stockBalanceId(sku)));
  const products = page.products.map(({ sku, name, price }) => ({
    sku,
    name,
    price,
    ...stockOf(balances.get(stockBalanceId(sku))),
    // The listing's index holds what is for sale: a discontinued product's view leaves it (projections/products.ts).
    discontinued: false,
  }));
  return {
    products,
    ...(page.next ? { nextCursor: encodeCursor({ sku: page.next.sku, v: version, by: 'sku' }) } : {}),
    ...(page.readModel === undefined ? {} : { readModel: page.readModel }),
  };
};
