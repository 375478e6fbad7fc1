import { describe, expect, it } from 'vitest';
import type { ChangeRecord, ParkingLot, ViewStore } from '../../../projections/ports.js';
import type { StoredEvent } from '../../../eventstore/types.js';
import { createLogger } from '../../../functions/observability/logger.js';
import type { OrderEvent } from '../../../domain/order/index.js';
import { ordersProjection, type OrderView } from '../../../projections/orders.js';
import type { Versioned } from '../../../projections/projection.js';
import { applyStream, redrive, runProjection } from '../../../projections/runner.js';
import { stored } from './givenView.js';

/**
 * Views in memory, each write taking a few milliseconds, with the most writes ever in flight at once, and how many
 * reads of one view and of many were made.
 */
const slowViews = () => {
  const views = new Map<string, Versioned<OrderView>>();
  let inFlight = 0;
  let most = 0;
  const reads = { one: 0, many: 0 };
  const store: Pick<ViewStore<OrderView>, 'get' | 'getMany' | 'put'> = {
    async get(key) {
      reads.one += 1;
      return views.get(String(key.orderId));
    },
    async getMany(keys) {
      reads.many += 1;
      return keys.map((key) => views.get(String(key.orderId)));
    },
    async put(view, version, previousVersion) {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      if ((views.get(view.orderId)?.version ?? 0) !== previousVersion) return 'stale';
      views.set(view.orderId, { view, version });
      return 'written';
    },
  };
  return { store, views, reads, most: () => most };
};

const noParking: ParkingLot = {
  parked: async () => new Set(),
  park: async () => undefined,
  unpark: async () => undefined,
  list: async () => [],
};

const placedAndConfirmed = (orderId: string): OrderEvent[] => [
  {
    type: 'OrderPlaced',
    data: {
      orderId,
      customerId: 'customer-1',
      lines: [{ sku: 'MUG-1', quantity: 1, unitPrice: { amount: 1250, currency: 'EUR' } }],
      total: { amount: 1250, currency: 'EUR' },
      paymentToken: 'tok_visa',
    },
  },
  { type: 'OrderConfirmed', data: { orderId } },
];

/** The change records of an order placed twice over: its second OrderPlaced is one the projection cannot apply. */
const placedTwice = (orderId: string) => {
  const [placed] = placedAndConfirmed(orderId);
  return stored(`order-${orderId}`, [placed, placed] as OrderEvent[]).map((event, i) => ({
    sequenceNumber: String(i + 1),
    eventName: 'INSERT',
    event,
  }));
};

describe('runProjection', () => {
  it('reads a batch’s views at once, applies its streams a few at a time, each in its own order, and writes each view once', async () => {
    const { store, views, reads, most } = slowViews();
    const orderIds = Array.from({ length: 20 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    let sequence = 0;
    const records = orderIds
      .flatMap((orderId) => stored(`order-${orderId}`, placedAndConfirmed(orderId)))
      .map((event) => ({ sequenceNumber: String(++sequence), eventName: 'INSERT', event }));
    const writes: string[] = [];
    const counted: Pick<ViewStore<OrderView>, 'get' | 'getMany' | 'put'> = {
      ...store,
      put: (view, version, previous) => {
        writes.push(view.orderId);
        return store.put(view, version, previous);
      },
    };

    const result = await runProjection(ordersProjection, records, {
      views: counted,
      parking: noParking,
      readRange: async () => [],
      logger: createLogger({ level: 'error', sink: () => undefined }),
      streamConcurrency: 4,
    });

    expect(result).toMatchObject({ applied: 40, duplicates: 0, parked: [], retry: [] });
    expect(most()).toBe(4);
    // One read for the whole batch, none per stream.
    expect(reads).toEqual({ one: 0, many: 1 });
    expect(writes.toSorted()).toEqual(orderIds.toSorted());
    for (const orderId of orderIds)
      expect(views.get(orderId)).toMatchObject({ version: 2, view: { status: 'CONFIRMED' } });
  });

  it('parks a stream on an event it cannot apply, saying why once: the projection’s error already tells its cause', async () => {
    const { store, views } = slowViews();
    const orderId = '00000000-0000-4000-8000-0000000000c1';
    const records = placedTwice(orderId);
    const parkedWith: string[] = [];
    const parkedAt: number[] = [];
    const parking: ParkingLot = {
      ...noParking,
      park: async ({ error, version }) => {
        parkedWith.push(error);
        parkedAt.push(version);
      },
    };

    const result = await runProjection(ordersProjection, records, {
      views: store,
      parking,
      readRange: async () => [],
      logger: createLogger({ level: 'error', sink: () => undefined }),
    });

    expect(result.parked).toHaveLength(1);
    // Parked at the event that failed, and the view keeps what applied before it: it stops exactly there.
    expect(parkedAt).toEqual([2]);
    expect(views.get(orderId)).toMatchObject({ version: 1, view: { status: 'PENDING' } });
    const cause = `order-${orderId}: OrderPlaced at version 2 again`;
    expect(parkedWith).toEqual([
      `ProjectionApplyError: orders cannot apply OrderPlaced at order-${orderId}@2: Error: ${cause}`,
    ]);
  });

  it('parks under the name it is given (another slot’s) while its lines name the projection, as its metrics do', async () => {
    const { store } = slowViews();
    const orderId = '00000000-0000-4000-8000-0000000000c2';
    const records = placedTwice(orderId);
    const parkedUnder: string[] = [];
    const askedUnder: string[] = [];
    const parking: ParkingLot = {
      ...noParking,
      parked: async (projection) => {
        askedUnder.push(projection);
        return new Set();
      },
      park: async ({ projection }) => void parkedUnder.push(projection),
    };
    const lines: Record<string, unknown>[] = [];
    await runProjection(ordersProjection, records, {
      views: store,
      parking,
      parkedUnder: 'orders@green',
      readRange: async () => [],
      logger: createLogger({ level: 'error', sink: (line) => void lines.push(JSON.parse(line)) }),
    });
    expect({ askedUnder, parkedUnder }).toEqual({ askedUnder: ['orders@green'], parkedUnder: ['orders@green'] });
    expect(lines).toEqual([
      expect.objectContaining({ message: 'poison event: stream parked until redriven', projection: 'orders' }),
    ]);
  });

  it('parks a stream at a change whose events cannot be read, after applying what came before it, and holds back what follows', async () => {
    const { store, views } = slowViews();
    const [broken, other] = ['00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-0000000000d2'];
    const [placed, confirmed] = stored(`order-${broken}`, placedAndConfirmed(broken)) as StoredEvent[];
    const records: ChangeRecord[] = [
      { sequenceNumber: '1', eventName: 'INSERT', event: placed as StoredEvent },
      // The record at sequence number 2, version 2, could not be read (an upcaster threw): it is not among `records`.
      { sequenceNumber: '3', eventName: 'INSERT', event: { ...(confirmed as StoredEvent), version: 3 } },
    ];
    const upcaster = new TypeError("Cannot read properties of undefined (reading 'amount')");
    const unreadable = [
      { sequenceNumber: '2', streamId: `order-${broken}`, version: 2, error: upcaster },
      // Another projection's stream: not this one's to park.
      { sequenceNumber: '4', streamId: `product-${other}`, version: 1, error: upcaster },
    ];
    const parkedAt: { streamId: string; version: number; error: string }[] = [];
    const parking: ParkingLot = {
      ...noParking,
      park: async ({ streamId, version, error }) => void parkedAt.push({ streamId, version, error }),
    };

    const result = await runProjection(
      ordersProjection,
      records,
      {
        views: store,
        parking,
        readRange: async () => [],
        logger: createLogger({ level: 'silent', sink: () => undefined }),
      },
      unreadable,
    );

    expect(result).toMatchObject({ applied: 1, heldBack: 1, parked: [`order-${broken}`], retry: [] });
    expect(views.get(broken)).toMatchObject({ version: 1, view: { status: 'PENDING' } });
    expect(parkedAt).toEqual([{ streamId: `order-${broken}`, version: 2, error: `TypeError: ${upcaster.message}` }]);
  });

  it('takes an unreadable change its view already holds for a duplicate, and applies what follows', async () => {
    const { store, views } = slowViews();
    const orderId = '00000000-0000-4000-8000-0000000000d3';
    const [placed, confirmed] = stored(`order-${orderId}`, placedAndConfirmed(orderId)) as StoredEvent<OrderEvent>[];
    const view = placed && ordersProjection.evolve(undefined, placed);
    if (view) views.set(orderId, { view, version: 1 });
    // Kinesis delivers the placement again, now that an upcaster throws on it, with the confirmation after it.
    const records: ChangeRecord[] = [{ sequenceNumber: '2', eventName: 'INSERT', event: confirmed as StoredEvent }];
    const unreadable = [{ sequenceNumber: '1', streamId: `order-${orderId}`, version: 1, error: new Error('x') }];
    const parkedAt: number[] = [];
    const parking: ParkingLot = { ...noParking, park: async ({ version }) => void parkedAt.push(version) };

    const result = await runProjection(
      ordersProjection,
      records,
      { views: store, parking, readRange: async () => [], logger: createLogger({ level: 'silent', sink: () => {} }) },
      unreadable,
    );

    expect(result).toMatchObject({ applied: 1, duplicates: 1, heldBack: 0, parked: [] });
    expect(parkedAt).toEqual([]);
    expect(views.get(orderId)).toMatchObject({ version: 2, view: { status: 'CONFIRMED' } });
  });

  it('holds back every record of a parked stream, writing nothing for it', async () => {
    const { store, views } = slowViews();
    const orderId = '00000000-0000-4000-8000-0000000000f1';
    const [placed, confirmed] = placedAndConfirmed(orderId) as [OrderEvent, OrderEvent];
    const records = stored(`order-${orderId}`, [placed, confirmed, confirmed]).map((event, i) => ({
      sequenceNumber: String(i + 1),
      eventName: 'INSERT',
      event: event as StoredEvent,
    }));
    const parking: ParkingLot = { ...noParking, parked: async () => new Set([`order-${orderId}`]) };

    const result = await runProjection(ordersProjection, records, {
      views: store,
      parking,
      readRange: async () => [],
      logger: createLogger({ level: 'silent', sink: () => undefined }),
    });

    expect(result).toMatchObject({ applied: 0, heldBack: 3, parked: [] });
    expect(views.has(orderId)).toBe(false);
  });

  it('a view write another writer won is read again and caught up, not counted as written', async () => {
    const { store, views } = slowViews();
    const orderId = '00000000-0000-4000-8000-0000000000f2';
    const events = stored(`order-${orderId}`, [
      ...placedAndConfirmed(orderId).slice(0, 1),
      { type: 'StockReserved', data: { orderId, lines: [{ sku: 'MUG-1', quantity: 1 }] } },
      { type: 'OrderConfirmed', data: { orderId } },
    ] as OrderEvent[]) as StoredEvent<OrderEvent>[];
    // Another writer (a replay in place) wrote the view at version 2 just before this one's first write.
    const theirs = events.slice(0, 2).reduce<OrderView | undefined>((v, e) => ordersProjection.evolve(v, e), undefined);
    let raced = false;
    const racing: Pick<ViewStore<OrderView>, 'get' | 'put'> = {
      get: store.get,
      put: async (view, version, previous) => {
        if (!raced && theirs) {
          raced = true;
          views.set(orderId, { view: theirs, version: 2 });
        }
        return store.put(view, version, previous);
      },
    };

    const result = await applyStream(ordersProjection, `order-${orderId}`, events, {
      views: racing,
      readRange: async () => [],
    });

    expect(result).toEqual({ applied: 1, version: 3 });
    expect(views.get(orderId)).toMatchObject({ version: 3, view: { status: 'CONFIRMED' } });
  });

  it('says a failure’s cause where its message does not: a redrive whose read fails', async () => {
    const { store } = slowViews();
    const parked = { projection: 'orders', streamId: 'order-x', version: 2, error: 'earlier', parkedAt: '' };
    const kept: unknown[] = [];
    const parking: ParkingLot = { ...noParking, list: async () => [parked], park: async (p) => void kept.push(p) };

    const results = await redrive(ordersProjection, {
      targets: [{ views: store, parkedAs: 'orders' }],
      parking,
      readRange: async () => [],
      readAll: async () => {
        throw new Error('the read failed', { cause: new Error('throttled') });
      },
    });

    expect(results).toEqual([
      { streamId: 'order-x', outcome: 'parked-again', applied: 0, error: 'Error: the read failed (throttled)' },
    ]);
    expect(kept).toEqual([parked]);
  });

  it('words a redrive that parks a stream again as the parking does: the error’s name first', async () => {
    const { store } = slowViews();
    const orderId = '00000000-0000-4000-8000-00000000000d';
    const parked = { projection: 'orders', streamId: `order-${orderId}`, version: 1, error: 'earlier', parkedAt: '' };
    const kept: { error: string }[] = [];
    const parking: ParkingLot = { ...noParking, list: async () => [parked], park: async (p) => void kept.push(p) };
    // Its confirmation without its placement: the projection cannot apply it.
    const [, confirmed] = stored(`order-${orderId}`, placedAndConfirmed(orderId)) as StoredEvent[];

    const [result] = await redrive(ordersProjection, {
      targets: [{ views: store, parkedAs: 'orders' }],
      parking,
      readRange: async () => [],
      readAll: async () => [{ ...(confirmed as StoredEvent), version: 1 }],
    });

    expect(result).toMatchObject({ outcome: 'parked-again', error: expect.stringMatching(/^ProjectionApplyError: /) });
    expect(kept.map((p) => p.error)).toEqual([result?.error]);
  });

  it('hands a stream a throttle outlasted back to Lambda from its lowest record, after its own tries, and applies the rest', async () => {
    const { store, views } = slowViews();
    const [throttled, healthy] = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
    const tries = new Map<string, number>();
    const failing: Pick<ViewStore<OrderView>, 'get' | 'getMany' | 'put'> = {
      ...store,
      put: async (view, version, previous) => {
        tries.set(view.orderId, (tries.get(view.orderId) ?? 0) + 1);
        if (view.orderId === throttled) {
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
            name: 'ProvisionedThroughputExceededException',
            $retryable: { throttling: true },
          });
        }
        return store.put(view, version, previous);
      },
    };
    // The throttled stream's records at sequence numbers 7 and 30, interleaved with the healthy stream's.
    const [placedT, confirmedT] = stored(`order-${throttled}`, placedAndConfirmed(throttled));
    const [placedH, confirmedH] = stored(`order-${healthy}`, placedAndConfirmed(healthy));
    const records = [
      { sequenceNumber: '30', eventName: 'INSERT', event: confirmedT },
      { sequenceNumber: '5', eventName: 'INSERT', event: placedH },
      { sequenceNumber: '7', eventName: 'INSERT', event: placedT },
      { sequenceNumber: '31', eventName: 'INSERT', event: confirmedH },
    ].map((record) => ({ ...record, event: record.event as NonNullable<typeof record.event> }));

    const lines: Record<string, unknown>[] = [];
    const result = await runProjection(ordersProjection, records, {
      views: failing,
      parking: noParking,
      readRange: async () => [],
      logger: createLogger({ level: 'warn', sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }),
    });

    // Lambda checkpoints before the lowest record it is handed: a higher one would skip the stream's first event.
    expect(result).toMatchObject({
      applied: 2,
      parked: [],
      retry: [{ streamId: `order-${throttled}`, sequenceNumber: '7' }],
    });
    expect(tries.get(throttled)).toBe(3);
    expect(views.get(healthy)).toMatchObject({ version: 2, view: { status: 'CONFIRMED' } });
    expect(views.has(throttled)).toBe(false);
    // Its line names the order, as the runbook's queries follow one: not only its stream.
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        projection: 'orders',
        orderId: throttled,
        streamId: `order-${throttled}`,
      }),
    );
  });
});
