import { randomUUID } from 'node:crypto';
import { orderStreamId } from '../../domain/order/index.js';
import type { EventMetadata, EventStore } from '../../eventstore/types.js';

/**
 * Writes `count` orders of one unit of `sku`, each placed and confirmed, straight into the store: the history of a
 * long-used stack in seconds, without running a saga for each. 50 orders per append (100 events: one
 * TransactWriteItems), four appends at a time. Answers the order ids.
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
  const batches = Array.from({ length: Math.ceil(count / 50) }, (_, index) =>
    orderIds.slice(index * 50, (index + 1) * 50),
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
