import { randomUUID } from 'node:crypto';
import { orderStreamId } from '../../domain/order/index.js';
import type { EventMetadata, EventStore } from '../../eventstore/types.js';

/**
 * Writes `count` orders of one unit of `sku` straight into the store: the history of a long-used stack in seconds.
 * The first `count - rejected` are placed with their stock reserved (as placement appends it, ADR 0014) and confirmed,
 * without waiting for a saga for each (a stack running starts one per order, which finds it confirmed). The last
 * `rejected` (default none) are rejected `OUT_OF_STOCK` as placed, and start no saga. The SKU's balance is not moved.
 * 30 orders per append (one TransactWriteItems), four appends at a time. Answers the order ids, in that order.
 */
export const appendSettledOrders = async (
  store: EventStore,
  {
    sku,
    price,
    count,
    customerId = 'settled-customer',
    rejected = 0,
    metadata,
  }: {
    sku: string;
    price: { amount: number; currency: string };
    count: number;
    rejected?: number;
    customerId?: string;
    metadata: () => EventMetadata;
  },
): Promise<string[]> => {
  const orderIds = Array.from({ length: count }, () => randomUUID());
  const isRejected = new Set<string>(orderIds.slice(count - rejected));
  const batches = Array.from({ length: Math.ceil(count / 30) }, (_, index) =>
    orderIds.slice(index * 30, (index + 1) * 30),
  );
  const append = (batch: string[]) =>
    store.append(
      batch.map((orderId) => ({
        streamId: orderStreamId(orderId),
        expectedVersion: 0,
        events: [
          {
            type: 'OrderPlaced',
            data: {
              orderId,
              customerId,
              lines: [{ sku, quantity: 1, unitPrice: price }],
              total: price,
              paymentToken: 'tok_visa',
            },
          },
          ...(isRejected.has(orderId)
            ? [{ type: 'OrderRejected', data: { orderId, reason: 'OUT_OF_STOCK' } }]
            : [
                { type: 'StockReserved', data: { orderId, lines: [{ sku, quantity: 1 }] } },
                { type: 'OrderConfirmed', data: { orderId } },
              ]),
        ],
      })),
      metadata(),
    );
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) await append(batch);
    }),
  );
  return orderIds;
};
