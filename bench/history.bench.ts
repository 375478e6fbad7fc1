import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type AttributeValue, type ConsumedCapacity, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { movesOf, orderAggregate } from '../application/aggregates.js';
import type { CommandContext } from '../application/handleCommand.js';
import { placeOrder } from '../application/orders.js';
import { readStock, registerProduct } from '../application/products.js';
import { order, type OrderEvent, type OrderLine, orderStreamId, orderTotal } from '../domain/order/index.js';
import { ConcurrencyError } from '../eventstore/errors.js';
import type { EventMetadata, EventStore, StreamAppend } from '../eventstore/types.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { itemBytes } from '../local/capacity.js';
import { loadServerlessConfig } from '../local/serverlessConfig.js';
import { printTable, stats } from './lib.js';
import type { BenchStack } from './stack.js';

const metadata = (actor: string): EventMetadata => ({
  correlationId: randomUUID(),
  causationId: randomUUID(),
  commandId: randomUUID(),
  actor,
});
const price = { amount: 1999, currency: 'EUR' };

/** Capacity units as DynamoDB reports them, summed by kind of request; the requests, and those that reported none. */
type Units = { reads: number; writes: number; requests: number; unreported: number };
const readCommands = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

/**
 * Adds a middleware to the client's stack (shared by the store built on it) that, while `during` runs, asks every
 * request for `ReturnConsumedCapacity: TOTAL` and adds what DynamoDB answers to the tally; other requests pass as
 * they are.
 */
const meterUnits = (client: DynamoDBDocumentClient) => {
  const name = 'historyBenchConsumedCapacity';
  let tally: Units | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const counting = tally;
      if (!counting) return next(args);
      const result = await next({ ...args, input: { ...(args.input as object), ReturnConsumedCapacity: 'TOTAL' } });
      const output = result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
      const consumed = [output.ConsumedCapacity ?? []].flat();
      const units = consumed.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      // TOTAL gives one figure per table, not reads and writes apart: the operation says which it is.
      if (readCommands.has(context.commandName ?? '')) counting.reads += units;
      else counting.writes += units;
      counting.requests += 1;
      if (consumed.length === 0) counting.unreported += 1;
      return result;
    },
    { step: 'initialize', name },
  );
  return {
    async during<T>(into: Units, run: () => Promise<T>): Promise<T> {
      tally = into;
      try {
        return await run();
      } finally {
        tally = undefined;
      }
    },
    stop: () => client.middlewareStack.remove(name),
  };
};

/**
 * A past order as the application leaves a sold one of the SKU: its order stream `order-<id>`, placed, its stock
 * reserved, then confirmed, and the balance moves of those events (the units reserved, then sold). Its payment stream
 * is left out: it is keyed by its own order id and moves no stock, nothing a later order's placement or reservation
 * reads, and both SKUs share the tables, so it would only add to the seeding.
 */
const pastOrder = (sku: string) => {
  const orderId = randomUUID();
  const lines: OrderLine[] = [{ sku, quantity: 1, unitPrice: price }];
  const events: OrderEvent[] = [
    {
      type: 'OrderPlaced',
      data: { orderId, customerId: 'customer-history', lines, total: orderTotal(lines), paymentToken: 'tok_visa' },
    },
    { type: 'StockReserved', data: { orderId, lines: [{ sku, quantity: 1 }] } },
    { type: 'OrderConfirmed', data: { orderId } },
  ];
  return {
    append: { streamId: orderStreamId(orderId), expectedVersion: 0, events } satisfies StreamAppend,
    moves: movesOf(orderAggregate, events, order.initialState()),
  };
};

/**
 * Past orders per append: one item each, their 3 events together (ADR 0016), and the one (merged) balance update,
 * within a transaction's 100 items.
 */
const ORDERS_PER_APPEND = 99;
/** Concurrent seeding writers: DynamoDB Local gains nothing from more on two cores. */
const WRITERS = 3;

/**
 * Writes `orders` past orders of `sku` through the store, `ORDERS_PER_APPEND` to an append. The writers all move the
 * SKU's one balance, so DynamoDB may cancel one append for another's transaction in flight: nothing of it was
 * written, and the same append is sent again.
 */
const seed = async (store: EventStore, sku: string, orders: number) => {
  let next = 0;
  let appends = 0;
  let conflicts = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let from = next; from < orders; from = next) {
        next += ORDERS_PER_APPEND;
        const batch = Array.from({ length: Math.min(ORDERS_PER_APPEND, orders - from) }, () => pastOrder(sku));
        const moves = batch.flatMap((o) => o.moves);
        for (;;) {
          try {
            await store.append(
              batch.map((o) => o.append),
              metadata('saga'),
              { moves },
            );
            break;
          } catch (error) {
            if (!(error instanceof ConcurrencyError)) throw error;
            conflicts += 1;
          }
        }
        appends += 1;
      }
    }),
  );
  return { appends, conflicts };
};

/** The CPU seconds a process has used, from /proc (Linux, in its 100 Hz ticks); `undefined` where there is none. */
const cpuSeconds = async (pid: number): Promise<number | undefined> => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // After the command name in parentheses, field 3 (state) comes first: utime and stime are fields 14 and 15.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields?.[11]) + Number(fields?.[12]);
  return Number.isFinite(ticks) ? ticks / 100 : undefined;
};

/** The largest item of a table, by a parallel scan. */
const largestItem = async (client: DynamoDBClient, table: string) => {
  let largest = { bytes: 0, key: '', items: 0 };
  const segments = 4;
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: table, Segment: segment, TotalSegments: segments, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) {
          const bytes = itemBytes(item);
          if (bytes > largest.bytes)
            largest = { ...largest, bytes, key: `${item.streamId?.S}@${item.version?.N ?? '-'}` };
        }
        largest.items += page.Items?.length ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
    }),
  );
  return largest;
};

const KB64 = 64 * 1024;
const GOAL = 1.1;

/**
 * A reservation on a SKU with a long history against one on a fresh SKU: nothing a reservation reads or writes may
 * grow with the SKU's past orders. Seeds one SKU with `pastOrders` sold orders through the store, registers a fresh
 * one with the same stock left, then places an order on each in turn (placement reserves its stock, ADR 0014), timing
 * it and summing the capacity units DynamoDB reports for every request it makes. Fails (throws) when the seeded SKU's median
 * reservation or its units are more than ×1.1 the fresh one's, or an item of the events or snapshots table is 64 KB
 * or more.
 */
export const historyBench = async (
  stack: BenchStack,
  { pastOrders = 50_000, runs = 300, warmup = 30 }: { pastOrders?: number; runs?: number; warmup?: number } = {},
) => {
  const { store, client } = stack;
  const tag = randomUUID().slice(0, 8).toUpperCase();
  const seeded = `HIST-${tag}-SEEDED`;
  const fresh = `HIST-${tag}-FRESH`;
  const left = 10_000;
  const admin = (): CommandContext => ({ store, metadata: metadata('admin:bench') });
  await registerProduct({ sku: seeded, name: 'Seeded', price, stock: pastOrders + left }, admin());
  const seedStarted = { wall: performance.now(), local: await cpuSeconds(stack.dynamo.pid), own: process.cpuUsage() };
  const { appends, conflicts } = await seed(store, seeded, pastOrders);
  const seedSeconds = (performance.now() - seedStarted.wall) / 1000;
  const localCpu = ((await cpuSeconds(stack.dynamo.pid)) ?? Number.NaN) - (seedStarted.local ?? Number.NaN);
  const ownCpu = (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(seedStarted.own));
  await registerProduct({ sku: fresh, name: 'Fresh', price, stock: left }, admin());
  const before = await readStock(store, seeded, { consistent: true });
  if (before.stock.available !== left || before.stock.sold !== pastOrders || before.stock.reserved !== 0) {
    throw new Error(`the seeded SKU's stock is ${JSON.stringify(before.stock)} after seeding`);
  }
  console.log(
    `\nHistory: ${pastOrders.toLocaleString('en')} sold orders of one SKU written through store.append in ${seedSeconds.toFixed(1)} s ` +
      `(CPU: DynamoDB Local ${Number.isNaN(localCpu) ? '?' : localCpu.toFixed(1)} s, bench ${ownCpu.toFixed(1)} s)\n` +
      `${appends.toLocaleString('en')} appends of ${ORDERS_PER_APPEND} order streams (placed, reserved, confirmed) and one balance move, ` +
      `${WRITERS} writers, ${conflicts} resent after a conflict`,
  );

  const meter = meterUnits(client);
  const skus = { seeded, fresh } as const;
  const zero = (): Units => ({ reads: 0, writes: 0, requests: 0, unreported: 0 });
  const blank = () => ({ place: [] as number[], units: zero() });
  const results = { seeded: blank(), fresh: blank() };
  const context = (actor: string): CommandContext => ({ store, metadata: metadata(actor) });
  try {
    for (let i = -warmup; i < runs; i++) {
      // Alternate which goes first, so neither always follows the other.
      for (const which of i % 2 === 0 ? (['seeded', 'fresh'] as const) : (['fresh', 'seeded'] as const)) {
        const result = results[which];
        const units = zero();
        const started = process.hrtime.bigint();
        const { orderId, status } = await meter.during(units, () =>
          placeOrder(
            { customerId: 'customer-bench', items: [{ sku: skus[which], quantity: 1 }], paymentToken: 'tok_visa' },
            context('customer-bench'),
          ),
        );
        const placeMs = Number(process.hrtime.bigint() - started) / 1e6;
        if (status !== 'PENDING') throw new Error(`placeOrder answered ${status} for ${orderId}`);
        if (i < 0) continue;
        result.place.push(placeMs);
        result.units.reads += units.reads;
        result.units.writes += units.writes;
        result.units.requests += units.requests;
        result.units.unreported += units.unreported;
      }
    }
  } finally {
    meter.stop();
  }
  const unreported = Object.values(results).reduce((sum, r) => sum + r.units.unreported, 0);
  if (unreported > 0)
    throw new Error(`${unreported} requests answered without ConsumedCapacity: the units are not measured`);
  // Both SKUs took the same reservations: the same units held and left; only the seeded one has sold.
  const held = warmup + runs;
  for (const [which, sold] of [
    ['seeded', pastOrders],
    ['fresh', 0],
  ] as const) {
    const { stock } = await readStock(store, skus[which], { consistent: true });
    if (stock.available !== left - held || stock.reserved !== held || stock.sold !== sold) {
      throw new Error(`the ${which} SKU's stock is ${JSON.stringify(stock)} after ${held} reservations`);
    }
  }

  const history = `SKU with ${pastOrders.toLocaleString('en')} past orders`;
  const latency = { seeded: stats(results.seeded.place), fresh: stats(results.fresh.place) };
  printTable(`Placing an order, which reserves its stock (placeOrder), interleaved, ${warmup} warm-up`, [
    { name: 'placeOrder, fresh SKU', ...latency.fresh, baseline: true },
    { name: `placeOrder, ${history}`, ...latency.seeded },
  ]);

  const perCall = (units: Units) => ({
    reads: units.reads / runs,
    writes: units.writes / runs,
    requests: units.requests / runs,
  });
  const units = { seeded: perCall(results.seeded.units), fresh: perCall(results.fresh.units) };
  console.log(`\nCapacity units per call (every request asks ReturnConsumedCapacity TOTAL; ${runs} calls each)`);
  console.log(
    `${'case'.padEnd(52)}${'requests'.padStart(10)}${'read units'.padStart(14)}${'write units'.padStart(14)}`,
  );
  for (const [name, u] of [
    ['placeOrder, fresh SKU', units.fresh],
    [`placeOrder, ${history}`, units.seeded],
  ] as const) {
    console.log(
      `${name.padEnd(52)}${u.requests.toFixed(2).padStart(10)}${u.reads.toFixed(2).padStart(14)}${u.writes.toFixed(2).padStart(14)}`,
    );
  }

  const config = await loadServerlessConfig('bench');
  const snapshotsTable = String(config.provider.environment?.SNAPSHOTS_TABLE ?? '');
  const scanner = new DynamoDBClient({ endpoint: stack.dynamo.endpoint, ...localClientConfig });
  const scanStarted = performance.now();
  const [events, snapshots] = await Promise.all([
    largestItem(scanner, stack.tables.events),
    largestItem(scanner, snapshotsTable),
  ]).finally(() => scanner.destroy());
  const scanSeconds = (performance.now() - scanStarted) / 1000;

  // No time or write units measured for the fresh SKU is a defect of the measurement, not a pass. Read units may be
  // none on both, since placement reads no balance (every request reported its capacity, checked above): equal.
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
  const readRatio = (a: number, b: number) => (a === 0 && b === 0 ? 1 : ratio(a, b));
  const times = (r: number) => (Number.isFinite(r) ? `×${r.toFixed(2)}` : 'n/a');
  const within = (name: string, r: number) => ({ name, value: times(r), goal: `≤ ${times(GOAL)}`, pass: r <= GOAL });
  const checks = [
    within('reservation median latency, seeded / fresh', ratio(latency.seeded.median, latency.fresh.median)),
    within('reservation read units, seeded / fresh', readRatio(units.seeded.reads, units.fresh.reads)),
    within('reservation write units, seeded / fresh', ratio(units.seeded.writes, units.fresh.writes)),
    ...(
      [
        ['events', events],
        ['snapshots', snapshots],
      ] as const
    ).map(([table, largest]) => ({
      name: `largest ${table} item, of ${largest.items.toLocaleString('en')}`,
      value: `${largest.bytes.toLocaleString('en')} B`,
      goal: '< 64 KB',
      pass: largest.bytes > 0 && largest.bytes < KB64,
      note: largest.key,
    })),
  ];
  console.log(
    `\nChecks (item size by DynamoDB's rules, attribute names + values; scan of both tables ${scanSeconds.toFixed(1)} s)`,
  );
  for (const check of checks) {
    console.log(
      `${check.name.padEnd(52)}${check.value.padStart(12)}${check.goal.padStart(12)}${(check.pass ? 'PASS' : 'FAIL').padStart(6)}` +
        ('note' in check ? `  ${check.note}` : ''),
    );
  }
  const failed = checks.filter((check) => !check.pass);
  if (failed.length > 0) throw new Error(`history: ${failed.map((check) => check.name).join('; ')} failed`);
};
