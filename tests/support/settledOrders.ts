import { randomUUID } from 'node:crypto';
import { orderStreamId } from '../../domain/order/index.js';
import type { EventMetadata, EventStore } from '../../eventstore/types.js';

/**
 * Writes `count` orders of one unit of `sku`, each placed with its stock reserved (as placement appends it, ADR 0014)
 * and confirmed, straight into the store: the history of a long-used stack in seconds, without waiting for a saga for
 * each (a stack running starts one per order, which finds it confirmed). The SKU's balance is not moved. 30 orders
 * per append (90 events: one TransactWriteItems), four appends at a time. Answers the order ids.
 */
export const appendSettledOrders = async (
  store: EventStore,
  {
    sku,
    price,
    count,
    customerId = 'settled-customer',
    metadata,
  }: {
    sku: string;
    price: { amount: number; currency: string };
    count: number;
    customerId?: string;
    metadata: () => EventMetadata;
  },
): Promise<string[]> => {
  const orderIds = Array.from({ length: count }, () => randomUUID());
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
          { type: 'StockReserved', data: { orderId, lines: [{ sku, quantity: 1 }] } },
          { type: 'OrderConfirmed', data: { orderId } },
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
