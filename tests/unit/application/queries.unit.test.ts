import { describe, expect, it } from 'vitest';
import { type ReadModels, getOrder } from '../../../application/queries.js';
import { eventSchemas } from '../../../composition/schemas.js';
import { type OrderEvent, orderStreamId } from '../../../domain/order/index.js';
import { OrderNotFoundError } from '../../../domain/shared/errors.js';
import { memoryEventStore } from '../../../eventstore/memoryEventStore.js';
import { ordersProjection } from '../../../projections/orders.js';
import { orderPlaced, orderStockReserved } from '../../support/orderEvents.js';
import { testMetadata } from '../../support/metadata.js';
import { stored } from '../projections/givenView.js';

const orderId = '00000000-0000-4000-8000-0000000000aa';
const customer = { sub: 'customer-1', isAdmin: false };

/** A read model that has seen none of the orders (the projection behind, as in a burst), or the one given. */
const readModels = (view?: Awaited<ReturnType<ReadModels['order']>>): ReadModels => ({
  order: async () => view,
  ordersOf: async () => ({ orders: [] }),
  product: async () => undefined,
  liveVersion: async () => undefined,
});

const placed = async () => {
  const store = memoryEventStore({ schemas: eventSchemas });
  await store.append(
    [
      {
        streamId: orderStreamId(orderId),
        expectedVersion: 0,
        events: [orderPlaced(orderId), orderStockReserved(orderId)],
      },
    ],
    testMetadata(),
  );
  return store;
};

/** The order placed, then confirmed: version 3 in its stream. */
const confirmed = async () => {
  const store = await placed();
  const events: OrderEvent[] = [{ type: 'OrderConfirmed', data: { orderId } }];
  await store.append([{ streamId: orderStreamId(orderId), expectedVersion: 2, events }], testMetadata());
  return store;
};

describe('GET /orders/{id} (getOrder)', () => {
  it('answers an order the read model has not seen yet from its stream: what the client just placed, it reads', async () => {
    const order = await getOrder({ orderId, caller: customer }, readModels(), await placed());
    expect(order).toMatchObject({ version: 2, view: { orderId, customerId: 'customer-1', status: 'PENDING' } });
    expect(order.readModel).toBeUndefined();
  });

  it('answers the read model’s view once it shows the order settled', async () => {
    const store = await confirmed();
    const events = await store.readStream(orderStreamId(orderId));
    const settled = events.reduce<ReturnType<typeof ordersProjection.evolve> | undefined>(
      (view, event) => ordersProjection.evolve(view, event as never),
      undefined,
    );
    const view = { view: settled as NonNullable<typeof settled>, version: 3, readModel: 2 };
    expect(await getOrder({ orderId, caller: customer }, readModels(view), store)).toBe(view);
  });

  it('folds a view still PENDING from the stream, so a poll never goes back from settled to PENDING', async () => {
    const store = await confirmed();
    // The lagging read model has only the placement.
    const [first] = stored(orderStreamId(orderId), [orderPlaced(orderId)]);
    const behind = { view: ordersProjection.evolve(undefined, first as never), version: 1, readModel: 2 };
    expect(await getOrder({ orderId, caller: customer }, readModels(behind), store)).toMatchObject({
      version: 3,
      view: { status: 'CONFIRMED' },
      // The read model's version, as the view at version 3 will carry it: the same ETag for the same answer.
      readModel: 2,
    });
  });

  it('is not found for another customer, either way, nor for an order never placed', async () => {
    const stranger = { sub: 'customer-2', isAdmin: false };
    await expect(getOrder({ orderId, caller: stranger }, readModels(), await placed())).rejects.toThrow(
      OrderNotFoundError,
    );
    const never = memoryEventStore({ schemas: eventSchemas });
    await expect(getOrder({ orderId, caller: customer }, readModels(), never)).rejects.toThrow(OrderNotFoundError);
    // An admin reads anyone's.
    const admin = { sub: 'ops', isAdmin: true };
    expect((await getOrder({ orderId, caller: admin }, readModels(), await placed())).view.status).toBe('PENDING');
  });
});
