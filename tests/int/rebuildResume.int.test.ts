import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { composeStage } from '../../composition/root.js';
import { StageEnvironment } from '../../composition/settings.js';
import { orderStreamId } from '../../domain/order/index.js';
import { documentClient } from '../../eventstore/dynamoClient.js';
import { type EventItem, storedItemEvents } from '../../eventstore/eventItems.js';
import type { StoredEvent } from '../../eventstore/types.js';
import { createTables, localClientConfig } from '../../local/dynamoLocal.js';
import { loadServerlessConfig, tableResources } from '../../local/serverlessConfig.js';
import { checkInvariants, invariantTables } from '../../ops/invariants.js';
import { type RebuildClients, runRebuild } from '../../projections/replay/rebuildJob.js';
import { ordersProjection } from '../../projections/orders.js';
import { RebuildStateError } from '../../projections/readModelVersions.js';
import { catchUp } from '../../projections/projection.js';
import { testMetadata } from '../support/stack.js';

/**
 * Tables of this file's own (the test stage's, renamed), so the pages a rebuild scans are this file's events only and
 * no live projection writes beside it: the counts below are exact, whatever other files left in the shared tables.
 */
const suffix = `-resume-${randomUUID().slice(0, 8)}`;
const kept = [
  'EventsTable',
  'SnapshotsTable',
  'ProjectionsTable',
  'OrdersTable',
  'OrdersGreenTable',
  'ProductsTable',
  'ProductsGreenTable',
  'PaymentSimulatorTable',
];
const tables: Record<string, string> = {};
/** This file's table for a variable of the handlers' environment (`ORDERS_TABLE`, …). */
let tableOf: (variable: string) => string;

/** The bulk phase's reads of the events table (consistent, by segment), counted at the SDK, below the rebuild. */
const scans = { pages: 0, events: 0 };
const counted = (client: DynamoDBClient): DynamoDBClient => {
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const input = args.input as { TableName?: string; ConsistentRead?: boolean; Segment?: number };
      const output = result.output as { Items?: unknown[] };
      if (input.TableName === tables.EventsTable && input.ConsistentRead && input.Segment !== undefined) {
        scans.pages++;
        scans.events += output.Items?.length ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'countBulkScans' },
  );
  return client;
};
const client = documentClient({ endpoint: inject('dynamoEndpoint'), ...localClientConfig }, { instrument: counted });

const table = (logicalId: string): string => {
  const name = tables[logicalId];
  if (!name) throw new Error(`no ${logicalId}`);
  return name;
};

let clients: RebuildClients;
/** Streams of one to four events, so that pages of 20 cut many of them. */
const expected = new Map<string, number>();
let total = 0;

beforeAll(async () => {
  const config = await loadServerlessConfig('test');
  const resources = Object.fromEntries(
    tableResources(config)
      .filter(([logicalId]) => kept.includes(logicalId))
      .map(([logicalId, properties]) => {
        tables[logicalId] = `${String(properties.TableName)}${suffix}`;
        return [
          logicalId,
          { Type: 'AWS::DynamoDB::Table', Properties: { ...properties, TableName: tables[logicalId] } },
        ];
      }),
  );
  await createTables({ ...config, resources: { Resources: resources } }, inject('dynamoEndpoint'));
  tableOf = (variable) => `${String(config.provider.environment?.[variable])}${suffix}`;
  const environment = config.provider.environment ?? {};
  // The stage's wiring on this file's own tables; no live projection reads this pointer, so no cache to wait out.
  const stage = composeStage({
    client,
    environment: StageEnvironment.parse({
      ...Object.fromEntries(
        Object.keys(environment)
          .filter((name) => name.endsWith('_TABLE'))
          .map((name) => [name, tableOf(name)]),
      ),
      READ_MODEL_CACHE_MS: 0,
      CIRCUIT_FAILURE_THRESHOLD: 5,
      CIRCUIT_WINDOW_SECONDS: 30,
      CIRCUIT_COOL_DOWN_SECONDS: 30,
    }),
  });
  const store = stage.store;
  clients = stage;

  const sku = 'RESUME-1';
  await Promise.all(
    Array.from({ length: 120 }, async (_, i) => {
      const orderId = randomUUID();
      const placed = {
        type: 'OrderPlaced',
        data: {
          orderId,
          customerId: `resume-${i % 7}`,
          lines: [{ sku, quantity: 1 + (i % 3), unitPrice: { amount: 250, currency: 'EUR' } }],
          total: { amount: 250 * (1 + (i % 3)), currency: 'EUR' },
          paymentToken: 'tok_visa',
        },
      };
      const later = [
        {
          type: 'PaymentAwaited',
          data: { orderId, since: '2026-01-01T00:00:00.000Z', until: '2026-01-01T00:10:00.000Z' },
        },
        { type: 'OrderConfirmed', data: { orderId } },
        { type: 'OrderCancelled', data: { orderId, previousStatus: 'CONFIRMED' } },
      ].slice(0, i % 4);
      const events = [placed, ...later];
      // One append per event, so one item each (ADR 0016): pages of 20 items cut streams.
      for (const [version, event] of events.entries()) {
        await store.append(
          [{ streamId: orderStreamId(orderId), expectedVersion: version, events: [event] }],
          testMetadata(),
        );
      }
      expected.set(orderStreamId(orderId), events.length);
    }),
  );
  total = [...expected.values()].reduce((sum, n) => sum + n, 0);
});

afterAll(async () => {
  for (const name of Object.values(tables)) await client.send(new DeleteTableCommand({ TableName: name }));
  client.destroy();
});

const scanAll = async (name: string): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client }, { TableName: name, ConsistentRead: true })) {
    items.push(...(page.Items ?? []));
  }
  return items;
};

describe('a rebuild interrupted in its bulk phase', () => {
  it('resumes from each segment’s checkpoint and finishes with a version equal to a fresh fold', async () => {
    const options = { clients, projection: 'orders' as const, segments: 2, pageSize: 20, sample: 50 };
    expect(total).toBeGreaterThan(250);

    // First run: stopped once four pages are written; each segment ends the page it is on, then stops.
    const stop = new AbortController();
    let pages = 0;
    // Told once the pointer names the build, before any page: from then on a failed run can be resumed.
    const begun: number[] = [];
    const first = await runRebuild({
      ...options,
      signal: stop.signal,
      onBegun: () => begun.push(pages),
      onProgress: () => {
        if (++pages >= 4) stop.abort();
      },
    });
    expect(begun).toEqual([0]);
    expect(first).toMatchObject({ phase: 'scan', resumed: false, switched: false, slot: 'green' });
    expect(first.segmentsDone).toBeLessThan(2);
    expect(first.pointer.live.slot).toBe('blue');
    expect(first.pointer.building).toMatchObject({ slot: 'green', phase: 'scan', runId: first.runId });
    const firstScan = { ...scans };
    expect(firstScan.pages).toBeGreaterThanOrEqual(4);
    expect(firstScan.events).toBeLessThan(total / 2);
    // Only whole streams are written and checkpointed: the page's last stream is carried, so read again on resume.
    expect(first.events).toBeGreaterThan(0);
    expect(first.events).toBeLessThanOrEqual(firstScan.events);

    // A run not told to resume is refused, and reads nothing: the pointer cannot tell a stopped run from a live one.
    scans.pages = 0;
    scans.events = 0;
    await expect(runRebuild({ ...options, onBegun: () => begun.push(-1) })).rejects.toThrow(
      new RebuildStateError(
        `orders: version 2 is already being built (run ${first.runId}, scan, since ${first.pointer.building?.startedAt}); if that run has stopped, resume it (--rebuild --resume, or redrive its replay execution), or drop it with --abort`,
      ),
    );
    expect(scans).toMatchObject({ pages: 0, events: 0 });
    // Refused before it began: nothing to resume from this run (the CLI says so).
    expect(begun).toEqual([0]);

    // Second run, told to resume: the same build, each segment from its checkpoint.
    const second = await runRebuild({ ...options, resume: true });
    expect(second).toMatchObject({ resumed: true, runId: first.runId, switched: true, segmentsDone: 2 });
    expect(second.parity.mismatches).toEqual([]);
    expect(second.pointer.live).toEqual({ slot: 'green', version: 2 });
    // It read what the first run had not folded, and nothing it had: at most one carried stream per segment again.
    const carried = first.segments * 4;
    expect(scans.events).toBe(total - first.events);
    expect(scans.events).toBeLessThanOrEqual(total - firstScan.events + carried);
    // Pages of 20 from there on, and at most one short page per segment (its end).
    expect(scans.pages).toBeLessThanOrEqual(Math.ceil((total - first.events) / 20) + 2 * first.segments);
    // Every event folded exactly once across the two runs, every order stream one view.
    expect(second.events).toBe(total);
    expect(second.streams).toBe(expected.size);

    // The new version equals a fresh fold of every stream, version included; the old slot was never written.
    const views = new Map((await scanAll(table('OrdersGreenTable'))).map((item) => [String(item.orderId), item]));
    expect(views.size).toBe(expected.size);
    const byStream = new Map<string, StoredEvent[]>();
    for (const event of ((await scanAll(table('EventsTable'))) as EventItem[]).flatMap(storedItemEvents)) {
      byStream.set(event.streamId, [...(byStream.get(event.streamId) ?? []), event]);
    }
    for (const [streamId, events] of byStream) {
      events.sort((a, b) => a.version - b.version);
      const fresh = await catchUp(ordersProjection, streamId, { view: undefined, version: 0 }, events, () =>
        Promise.resolve([]),
      );
      expect(fresh.version, streamId).toBe(expected.get(streamId));
      expect(views.get(String(fresh.view?.orderId)), streamId).toEqual({ ...fresh.view, version: fresh.version });
    }
    expect(await scanAll(table('OrdersTable'))).toEqual([]);

    // Told to resume once nothing is being built: refused, saying what lets the next build start, and nothing is
    // read, built or switched.
    scans.pages = 0;
    scans.events = 0;
    await expect(runRebuild({ ...options, resume: true })).rejects.toThrow(
      new RebuildStateError(
        'orders: no build is in progress to resume (live: version 2); version 1 is still kept beside it: --finalize first (or --rollback to it), then --rebuild',
      ),
    );
    expect(scans).toMatchObject({ pages: 0, events: 0 });
    expect(await clients.rebuildDependencies.pointers.get('orders')).toMatchObject({
      live: { slot: 'green', version: 2 },
      lastVersion: 2,
    });
  });

  it('is what the chaos run’s invariants check once readers are switched to it', async () => {
    expect((await clients.rebuildDependencies.pointers.get('orders')).live.slot).toBe('green');
    const results = await checkInvariants(invariantTables(client, tableOf));
    const orders = results.find((r) => r.name === 'the orders read model equals a fresh fold of its streams');
    // Blue is empty: read there, every order would be "no view".
    expect(orders).toEqual({ name: expect.any(String), checked: expected.size, violations: [] });
    // Blue is version 1, kept for rollback, which `--rollback` would make live: held to the same fold. No live
    // projection writes this file's tables, so it was never written, and the check finds every view missing, as it
    // would in a kept version that fell behind.
    const kept = results.find((r) => r.name.endsWith('(version 1, kept for rollback)'));
    expect(kept).toMatchObject({
      name: 'the orders read model equals a fresh fold of its streams (version 1, kept for rollback)',
      checked: expected.size,
    });
    expect(kept?.violations).toHaveLength(expected.size);
    expect(kept?.violations[0]).toContain('no view in the orders read model');
  });
});
