import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoReadModels } from '../../adapters/readModels.js';
import { simulatorOutage } from '../../adapters/simulatedPaymentGateway.js';
import { cancelOrder, placeOrder } from '../../application/orders.js';
import { registerProduct } from '../../application/products.js';
import { orderStreamId } from '../../domain/order/index.js';
import { localKinesisClient } from '../../local/kinesisLocal.js';
import { loadServerlessConfig } from '../../local/serverlessConfig.js';
import { stageClients, type StageClients } from '../../ops/stage.js';
import { eventually } from '../support/eventually.js';
import { type StackProcess, type StackReport, startStackProcess } from '../support/stackProcess.js';
import { testMetadata } from '../support/stack.js';
import { appendSettledOrders } from '../support/settledOrders.js';
import { simulatorItem } from '../support/simulator.js';

/**
 * The local stack keeps its position across a restart (issue 12): a second stack over the first one's state
 * folder relays no old change again, delivers no old record to any consumer, starts no saga for an old order,
 * and still settles a new order. Each stack runs in a process of its own (see tests/support/stackProcess.ts).
 */
const ORDERS = 1_000;
/**
 * Of those, the ones that held stock and started a saga; the rest were rejected as placed and started none. Enough
 * sagas to catch one started again; each costs the first stack a Step Functions execution to catch up on.
 */
const SAGAS = 100;
const stage = 'test';
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-restart-'));
// As a fresh checkout's `.local` would be: readable by everyone until the stack makes it its user's.
chmodSync(stateDir, 0o755);
const running: StackProcess[] = [];
const began = Date.now();
/** With ORDERFLOW_STACK_LOG set, how long each step took (the test asserts no timing). */
const progress = (step: string) => {
  if (process.env.ORDERFLOW_STACK_LOG)
    console.log(`[restart test] ${((Date.now() - began) / 1000).toFixed(1)} s: ${step}`);
};

afterAll(async () => {
  await Promise.all(running.map((stack) => stack.stop().catch(() => stack.kill())));
  rmSync(stateDir, { recursive: true, force: true });
});

const start = async () => {
  const stack = await startStackProcess({ stateDir, stage });
  running.push(stack);
  const clients = await stageClients(stage, {
    dynamoEndpoint: stack.dynamoEndpoint,
    stepFunctionsEndpoint: stack.stepFunctionsEndpoint,
  });
  return { stack, clients };
};

const stop = async (stack: StackProcess) => {
  const report = await stack.stop();
  running.splice(running.indexOf(stack), 1);
  return report;
};

const countItems = async (clients: StageClients): Promise<number> => {
  let count = 0;
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await clients.client.send(
      new ScanCommand({ TableName: clients.tables.events, Select: 'COUNT', ExclusiveStartKey }),
    );
    count += page.Count ?? 0;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return count;
};

/** Every record on the Kinesis stream, as `<streamId>#<version>` of the event it carries. */
const kinesisRecords = async (stack: StackProcess, streamName: string): Promise<string[]> => {
  const kinesis = localKinesisClient(stack.kinesisEndpoint);
  try {
    const keys: string[] = [];
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    for (const shard of Shards) {
      let { ShardIterator: iterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      while (iterator) {
        const { Records = [], NextShardIterator } = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
        );
        if (Records.length === 0) break;
        for (const record of Records) {
          const change = JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')) as {
            dynamodb: { Keys: { streamId: { S: string }; version: { N: string } } };
          };
          keys.push(`${change.dynamodb.Keys.streamId.S}#${change.dynamodb.Keys.version.N}`);
        }
        iterator = NextShardIterator;
      }
    }
    return keys;
  } finally {
    kinesis.destroy();
  }
};

/** The relay has put every change of the events table on the stream, and every consumer has handled all of it. */
const caughtUp = (report: StackReport, expectedChanges: number) => {
  expect(report.relayed).toBe(expectedChanges);
  for (const [name, processed] of Object.entries(report.processed))
    expect({ [name]: processed }).toEqual({
      [name]: report.relayed,
    });
  expect(report.executions.filter((execution) => execution.status === 'RUNNING')).toEqual([]);
};

describe('the local stack across a restart', () => {
  it('resumes the relay, every consumer and the executions left running where they stopped, and still settles a new order', async () => {
    const config = await loadServerlessConfig(stage);
    const streamName = String(config.resources?.Resources?.ChangesStream?.Properties?.Name);
    const sku = `RESTART-${randomUUID().slice(0, 8).toUpperCase()}`;
    const price = { amount: 250, currency: 'EUR' };

    // A first stack over an empty state folder, and 1,000 settled orders written straight into the store: 100
    // confirmed (each starts a saga, which finds it confirmed) and 900 rejected out of stock.
    const first = await start();
    progress('first stack started');
    // Its files hold events and payment tokens (DynamoDB Local's, kinesalite's, the executions kept): this user's only.
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    const context = { store: first.clients.store, metadata: testMetadata({ actor: 'restart-test' }) };
    await registerProduct({ sku, name: 'Restart mug', price, stock: 10_000 }, context);
    const oldOrders = await appendSettledOrders(first.clients.store, {
      sku,
      price,
      count: ORDERS,
      rejected: ORDERS - SAGAS,
      customerId: 'restart-customer',
      metadata: () => testMetadata({ actor: 'restart-test' }),
    });
    progress(`${ORDERS} settled orders appended`);
    // Caught up: every change relayed once, every consumer through all of them, every saga ended.
    const changesBefore = await eventually(
      async () => {
        const changes = await countItems(first.clients);
        caughtUp(await first.stack.report(), changes);
        return changes;
      },
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );
    // One item per order (its events are one append, ADR 0016) and the product's, then the sagas' payments.
    expect(changesBefore).toBeGreaterThanOrEqual(ORDERS + 1);
    progress('first stack caught up');
    const firstRun = await stop(first.stack);
    progress('first stack stopped');
    expect(firstRun.executions).toHaveLength(SAGAS);
    expect(firstRun.failures).toBe(0);
    expect(firstRun.lines.join('\n')).toMatch(/started at trim horizon on shard \S+ \(no checkpoint/);
    const checkpointFiles = await readdir(join(stateDir, 'checkpoints', stage));
    expect(checkpointFiles.sort()).toEqual(
      [
        ...Object.keys(firstRun.processed).map((name) => `consumer-${name}-${streamName}.json`),
        `relay-${String(config.resources?.Resources?.EventsTable?.Properties?.TableName)}.json`,
      ].sort(),
    );

    // A second stack over the same folder: it resumes, and says so, with nothing to catch up.
    const second = await start();
    progress('second stack started');
    // One line per reader, each said before the stack is up: the relay's too, which waits for its own.
    const readers = 1 + Object.keys(firstRun.processed).length;
    const startLines = (await second.stack.report()).lines.filter((line) => / (resumed|started) at /.test(line));
    expect(startLines).toHaveLength(readers);
    expect((await second.stack.report()).lines.filter((line) => line.includes('WARNING'))).toEqual([]);
    for (const line of startLines)
      expect(line).toMatch(/resumed at shard \S+ after sequence \d+ \(nothing to catch up\)/);

    // A new order, placed through the application layer, is confirmed by its saga.
    const placed = await placeOrder(
      { customerId: 'restart-customer', items: [{ sku, quantity: 2 }], paymentToken: 'tok_visa' },
      { store: second.clients.store, metadata: testMetadata({ actor: 'restart-test' }) },
    );
    const reads = dynamoReadModels({
      client: second.clients.client,
      ordersTable: second.clients.tables.orders,
      productsTable: second.clients.tables.products,
    });
    await eventually(async () => expect((await reads.order(placed.orderId))?.view.status).toBe('CONFIRMED'), {
      timeoutMs: 30_000,
    });
    progress('new order CONFIRMED');
    const changesAfter = await countItems(second.clients);
    await eventually(async () => caughtUp(await second.stack.report(), changesAfter - changesBefore));
    const secondRun = await second.stack.report({ deliveries: true });

    // No old change was relayed again: the stream holds each change of the store exactly once.
    const onStream = await kinesisRecords(second.stack, streamName);
    expect(new Set(onStream).size).toBe(onStream.length);
    expect(onStream).toHaveLength(changesAfter);
    // No consumer was invoked with an old record: only the new order's, its product's and its payment's.
    const oldStreams = new Set(oldOrders.map(orderStreamId));
    for (const [name, keys] of Object.entries(secondRun.deliveries ?? {})) {
      expect({ [name]: keys.filter((key) => oldStreams.has(key.split('#')[0] ?? '')) }).toEqual({ [name]: [] });
    }
    // startSaga's filter lets through the new order's placement (OrderPlaced and StockReserved, one item), nothing else.
    expect(secondRun.deliveries?.startSaga).toEqual([`${orderStreamId(placed.orderId)}#1`]);
    // No saga started for an old order.
    expect(secondRun.executions).toEqual([{ name: placed.orderId, status: 'SUCCEEDED' }]);
    expect(secondRun.failures).toBe(0);

    // The payment gateway goes down, an order waits for it and is cancelled: its void is parked on the compensation
    // state machine, which still runs when the stack stops. On AWS nothing stops it; here the next start resumes it.
    const simulatorTable = String(config.resources?.Resources?.PaymentSimulatorTable?.Properties?.TableName);
    const outage = (clients: StageClients) => simulatorOutage({ client: clients.client, table: simulatorTable });
    await outage(second.clients).down();
    const waiting = await placeOrder(
      { customerId: 'restart-customer', items: [{ sku, quantity: 1 }], paymentToken: 'tok_visa' },
      { store: second.clients.store, metadata: testMetadata({ actor: 'restart-test' }) },
    );
    const waitingStream = orderStreamId(waiting.orderId);
    await eventually(
      async () =>
        expect((await second.clients.store.readStream(waitingStream)).map((e) => e.type)).toContain('PaymentAwaited'),
      { timeoutMs: 30_000 },
    );
    await cancelOrder(
      { orderId: waiting.orderId, caller: { sub: 'restart-customer', isAdmin: false } },
      { store: second.clients.store, metadata: testMetadata({ actor: 'restart-test' }) },
    );
    // Its saga stops at its next wait; its compensation waits for the gateway.
    await eventually(
      async () =>
        expect(
          (await second.stack.report()).executions.filter((e) => e.name === waiting.orderId).map((e) => e.status),
        ).toEqual(['SUCCEEDED', 'RUNNING']),
      { timeoutMs: 30_000 },
    );

    const secondStop = await stop(second.stack);
    progress('second stack stopped');
    expect(secondStop.lines.filter((line) => line.includes('WARNING'))).toEqual([]);
    expect(secondStop.lines).toContain('1 execution(s) still running: the next start resumes them');

    const third = await start();
    progress('third stack started');
    expect((await third.stack.report()).lines).toContain('resumed 1 execution(s) the last stop left running');
    await outage(third.clients).up();
    await eventually(
      async () =>
        expect((await third.stack.report()).executions).toEqual([{ name: waiting.orderId, status: 'SUCCEEDED' }]),
      { timeoutMs: 30_000 },
    );
    expect(await simulatorItem(third.clients.client, simulatorTable, waiting.orderId)).toMatchObject({ voided: true });
    const thirdStop = await stop(third.stack);
    expect(thirdStop.lines.filter((line) => line.includes('still running'))).toEqual([]);
    expect(await readdir(join(stateDir, 'checkpoints', stage))).not.toContain('executions.json');
  }, 400_000);
});
