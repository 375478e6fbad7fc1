import * as z from 'zod';
import { OrderEvent, OrderLine, OrderStatus, OutOfStock, RejectionReason } from '../domain/order/index.js';
import { assertNever } from '../domain/shared/decider.js';
import { CustomerId, Money, OrderId } from '../domain/shared/values.js';
import type { StoredEvent } from '../eventstore/types.js';
import type { Projection } from './projection.js';

const streamPrefix = 'order-';
const timestamp = z.iso.datetime();

/**
 * An order as clients read it. It never holds the payment token: read models are served and logged. Timestamps are
 * the `recordedAt` of the events that set them. Unknown keys (the stored `version`, say) are stripped when parsing,
 * so serving a stored item through this schema passes on nothing else.
 */
export const OrderView = z.object({
  orderId: OrderId,
  customerId: CustomerId,
  status: OrderStatus,
  lines: z.array(OrderLine),
  total: Money,
  rejectionReason: RejectionReason.optional(),
  outOfStock: OutOfStock.optional().meta({
    description:
      'Rejected OUT_OF_STOCK: the SKUs of its lines found short when it was placed, each checked short by the same write.',
  }),
  /**
   * Why a PENDING order is still pending, when the saga knows: `AWAITING_PAYMENT`, the payment gateway is unavailable
   * and the order waits for it, at most until `awaitingPaymentUntil`; then it is rejected `PAYMENT_UNAVAILABLE`.
   * Settling the order removes both.
   */
  pendingReason: z.enum(['AWAITING_PAYMENT']).optional(),
  awaitingPaymentUntil: timestamp.optional(),
  placedAt: timestamp,
  updatedAt: timestamp,
  confirmedAt: timestamp.optional(),
  rejectedAt: timestamp.optional(),
  cancelledAt: timestamp.optional(),
});
export type OrderView = z.infer<typeof OrderView>;

/**
 * How many of a customer's orders a listing filtered by status reads for one page at most (about 1 MB of views): a
 * customer with thousands of orders and few in the statuses asked for gets short pages of bounded cost.
 */
export const FILTERED_PAGE_READS = 1_000;

/** How many partitions the sparse `pendingSince` index spreads PENDING orders over. */
export const PENDING_SHARDS = 4;

/**
 * The orders table's item: the view, plus the keys of the sparse `pendingSince` index (serverless.yml) while, and only
 * while, the order is PENDING. The sweeper queries each shard for `pendingSince` older than its threshold, and reads
 * nothing else: a settled order leaves the index. Clients never see these keys (reads parse with {@link OrderView}).
 */
export type StoredOrderView = OrderView & { pendingShard?: string; pendingSince?: string };

/** The index shard of an order: a small stable hash of its id. */
export const pendingShardOf = (orderId: string): string => {
  let hash = 0;
  for (const char of orderId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return String(hash % PENDING_SHARDS);
};

const viewFields = Object.keys(OrderView.shape) as (keyof OrderView)[];
/**
 * The view without the index keys (what a settled order stores, and what clients read), its fields in the schema's
 * order, the order a read of the table parses them in. A view folded from the stream and the same view read back then share their ETag and their
 * bytes (a strong ETag promises both); folded, a field set late (`rejectionReason`) came after `updatedAt`.
 */
export const publicView = (stored: StoredOrderView): OrderView =>
  Object.fromEntries(
    viewFields.flatMap((field) => (stored[field] === undefined ? [] : [[field, stored[field]]])),
  ) as OrderView;

const evolve = (stored: StoredOrderView | undefined, event: StoredEvent<OrderEvent>): StoredOrderView => {
  const at = event.recordedAt;
  if (event.type === 'OrderPlaced') {
    // A stream has one OrderPlaced (a retried PlaceOrder appends nothing): a second one means a corrupt stream.
    if (stored !== undefined) throw new Error(`${event.streamId}: OrderPlaced at version ${event.version} again`);
    // Picked field by field, so the payment token stays out.
    const { orderId, customerId, lines, total } = event.data;
    return {
      orderId,
      customerId,
      status: 'PENDING',
      lines,
      total,
      placedAt: at,
      updatedAt: at,
      pendingShard: pendingShardOf(orderId),
      pendingSince: at,
    };
  }
  if (stored === undefined) {
    throw new Error(`${event.streamId}: ${event.type} at version ${event.version} before OrderPlaced`);
  }
  // Reserving its stock changes nothing a client reads of the order: still PENDING, still in the pending index.
  if (event.type === 'StockReserved') return stored;
  if (event.type === 'PaymentAwaited') {
    // Still PENDING, so still in the pending index; a settled order (a late record) stays as it is.
    if (stored.status !== 'PENDING') return stored;
    return { ...stored, pendingReason: 'AWAITING_PAYMENT', awaitingPaymentUntil: event.data.until, updatedAt: at };
  }
  // Every other event settles the order: it leaves the pending index, and is no longer waiting for anything.
  const { pendingReason: _, awaitingPaymentUntil: __, ...view } = publicView(stored);
  switch (event.type) {
    case 'OrderConfirmed':
      // When the saga confirmed it, which a customer's cancellation window counts from; else when it was recorded.
      return { ...view, status: 'CONFIRMED', confirmedAt: event.data.confirmedAt ?? at, updatedAt: at };
    case 'OrderRejected':
      return {
        ...view,
        status: 'REJECTED',
        rejectionReason: event.data.reason,
        ...(event.data.outOfStock ? { outOfStock: event.data.outOfStock } : {}),
        rejectedAt: at,
        updatedAt: at,
      };
    case 'OrderCancelled':
      return { ...view, status: 'CANCELLED', cancelledAt: at, updatedAt: at };
    default:
      return assertNever(event);
  }
};

/** One view per order stream (`order-<orderId>`), keyed by `orderId`. */
export const ordersProjection: Projection<StoredOrderView, OrderEvent> = {
  name: 'orders',
  streamPrefix,
  key: (streamId) => ({ orderId: streamId.slice(streamPrefix.length) }),
  events: OrderEvent,
  evolve,
};
