import { describe, expect, it } from 'vitest';
import { orderAggregate } from '../../../application/aggregates.js';
import { load, parseEvent } from '../../../application/handleCommand.js';
import { orderHistory } from '../../../application/orderHistory.js';
import { OrderEvent, orderStreamId } from '../../../domain/order/index.js';
import { CorruptEventError } from '../../../eventstore/errors.js';
import { memoryEventStore, memoryTables } from '../../../eventstore/memoryEventStore.js';
import { eventSchemaRegistry } from '../../../eventstore/upcasting.js';
import { checkReadModel } from '../../../ops/invariants.js';
import { foldOrder } from '../../../ops/orderReport.js';
import { catchUp, ordersProjection, ProjectionApplyError } from '../../../projections/index.js';
import { testMetadata } from '../../support/metadata.js';
import { orderPlaced, orderStockReserved } from '../../support/orderEvents.js';

/**
 * A rollback: a later release wrote `OrderPlaced` at schema version 2 (its step from 1 changes nothing visible, as a
 * change of a field's meaning would not), and this code, which knows version 1, reads the stream. The data fits
 * today's schema; every reader refuses it all the same, as it refuses a shape it does not know.
 */
const orderId = '00000000-0000-4000-8000-0000000000bb';
const streamId = orderStreamId(orderId);
const tables = memoryTables();
const later = memoryEventStore({ schemas: eventSchemaRegistry({ OrderPlaced: { 1: (data) => data } }), tables });
const older = memoryEventStore({ schemas: eventSchemaRegistry(), tables });
await later.append(
  [{ streamId, expectedVersion: 0, events: [orderPlaced(orderId), orderStockReserved(orderId)] }],
  testMetadata(),
);
const events = await older.readStream(streamId);

describe('an event a later release wrote at a newer schema version', () => {
  it('is read as written, its version kept, and marked; the events of known versions are not', async () => {
    expect(events.map(({ type, schemaVersion, newerSchema }) => [type, schemaVersion, newerSchema])).toEqual([
      ['OrderPlaced', 2, true],
      ['StockReserved', 1, undefined],
    ]);
    // The release that wrote it reads it as its own.
    expect((await later.readStream(streamId)).map((event) => event.newerSchema)).toEqual([undefined, undefined]);
  });

  it('is refused by the deciders’ load, naming its version', async () => {
    const [placed] = events;
    if (!placed) throw new Error('no event read');
    expect(() => parseEvent(OrderEvent, placed)).toThrow(CorruptEventError);
    const refused = await load(older, orderAggregate, streamId).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CorruptEventError);
    expect(refused).toMatchObject({ message: `Event ${streamId}@1 (schema version 2) does not match its schema.` });
    expect((refused as Error).cause).toMatchObject({ message: expect.stringContaining('newer than this code reads') });
  });

  it('is refused by a projection, which parks the stream at it', async () => {
    const refused = await catchUp(ordersProjection, streamId, { view: undefined, version: 0 }, events, () =>
      Promise.resolve([]),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProjectionApplyError);
    expect(refused).toMatchObject({ streamId, version: 1, type: 'OrderPlaced' });
  });

  it('is shown in the order’s history as unread: its type, and none of its data', async () => {
    const history = await orderHistory({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, older);
    expect(history.map(({ type, data }) => [type, data])).toEqual([
      ['OrderPlaced', {}],
      ['StockReserved', orderStockReserved(orderId).data],
    ]);
  });

  it('stops npm run order’s fold and fails the invariants’ fold, each naming it', () => {
    expect(foldOrder(events).unreadable).toEqual({
      version: 1,
      type: 'OrderPlaced',
      reason: 'written at schema version 2 by a later release, newer than this code reads',
    });
    const { violations } = checkReadModel(ordersProjection, new Map([[streamId, events]]), []);
    expect(violations).toEqual([expect.stringContaining('newer than this code reads')]);
  });
});
