import { orderStreamId } from '../domain/order/index.js';
import { type ShownOrderEvent, shownOrderEvent, type UnreadEvent } from '../domain/order/shown.js';
import { OrderNotFoundError } from '../domain/shared/errors.js';
import type { EventStore } from '../eventstore/types.js';
import { newerSchema } from '../eventstore/upcasting.js';
import { type Caller, mayAccess } from './caller.js';

export type OrderHistoryEntry = (ShownOrderEvent | UnreadEvent) & {
  version: number;
  recordedAt: string;
  correlationId: string;
};

/**
 * The order's events as stored, for its customer or an admin, each with only the fields its shown form names: the
 * payment token is for the gateway, not for anyone reading the history.
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
  return events.map((event) => ({
    // One a later release wrote is shown as unread, whatever its data: this code cannot know what it means.
    ...(newerSchema(event) ? { type: event.type, data: {} } : shownOrderEvent(event)),
    version: event.version,
    recordedAt: event.recordedAt,
    correlationId: event.metadata.correlationId,
  }));
};
