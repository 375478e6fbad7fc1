import { describe, expect, it, vi } from 'vitest';
import type { OrderEvent } from '../../../domain/order/index.js';
import type { StoredEvent } from '../../../eventstore/types.js';
import { ordersProjection, type OrderView } from '../../../projections/orders.js';
import {
  type Checkpoints,
  ClearStopped,
  type ParkingLot,
  type PointerStore,
  type ScanPosition,
  type SegmentProgress,
  type ViewStore,
} from '../../../projections/ports.js';
import type { Projection, Versioned } from '../../../projections/projection.js';
import {
  abortBuild,
  initialPointer,
  markReady,
  parkedIn,
  type ReadModelPointer,
  redrivePlan,
  scanDone,
  type Slot,
  startBuild,
} from '../../../projections/readModelVersions.js';
import {
  beginRebuild,
  catchUpNoted,
  checkParity,
  dropVersion,
  endScan,
  type RebuildDependencies,
  rebuildSegment,
  rebuildTarget,
  rollBackTo,
  settleCheck,
  switchTo,
} from '../../../projections/replay/rebuild.js';
import { runRebuild } from '../../../projections/replay/rebuildJob.js';
import { replaySegment, replayTarget } from '../../../projections/replay/segments.js';
import { redrive } from '../../../projections/runner.js';
import { orderPlaced } from '../../support/orderEvents.js';
import { stored } from './givenView.js';
import { memoryParkingLot } from '../../support/memoryParkingLot.js';

/** One slot's views in memory, keyed by order id. */
const memoryViews = (): ViewStore<OrderView> & { all: Map<string, Versioned<OrderView>> } => {
  const all = new Map<string, Versioned<OrderView>>();
  return {
    all,
    get: async (key) => all.get(String(key.orderId)),
    getMany: async (keys) => keys.map((key) => all.get(String(key.orderId))),
    async put(view, version, previousVersion) {
      if ((all.get(view.orderId)?.version ?? 0) !== previousVersion) return 'stale';
      all.set(view.orderId, { view, version });
      return 'written';
    },
    async putAll(views) {
      for (const item of views) all.set(item.view.orderId, item);
    },
    sample: async (limit) => [...all.values()].slice(0, limit),
    // One view a page, as the store's scan deletes them page by page, asking `keepGoing` before each.
    async clear(_keyNames, _segments, keepGoing) {
      let count = 0;
      for (const key of [...all.keys()]) {
        if (keepGoing && !(await keepGoing())) throw new ClearStopped();
        all.delete(key);
        count += 1;
      }
      return count;
    },
  };
};

const memoryParking = memoryParkingLot;

const orderId = '00000000-0000-4000-8000-000000000001';
const streamId = `order-${orderId}`;
const placed: OrderEvent = orderPlaced(orderId);
/** Version 2 is an event this projection refuses (a second OrderPlaced); version 3 cancels the order. */
const poisoned: StoredEvent[] = stored(streamId, [
  placed,
  placed,
  { type: 'OrderCancelled', data: { orderId, previousStatus: 'PENDING' } },
]);
/** The projection once the cause is fixed: a repeated OrderPlaced changes nothing. */
const fixed: Projection<OrderView, OrderEvent> = {
  ...ordersProjection,
  evolve: (view, event) =>
    view && event.type === 'OrderPlaced' ? view : ordersProjection.evolve(view, event as StoredEvent<OrderEvent>),
};

const given = (events: StoredEvent[] = poisoned) => {
  const views: Record<Slot, ReturnType<typeof memoryViews>> = { blue: memoryViews(), green: memoryViews() };
  const parking = memoryParking();
  let pointer: ReadModelPointer = initialPointer('orders');
  const pointers: PointerStore = {
    get: async () => pointer,
    replace: async (next) => {
      pointer = next;
    },
  };
  const deps = {
    events: {
      page: async () => ({ events }),
      streamIds: async () => [streamId],
      positionAfter: (event: StoredEvent) => ({ streamId: event.streamId, version: event.version }),
      approximateCount: async () => events.length,
    },
    store: { readStream: async () => events },
    parking,
    pointers,
    notes: { note: async () => undefined, noted: async () => [], forget: async () => undefined },
    cacheMs: 0,
    sleep: async () => undefined,
  } as unknown as RebuildDependencies;
  const target = rebuildTarget(ordersProjection, views);
  const saved = new Map<number, { lastKey?: ScanPosition; progress: SegmentProgress }>();
  const checkpoints: Checkpoints = {
    load: async (segment) => saved.get(segment),
    save: async (lastKey, progress) => void saved.set(progress.segment, { ...(lastKey ? { lastKey } : {}), progress }),
    list: async () => [...saved.values()].map(({ progress }) => progress),
  };
  /** The green version built (scan done) and checked, as `--rebuild --no-switch` leaves it. */
  const build = async () => {
    const now = new Date('2026-11-30T12:00:00Z');
    pointer = startBuild(pointer, { runId: 'run-1', segments: 1, now });
    await rebuildSegment({ deps, target, runId: 'run-1', slot: 'green', segment: 0, totalSegments: 1, checkpoints });
    pointer = markReady(scanDone(pointer, 'run-1', now), 'run-1', { sampled: 1, mismatches: 0 }, now);
  };
  const clients = {
    rebuildDependencies: deps,
    rebuildTargets: { orders: target, products: target },
    checkpoints: () => checkpoints,
  };
  return { views, parking, deps, target, build, clients, pointer: () => pointer };
};

describe('a rebuild meeting a stream its projection refuses', () => {
  it('parks it under the new version’s own name, so the live version is not held back, with its view before the event', async () => {
    const { views, parking, build } = given();
    await build();
    expect(parking.names()).toEqual(['orders@green']);
    expect(await parking.list('orders@green')).toMatchObject([{ streamId, version: 2 }]);
    expect(views.green.all.get(orderId)?.version).toBe(1);
  });

  it('refuses to switch readers to it while the stream is parked there, naming it', async () => {
    const { parking, deps, target, build, pointer } = given();
    await build();
    await expect(switchTo(deps, target)).rejects.toThrow(
      `orders: 1 stream(s) are parked in read model version 2 at an earlier event than in the live one (${streamId}@2, live not parked): fix the cause, run npm run redrive, then switch`,
    );
    // Parked live too, but at a later event: the new version's view is further behind, and the message says where.
    await parking.park({ projection: 'orders', streamId, version: 3, error: 'refused', parkedAt: '' });
    await expect(switchTo(deps, target)).rejects.toThrow(`(${streamId}@2, live @3)`);
    expect(pointer().live.slot).toBe('blue');
  });

  it('once fixed, a redrive of every written table catches the stream up in both, unparks it, and the switch goes', async () => {
    const { views, parking, deps, target, build, pointer } = given();
    await build();
    // The live version parked it too, as the live projection does (under the projection's own name), its view left
    // before the event.
    const first = ordersProjection.evolve(undefined, poisoned[0] as StoredEvent<OrderEvent>);
    await views.blue.put(first, 1, 0);
    await parking.park({ projection: 'orders', streamId, version: 2, error: 'refused', parkedAt: '' });
    const plan = redrivePlan(pointer());
    const results = await redrive(fixed, {
      targets: plan.slots.map(({ slot, parkedAs, alsoParkedAs }) => ({ views: views[slot], parkedAs, alsoParkedAs })),
      dropped: plan.dropped,
      parking,
      readRange: async () => poisoned,
      readAll: async () => poisoned,
    });
    expect(results).toEqual([{ streamId, outcome: 'completed', applied: 2 }]);
    expect(parking.names()).toEqual([]);
    for (const slot of ['blue', 'green'] as const) {
      expect(views[slot].all.get(orderId)).toMatchObject({ version: 3, view: { status: 'CANCELLED' } });
    }
    expect((await switchTo(deps, target)).live.slot).toBe('green');
  });

  it('switches when the live version parked the stream at the same event: neither view goes back', async () => {
    const { parking, deps, target, build } = given();
    await build();
    await parking.park({ projection: 'orders', streamId, version: 2, error: 'refused', parkedAt: '' });
    const pointer = await switchTo(deps, target);
    expect(pointer.live.slot).toBe('green');
    // Each version keeps its own parked streams under its own name, whichever is live: nothing moved.
    expect(parking.names().sort()).toEqual(['orders', 'orders@green']);
  });

  it('refuses to roll back to a version that parked a stream the live one applied, until a redrive', async () => {
    const { parking, deps, target, clients, pointer } = given(stored(streamId, [placed]));
    const switched = await runRebuild({ clients, projection: 'orders', segments: 1 });
    expect(switched.pointer).toMatchObject({ live: { slot: 'green' }, previous: { slot: 'blue' } });
    // Blue, kept for rollback, parks a stream that green applied.
    await parking.park({ projection: 'orders', streamId, version: 1, error: 'refused', parkedAt: '' });
    await expect(rollBackTo(deps, target)).rejects.toThrow(
      `orders: 1 stream(s) are parked in read model version 1 at an earlier event than in the live one (${streamId}@1, live not parked): fix the cause, run npm run redrive, then roll back`,
    );
    expect(pointer().live.slot).toBe('green');
    await parking.unpark('orders', streamId);
    expect((await rollBackTo(deps, target)).live.slot).toBe('blue');
  });

  it('forgets what an aborted version parked, with its views', async () => {
    const { parking, deps, target, build } = given();
    await build();
    await dropVersion(deps, target, 'abort', 1);
    expect(parking.names()).toEqual([]);
  });

  it('forgets what was left parked in a slot when a new build begins there', async () => {
    const { parking, deps, target } = given();
    await parking.park({ projection: 'orders@green', streamId, version: 2, error: 'left over', parkedAt: '' });
    await beginRebuild(deps, target, { runId: 'run-2', segments: 1, resume: false });
    expect(parking.names()).toEqual([]);
  });

  it('tells onBegun once the pointer names the build, before it waits out the readers’ cache: a stop then can resume', async () => {
    const { deps, target } = given();
    const steps: string[] = [];
    const waiting = { ...deps, sleep: async () => void steps.push('wait') };
    const onBegun = () => steps.push('begun');
    await beginRebuild(waiting, target, { runId: 'run-5', segments: 1, resume: false, onBegun });
    expect(steps).toEqual(['begun', 'wait']);
    // Resumed, it is begun at once too, before the wait a stopped first run may not have finished.
    steps.length = 0;
    await beginRebuild(waiting, target, { runId: 'run-6', segments: 1, resume: true, onBegun });
    expect(steps).toEqual(['begun', 'wait']);
  });

  it('parks a stream the catch-up cannot apply in the new version, so the switch sees it', async () => {
    const { parking, deps, target, pointer } = given();
    await beginRebuild(deps, target, { runId: 'run-3', segments: 1, resume: false });
    const noted: RebuildDependencies = {
      ...deps,
      notes: { note: async () => undefined, noted: async () => [streamId], forget: async () => undefined },
    };
    await endScan(noted, target, 'run-3');
    expect(await catchUpNoted(noted, target, { runId: 'run-3', slot: 'green' })).toEqual({ streams: 1, failed: 1 });
    expect(await parking.list('orders@green')).toMatchObject([{ streamId, version: 2 }]);
    await settleCheck(deps, target, 'run-3', { sampled: 0, mismatches: 0 });
    expect(pointer().building?.phase).toBe('ready');
    await expect(switchTo(deps, target)).rejects.toThrow('parked in read model version 2 at an earlier event');
  });
});

/** The rebuild's dependencies with the stream noted for its catch-up, and every read of the store refused with `error`. */
const notedButRefused = (deps: RebuildDependencies, error: Error): RebuildDependencies => ({
  ...deps,
  store: {
    readStream: async () => {
      throw error;
    },
  } as unknown as RebuildDependencies['store'],
  notes: { note: async () => undefined, noted: async () => [streamId], forget: async () => undefined },
});

describe('a rebuild’s catch-up meeting a stream whose events cannot be read', () => {
  it('parks it in the new version at the first event its view lacks, and goes on: a resume would fail the same way', async () => {
    const { parking, deps, target } = given();
    await beginRebuild(deps, target, { runId: 'run-4', segments: 1, resume: false });
    // An upcaster deployed during the scan throws on the noted stream's events.
    const unreadable = notedButRefused(deps, new TypeError('the upcaster cannot read this OrderPlaced'));
    await endScan(unreadable, target, 'run-4');

    expect(await catchUpNoted(unreadable, target, { runId: 'run-4', slot: 'green' })).toEqual({
      streams: 1,
      failed: 1,
    });
    expect(await parking.list('orders@green')).toMatchObject([
      { streamId, version: 1, error: 'TypeError: the upcaster cannot read this OrderPlaced' },
    ]);
  });

  it('leaves a throttle to the caller, which resumes the catch-up', async () => {
    const { parking, deps, target } = given();
    await beginRebuild(deps, target, { runId: 'run-5', segments: 1, resume: false });
    const throttled = notedButRefused(
      deps,
      Object.assign(new Error('Rate exceeded'), {
        name: 'ProvisionedThroughputExceededException',
        $retryable: { throttling: true },
      }),
    );
    await endScan(throttled, target, 'run-5');

    await expect(catchUpNoted(throttled, target, { runId: 'run-5', slot: 'green' })).rejects.toThrow('Rate exceeded');
    expect(await parking.list('orders@green')).toEqual([]);
  });
});

describe('a rebuild or a replay meeting items whose events cannot be read (an upcaster throws on them)', () => {
  const upcaster = new TypeError('the upcaster cannot read this OrderCancelled');
  /** The order's placement readable, its next item not; a product's item not readable either. */
  const scanned = () => {
    const [first] = stored(streamId, [placed]);
    return {
      events: first ? [first] : [],
      unreadable: [
        { streamId, version: 2, error: upcaster, at: 1 },
        { streamId: 'product-MUG-1', version: 1, error: upcaster, at: 1 },
      ],
    };
  };

  it('a rebuild folds the stream up to the item and parks it there, and passes another projection’s by', async () => {
    const { views, parking, deps, build } = given();
    deps.events.page = async () => scanned();
    await build();
    expect(await parking.list('orders@green')).toMatchObject([
      // Worded as the live projection words it: `npm run redrive` lists a stream the same whoever parked it.
      { streamId, version: 2, error: 'TypeError: the upcaster cannot read this OrderCancelled' },
    ]);
    expect(parking.names()).toEqual(['orders@green']);
    expect(views.green.all.get(orderId)).toMatchObject({ version: 1, view: { status: 'PENDING' } });
  });

  it('an in-place replay applies the stream up to the item and parks it there, and passes another projection’s by', async () => {
    const { views, parking, deps } = given();
    const checkpoints: Checkpoints = { load: async () => undefined, save: async () => undefined, list: async () => [] };
    const progress = await replaySegment({
      events: { ...deps.events, page: async () => scanned() },
      segment: 0,
      totalSegments: 1,
      targets: [replayTarget(ordersProjection, views.blue, 'orders')],
      readRange: async () => [],
      parking,
      checkpoints,
    });
    // It folded the order's stream only: the product's, read beside it, is not counted, as a rebuild counts.
    expect(progress).toMatchObject({ done: true, failed: 1, streams: 1 });
    expect(await parking.list('orders')).toMatchObject([
      { streamId, version: 2, error: 'TypeError: the upcaster cannot read this OrderCancelled' },
    ]);
    expect(parking.names()).toEqual(['orders']);
    expect(views.blue.all.get(orderId)).toMatchObject({ version: 1 });
  });
});

describe('an in-place replay meeting a stream its projection refuses', () => {
  it('parks it under the name of the slot it writes: green live, green’s name, where green’s writes are held back', async () => {
    const { views, parking, deps } = given();
    const checkpoints: Checkpoints = { load: async () => undefined, save: async () => undefined, list: async () => [] };
    await replaySegment({
      events: deps.events,
      segment: 0,
      totalSegments: 1,
      targets: [replayTarget(ordersProjection, views.green, parkedIn('orders', 'green'))],
      readRange: async () => poisoned,
      parking,
      checkpoints,
    });
    expect(parking.names()).toEqual(['orders@green']);
  });
});

describe('an in-place replay meeting a poisoned stream cut by a page boundary', () => {
  it('parks it, and counts it once: the rest of it, on the next page, meets it parked where the first part left it', async () => {
    const { views, parking, deps } = given();
    const checkpoints: Checkpoints = { load: async () => undefined, save: async () => undefined, list: async () => [] };
    // Its poison event (version 2) on the first page, its cancellation on the second.
    const pages = [poisoned.slice(0, 2), poisoned.slice(2)];
    const progress = await replaySegment({
      events: {
        ...deps.events,
        page: async ({ after }) =>
          after ? { events: pages[1] ?? [] } : { events: pages[0] ?? [], next: { streamId, version: 2 } },
      },
      segment: 0,
      totalSegments: 1,
      targets: [replayTarget(ordersProjection, views.blue, 'orders')],
      readRange: async () => poisoned.slice(1, 2),
      parking,
      checkpoints,
    });
    // It folded the order's stream only: the product's, read beside it, is not counted, as a rebuild counts.
    expect(progress).toMatchObject({ done: true, failed: 1, streams: 1 });
    expect(await parking.list('orders')).toMatchObject([{ streamId, version: 2 }]);
    expect(views.blue.all.get(orderId)?.version).toBe(1);
  });
});

describe('a redrive that cannot read a stream', () => {
  it('parks it again as it was, so it stays held back and a later redrive finds it', async () => {
    const parking = memoryParking();
    const entry = { projection: 'orders', streamId, version: 2, error: 'refused', parkedAt: 'then' };
    await parking.park(entry);
    const results = await redrive(fixed, {
      targets: [{ views: memoryViews(), parkedAs: 'orders' }],
      parking,
      readRange: async () => [],
      readAll: async () => {
        throw new Error('throttled');
      },
    });
    expect(results).toEqual([{ streamId, outcome: 'parked-again', applied: 0, error: 'Error: throttled' }]);
    expect(await parking.list('orders')).toEqual([entry]);
  });
});

describe('a rebuild resumed once it is ready', () => {
  it('reports the parity check of the run that built it, and reads nothing again', async () => {
    const healthy = stored(streamId, [placed]);
    const { clients } = given(healthy);
    const first = await runRebuild({ clients, projection: 'orders', segments: 1, switchWhenReady: false });
    expect(first).toMatchObject({ phase: 'ready', switched: false, events: 1, eventsBefore: 0 });
    expect(first.parity).toEqual({ sampled: 1, mismatches: [] });

    const resumed = await runRebuild({ clients, projection: 'orders', segments: 1, resume: true });
    expect(resumed).toMatchObject({ resumed: true, switched: true, events: 1, eventsBefore: 1, eventsPerSecond: 0 });
    expect(resumed.parity).toEqual({ sampled: 1, mismatches: [], earlier: true });
  });
});

describe('redrivePlan', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  it('redrives the live slot alone, under its own name and its slot name, and forgets the idle slot’s', () => {
    expect(redrivePlan(initialPointer('orders'))).toEqual({
      slots: [{ slot: 'blue', parkedAs: 'orders', alsoParkedAs: ['orders@blue'] }],
      dropped: ['orders@green'],
    });
  });

  it('leaves a version in its bulk phase parked: its views are not written yet', () => {
    const scanning = startBuild(initialPointer('orders'), { runId: 'r', segments: 1, now });
    expect(redrivePlan(scanning)).toEqual({
      slots: [{ slot: 'blue', parkedAs: 'orders', alsoParkedAs: ['orders@blue'] }],
      dropped: [],
    });
    expect(redrivePlan(scanDone(scanning, 'r', now)).slots).toEqual([
      { slot: 'blue', parkedAs: 'orders', alsoParkedAs: ['orders@blue'] },
      { slot: 'green', parkedAs: 'orders@green', alsoParkedAs: [] },
    ]);
  });
});

describe('an in-place replay meeting a throttle', () => {
  const healthy: StoredEvent[] = stored(streamId, [placed, { type: 'OrderConfirmed', data: { orderId } }]);
  /** Views whose first `failures` puts are throttled, as DynamoDB answers a hot partition under a replay's writes. */
  const throttled = (failures: number) => {
    const views = memoryViews();
    let left = failures;
    const put: typeof views.put = async (...args) => {
      if (left-- > 0) {
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ProvisionedThroughputExceededException',
          $retryable: { throttling: true },
        });
      }
      return views.put(...args);
    };
    return { ...views, put };
  };
  const replay = (views: ViewStore<OrderView>, parking: ParkingLot) =>
    replaySegment({
      events: { ...given(healthy).deps.events, page: async () => ({ events: healthy }) },
      segment: 0,
      totalSegments: 1,
      targets: [replayTarget(ordersProjection, views, 'orders')],
      readRange: async () => healthy,
      parking,
      checkpoints: { load: async () => undefined, save: async () => undefined, list: async () => [] },
    });

  it('tries the stream again and applies it, parking nothing', async () => {
    const views = throttled(2);
    const parking = memoryParking();
    await replay(views, parking);
    expect(parking.names()).toEqual([]);
    expect(views.all.get(orderId)).toMatchObject({ version: 2, view: { status: 'CONFIRMED' } });
  });

  it('fails the segment, to resume from its checkpoint, when the throttle outlasts the retries: a healthy stream is never parked', async () => {
    const views = throttled(Number.POSITIVE_INFINITY);
    const parking = memoryParking();
    await expect(replay(views, parking)).rejects.toThrow('Rate of requests');
    expect(parking.names()).toEqual([]);
  });
});

describe('a finalize or abort still deleting a slot’s views', () => {
  const healthy = stored(streamId, [placed]);
  /** `given`, with checkpoints kept per run, as the store keeps them, so a second build scans afresh. */
  const givenKeptBlue = () => {
    const setup = given(healthy);
    const saved = new Map<string, { lastKey?: ScanPosition; progress: SegmentProgress }>();
    const checkpoints = (runId: string): Checkpoints => ({
      load: async (segment) => saved.get(`${runId}/${segment}`),
      save: async (lastKey, progress) =>
        void saved.set(`${runId}/${progress.segment}`, { ...(lastKey ? { lastKey } : {}), progress }),
      list: async () => [...saved].filter(([key]) => key.startsWith(`${runId}/`)).map(([, kept]) => kept.progress),
    });
    return { ...setup, clients: { ...setup.clients, checkpoints } };
  };
  /** Blue's view, as the live projection wrote it before any rebuild. */
  const liveView = (views: ReturnType<typeof given>['views']) =>
    views.blue.put(ordersProjection.evolve(undefined, healthy[0] as StoredEvent<OrderEvent>), 1, 0);

  it('refuses a build into that slot until it is empty, so the drop never deletes a newer build', async () => {
    const { views, deps, target, clients, pointer } = givenKeptBlue();
    await liveView(views);
    await runRebuild({ clients, projection: 'orders', segments: 1 });
    expect(pointer()).toMatchObject({ live: { slot: 'green' }, previous: { slot: 'blue' } });

    // One operator finalizes: blue leaves the pointer, and the drop waits out the readers' cache before deleting.
    let wake = () => {};
    const waiting = new Promise<void>((resolve) => (wake = resolve));
    const finalizing = dropVersion({ ...deps, sleep: () => waiting }, target, 'finalize', 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(pointer().dropping).toMatchObject({ slot: 'blue', version: 1 });
    // Another starts the next build meanwhile: it would go into blue, which the drop is about to empty.
    await expect(runRebuild({ clients, projection: 'orders', segments: 1, switchWhenReady: false })).rejects.toThrow(
      "orders: version 1's views are still being deleted from the blue slot",
    );

    wake();
    expect(await finalizing).toMatchObject({ slot: 'blue', deleted: 1 });
    expect(pointer().dropping).toBeUndefined();
    const next = await runRebuild({ clients, projection: 'orders', segments: 1 });
    expect(next.pointer).toMatchObject({ live: { slot: 'blue', version: 3 } });
    expect(views.blue.all.size).toBe(1);
  });

  it('says what lets a new build start when told to resume one that is not there: finalize the kept version first', async () => {
    const { views, deps, target, clients, pointer } = givenKeptBlue();
    await liveView(views);
    await runRebuild({ clients, projection: 'orders', segments: 1 });
    const resume = () => beginRebuild(deps, target, { runId: 'run-9', segments: 1, resume: true });
    await expect(resume()).rejects.toThrow(
      'orders: no build is in progress to resume (live: version 2); version 1 is still kept beside it: --finalize first (or --rollback to it), then --rebuild',
    );
    // Mid-drop: finish the drop.
    let wake = () => {};
    const waiting = new Promise<void>((resolve) => (wake = resolve));
    const began: string[] = [];
    const finalizing = dropVersion({ ...deps, sleep: () => waiting }, target, 'finalize', 1, () => began.push('begun'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(began).toEqual(['begun']);
    await expect(resume()).rejects.toThrow(
      'orders: no build is in progress to resume (live: version 2); version 1 is still being deleted: run --finalize or --abort again to finish that, then --rebuild',
    );
    wake();
    await finalizing;
    await expect(resume()).rejects.toThrow('run --rebuild without --resume to start one');
    // Nothing to drop now: refused before it begins, so it never says it began.
    await expect(dropVersion(deps, target, 'finalize', 1, () => began.push('again'))).rejects.toThrow(
      'no previous version is kept',
    );
    expect(began).toEqual(['begun']);
    expect(pointer().previous).toBeUndefined();
  });

  it('says a drop began only once the pointer marking it is written: a refused write began nothing', async () => {
    const { views, deps, target, clients } = givenKeptBlue();
    await liveView(views);
    await runRebuild({ clients, projection: 'orders', segments: 1 });
    const refusing = {
      ...deps,
      pointers: { ...deps.pointers, replace: () => Promise.reject(new Error('another operator moved the pointer')) },
    };
    const began: string[] = [];
    await expect(dropVersion(refusing, target, 'finalize', 1, () => began.push('begun'))).rejects.toThrow(
      'another operator moved the pointer',
    );
    expect(began).toEqual([]);
  });

  it('leaves a drop another run took over to that run: the first, waking late, deletes nothing', async () => {
    const { views, deps, target, clients, pointer } = givenKeptBlue();
    await liveView(views);
    await runRebuild({ clients, projection: 'orders', segments: 1 });
    // A finalizes and stalls in its wait; B, taking A for stopped, runs finalize again and finishes the drop.
    let wake = () => {};
    const waiting = new Promise<void>((resolve) => (wake = resolve));
    const first = dropVersion({ ...deps, sleep: () => waiting }, target, 'finalize', 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await dropVersion(deps, target, 'finalize', 1)).toMatchObject({ slot: 'blue', deleted: 1 });
    // The next build goes into blue and readers move to it.
    await runRebuild({ clients, projection: 'orders', segments: 1 });
    expect(pointer().live.slot).toBe('blue');
    expect(views.blue.all.size).toBe(1);
    wake();
    await expect(first).rejects.toThrow('orders: another --finalize or --abort took over emptying the blue slot');
    expect(views.blue.all.size).toBe(1);
  });

  it('stops a drop taken over while it was deleting, before its next page, so a later build keeps its views', async () => {
    const { views, deps, target, clients, pointer } = givenKeptBlue();
    for (const id of ['a', 'b', 'c']) {
      const other = `00000000-0000-4000-8000-00000000000${id}`;
      views.blue.all.set(other, {
        view: {
          ...ordersProjection.evolve(
            undefined,
            stored(`order-${other}`, [orderPlaced(other)])[0] as StoredEvent<OrderEvent>,
          ),
        },
        version: 1,
      });
    }
    await runRebuild({ clients, projection: 'orders', segments: 1 });
    // A deletes one of blue's views, then stalls before its next page (a paused process).
    let wake = () => {};
    const waiting = new Promise<void>((resolve) => (wake = resolve));
    let pages = 0;
    const stalling = {
      ...target,
      clear: (slot: Slot, segments: number, keepGoing?: () => Promise<boolean>) =>
        target.clear(slot, segments, async () => {
          if (++pages === 2) await waiting;
          return keepGoing ? keepGoing() : true;
        }),
    };
    const first = dropVersion(deps, stalling, 'finalize', 1);
    while (pages < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(views.blue.all.size).toBe(2);
    // B takes the drop over and finishes it; a build goes into blue and readers move to it.
    expect(await dropVersion(deps, target, 'finalize', 1)).toMatchObject({ slot: 'blue', deleted: 2 });
    await runRebuild({ clients, projection: 'orders', segments: 1 });
    expect(pointer().live.slot).toBe('blue');
    expect(views.blue.all.size).toBe(1);
    wake();
    await expect(first).rejects.toThrow(
      'another --finalize or --abort took over emptying the blue slot while this one was deleting',
    );
    expect(views.blue.all.size).toBe(1);
  });

  it('is finished by the next finalize or abort when it stopped midway', async () => {
    const { views, deps, target, clients, pointer } = givenKeptBlue();
    await liveView(views);
    await runRebuild({ clients, projection: 'orders', segments: 1 });
    const failing = { ...target, clear: () => Promise.reject(new Error('the process was stopped')) };
    await expect(dropVersion(deps, failing, 'finalize', 1)).rejects.toThrow('the process was stopped');
    expect(pointer().previous).toBeUndefined();
    expect(pointer().dropping).toMatchObject({ slot: 'blue' });
    expect(views.blue.all.size).toBe(1);

    // Nothing is kept any more, yet finalize again finishes the drop rather than refusing.
    expect(await dropVersion(deps, target, 'finalize', 1)).toMatchObject({ slot: 'blue', deleted: 1 });
    expect(pointer().dropping).toBeUndefined();
    expect(views.blue.all.size).toBe(0);
  });
});

describe('the parity check while the live projection is behind (a flash sale)', () => {
  const confirmed = stored(streamId, [placed, { type: 'OrderConfirmed', data: { orderId } }]);
  const [first, second] = confirmed as [StoredEvent<OrderEvent>, StoredEvent<OrderEvent>];
  const pending = ordersProjection.evolve(undefined, first);
  const settled = ordersProjection.evolve(pending, second);
  /** Both tables hold the order at `blue` and `green`, and the live projection writes version 2 at the `catchUpAt`th wait. */
  const setup = (blue: number, green: number, catchUpAt = Number.POSITIVE_INFINITY) => {
    const { views, deps, target } = given(confirmed);
    const at = (version: number) => ({ view: version === 1 ? pending : settled, version });
    views.blue.all.set(orderId, at(blue));
    views.green.all.set(orderId, at(green));
    let waits = 0;
    const sleep = async () => {
      if (++waits === catchUpAt) for (const slot of [views.blue, views.green]) slot.all.set(orderId, at(2));
    };
    return { deps: { ...deps, sleep }, target, waits: () => waits };
  };

  it('waits out a lag both tables share, past its usual patience, and finds no mismatch', async () => {
    const { deps, target, waits } = setup(1, 1, 5);
    const parity = await checkParity(deps, target, { slot: 'green', sample: 1, patienceMs: 0, lagPatienceMs: 60_000 });
    expect(parity).toEqual({ sampled: 1, mismatches: [] });
    expect(waits()).toBe(5);
  });

  it('says it is the lag when the live table is no further along at the end', async () => {
    const { deps, target } = setup(1, 1);
    const parity = await checkParity(deps, target, { slot: 'green', sample: 1, patienceMs: 0, lagPatienceMs: 20 });
    expect(parity.mismatches).toEqual([
      {
        streamId,
        reason:
          "at version 1, the stream at 2, and the live table no further: the live projection's lag; --rebuild --resume once it has caught up",
      },
    ]);
  });

  it('waits for the lag at most lagPatienceMs over the whole check, however many sampled streams lag', async () => {
    vi.useFakeTimers();
    try {
      const ids = Array.from({ length: 16 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      const events = ids.flatMap((id) =>
        stored(`order-${id}`, [orderPlaced(id), { type: 'OrderConfirmed', data: { orderId: id } }]),
      );
      const { views, deps, target } = given(events);
      for (const id of ids) {
        const [first] = events.filter((e) => e.streamId === `order-${id}`) as StoredEvent<OrderEvent>[];
        const behind = { view: ordersProjection.evolve(undefined, first as StoredEvent<OrderEvent>), version: 1 };
        views.blue.all.set(id, behind);
        views.green.all.set(id, behind);
      }
      // Every stream drawn, and real waits (on the fake clock) between reads.
      const { sleep: _, ...waiting } = deps;
      const lagging = {
        ...waiting,
        events: { ...deps.events, streamIds: async () => ids.map((id) => `order-${id}`) },
        store: { readStream: async (id: string) => events.filter((e) => e.streamId === id) },
      } as unknown as RebuildDependencies;
      let done = false;
      const checking = checkParity(lagging, target, {
        slot: 'green',
        sample: 16,
        patienceMs: 0,
        lagPatienceMs: 10_000,
      });
      void checking.then(() => (done = true));
      // Eight streams at a time: each waiting its own 10 s, the check would take 20 s.
      await vi.advanceTimersByTimeAsync(12_000);
      expect(done).toBe(true);
      expect((await checking).mismatches).toHaveLength(16);
    } finally {
      vi.useRealTimers();
    }
  });

  it('names the fields in which a view differs from a fresh fold of its stream', async () => {
    const { views, deps, target } = given(confirmed);
    views.green.all.set(orderId, { view: { ...settled, customerId: 'someone-else' }, version: 2 });
    const parity = await checkParity(deps, target, { slot: 'green', sample: 1, patienceMs: 0, lagPatienceMs: 0 });
    expect(parity.mismatches).toEqual([{ streamId, reason: 'differs from a fresh fold in customerId' }]);
  });

  it('does not wait longer for the new version when the live table is ahead of it', async () => {
    const { deps, target, waits } = setup(2, 1);
    const parity = await checkParity(deps, target, { slot: 'green', sample: 1, patienceMs: 0, lagPatienceMs: 60_000 });
    expect(parity.mismatches).toEqual([{ streamId, reason: 'at version 1, the stream at 2' }]);
    expect(waits()).toBe(0);
  });
});

describe('a build aborted while its segments still run', () => {
  it('writes nothing more: the segment stops at its next page, so the slot a later build empties stays empty', async () => {
    const { views, deps, target, pointer } = given(stored(streamId, [placed]));
    const started = startBuild(pointer(), { runId: 'run-1', segments: 1, now: new Date('2026-11-30T12:00:00Z') });
    await deps.pointers.replace(started);
    await dropVersion(deps, target, 'abort', 1);
    const checkpoints: Checkpoints = { load: async () => undefined, save: async () => undefined, list: async () => [] };
    await expect(
      rebuildSegment({ deps, target, runId: 'run-1', slot: 'green', segment: 0, totalSegments: 1, checkpoints }),
    ).rejects.toThrow('orders: run run-1 is no longer being built (aborted); this segment stops writing');
    expect(views.green.all.size).toBe(0);
  });

  it('parks nothing under the slot a later build now uses', async () => {
    // The projection refuses version 2 (a second OrderPlaced): a segment folding it parks the stream in its slot.
    const { deps, target, parking, pointer } = given();
    await deps.pointers.replace(
      startBuild(pointer(), { runId: 'run-1', segments: 1, now: new Date('2026-11-30T12:00:00Z') }),
    );
    await dropVersion(deps, target, 'abort', 1);
    await beginRebuild(deps, target, { runId: 'run-2', segments: 1, resume: false });
    expect(pointer().building).toMatchObject({ runId: 'run-2', slot: 'green' });
    // run-1's segment, paused meanwhile, wakes and reads a page.
    const checkpoints: Checkpoints = { load: async () => undefined, save: async () => undefined, list: async () => [] };
    await expect(
      rebuildSegment({ deps, target, runId: 'run-1', slot: 'green', segment: 0, totalSegments: 1, checkpoints }),
    ).rejects.toThrow('no longer being built');
    expect(parking.names()).toEqual([]);
  });

  it('stops between two hundred-view chunks of one page, when the abort comes while it writes the first', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const events = ids.flatMap((id) => stored(`order-${id}`, [orderPlaced(id)]));
    const { views, deps, target, pointer } = given(events);
    await deps.pointers.replace(
      startBuild(pointer(), { runId: 'run-1', segments: 1, now: new Date('2026-11-30T12:00:00Z') }),
    );
    const aborting = {
      ...target,
      putAll: async (...args: Parameters<typeof target.putAll>) => {
        await target.putAll(...args);
        // The operator aborts while this segment writes its first chunk.
        if (pointer().building) await deps.pointers.replace(abortBuild(pointer(), new Date(), 'run-d').pointer);
      },
    };
    const checkpoints: Checkpoints = { load: async () => undefined, save: async () => undefined, list: async () => [] };
    await expect(
      rebuildSegment({
        deps,
        target: aborting,
        runId: 'run-1',
        slot: 'green',
        segment: 0,
        totalSegments: 1,
        checkpoints,
      }),
    ).rejects.toThrow('is no longer being built (aborted)');
    expect(views.green.all.size).toBe(100);
  });
});

describe('a build emptying what a crashed drop left in its slot', () => {
  it('stops emptying once it is aborted: the slot may be another build’s by then', async () => {
    const { views, deps, target, pointer } = given(stored(streamId, [placed]));
    // Left in green by a finalize that crashed before it was done (and whose mark an operator cleared).
    for (const id of ['a', 'b', 'c']) {
      const other = `00000000-0000-4000-8000-00000000000${id}`;
      const [event] = stored(`order-${other}`, [orderPlaced(other)]);
      views.green.all.set(other, {
        view: ordersProjection.evolve(undefined, event as StoredEvent<OrderEvent>),
        version: 1,
      });
    }
    let pages = 0;
    const aborted = {
      ...target,
      clear: (slot: Slot, segments: number, keepGoing?: () => Promise<boolean>) =>
        target.clear(slot, segments, async () => {
          // Aborted after the first key: the next ask must stop it.
          if (++pages === 2) await deps.pointers.replace(abortBuild(pointer(), new Date(), 'run-d').pointer);
          return keepGoing ? keepGoing() : true;
        }),
    };
    await expect(beginRebuild(deps, aborted, { runId: 'run-1', segments: 1, resume: false })).rejects.toThrow(
      'orders: run run-1 is no longer being built (aborted); it stops emptying green',
    );
    expect(views.green.all.size).toBe(2);
  });
});
