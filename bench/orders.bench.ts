import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Usage } from '../local/meter.js';
import { concurrently, printTable, stats } from './lib.js';
import { type Progress, startProgress } from './progress.js';
import { startDrivenStack } from './scenario.js';
import { createBaselineTable } from './stack.js';
import { stackOutput } from './stackOutput.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The whole local stack, metered, behind its HTTP API: one order at a time at light load (POST → CONFIRMED), then
 * orders at a fixed concurrency (how many `POST /orders` accepts per second), and what each confirmed order asked of
 * DynamoDB, Kinesis, Step Functions and Lambda. While it runs it prints a progress line per phase; the stack's and the
 * functions' lines go to .local/logs/bench-orders.jsonl, and print too with `verbose`.
 */
export const ordersBench = async ({ light = 50, burst = 400, concurrency = 8, verbose = false } = {}) => {
  const stage = 'bench';
  const output = await stackOutput({ stage, command: 'orders', verbose });
  const progressOf = (label: string, total: number) =>
    startProgress({ label, total, ...(verbose ? { inPlace: false } : {}) });
  let progress: Progress = progressOf('orders, one at a time', light);
  progress.note('starting the local stack');
  const driven = await startDrivenStack({ stage, metered: true, log: output.log }).catch(async (error: unknown) => {
    progress.done();
    await output.stop();
    throw error;
  });
  const { stack, issuer, client, table, statusOf: viewOf, post, stop } = driven;
  try {
    // The bench reads views straight from DynamoDB Local, past the meter: polling is not what an order costs.
    const meter = stack.meter;
    if (!meter) throw new Error('the bench stack is metered');
    const adminToken = await issuer.sign('bench-admin', { admin: true });
    const customerToken = await issuer.sign('bench-customer');
    const sku = `BENCH-${randomUUID().slice(0, 6).toUpperCase()}`;
    await post('/products', adminToken, { sku, name: sku, price: { amount: 1000, currency: 'EUR' }, stock: 1_000_000 });
    const placeOne = async () => {
      const { orderId } = await post(
        '/orders',
        customerToken,
        { items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } },
        { 'idempotency-key': randomUUID() },
      );
      return String(orderId);
    };
    const statusOf = async (orderId: string) => (await viewOf(orderId))?.status;
    const settled = async (orderIds: string[], deadlineMs = 120_000) => {
      const deadline = Date.now() + deadlineMs;
      for (const orderId of orderIds) {
        while ((await statusOf(orderId)) !== 'CONFIRMED') {
          if (Date.now() > deadline) throw new Error(`order ${orderId} did not reach CONFIRMED`);
          await sleep(20);
        }
      }
    };
    // Warm every handler and the stand-ins' caches once, unmetered.
    progress.note('warming up');
    await settled([await placeOne()]);
    progress.note();
    meter.reset();
    const executionsBefore = new Set(stack.stepFunctions.executions.keys());

    const accepted: number[] = [];
    const pending: number[] = [];
    const confirmed: number[] = [];
    const lightIds: string[] = [];
    for (let i = 0; i < light; i++) {
      const started = performance.now();
      const orderId = await placeOne();
      accepted.push(performance.now() - started);
      progress.placed();
      lightIds.push(orderId);
      let sawPending = false;
      for (;;) {
        const status = await statusOf(orderId);
        if (status && !sawPending) {
          pending.push(performance.now() - started);
          sawPending = true;
        }
        if (status === 'CONFIRMED') break;
        await sleep(2);
      }
      confirmed.push(performance.now() - started);
      progress.settled();
      await sleep(100);
    }
    // Let the last order's trailing work (projections of OrderConfirmed, the saga's end) finish before counting.
    progress.note('letting the last order finish');
    await sleep(1500);
    progress.done();
    const usage = meter.usage();
    const executions = [...stack.stepFunctions.executions.values()].filter(
      (e) => !executionsBefore.has(e.executionArn),
    );
    printTable(`POST /orders → CONFIRMED at light load (${light} orders, one at a time, 100 ms apart; tok_visa)`, [
      { name: 'POST /orders answers 202', ...stats(accepted), baseline: true },
      { name: 'POST → order in the read model (PENDING or later)', ...stats(pending) },
      { name: 'POST → CONFIRMED in the read model', ...stats(confirmed) },
    ]);
    printUsage(usage, light, executions);

    // Throughput: a fixed number of clients posting orders back to back; the baseline is the raw DynamoDB write of
    // an order's first event at the same concurrency, which is the least an accepted order costs.
    const burstIds: string[] = [];
    const run = async (task: () => Promise<unknown>) => {
      const started = performance.now();
      const latencies = await concurrently(burst, concurrency, task);
      return { ...stats(latencies), perSecond: burst / ((performance.now() - started) / 1000) };
    };
    // The baseline writes into a table of the events table's key schema with no change stream: the same write,
    // without starting sagas or feeding projections with items that are not events.
    const baselineTable = `${table('EVENTS_TABLE')}-baseline`;
    await createBaselineTable(stack.dynamo.endpoint, baselineTable);
    progress = progressOf(`orders, ${concurrency} clients`, burst);
    progress.note('the raw PutItem baseline first');
    const raw = await run(() =>
      client.send(
        new PutCommand({
          TableName: baselineTable,
          Item: {
            streamId: `order-${randomUUID()}`,
            version: 1,
            type: 'OrderPlaced',
            data: { customerId: 'bench', lines: [{ sku, quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }] },
            recordedAt: new Date().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(streamId)',
        }),
      ),
    );
    progress.note();
    const api202 = await run(async () => {
      burstIds.push(await placeOne());
      progress.placed();
    });
    progress.note('waiting for their sagas');
    // Every burst order's saga must end, and its order reach CONFIRMED; said as counts, never as a bare timeout.
    const drained = performance.now();
    const deadline = Date.now() + 600_000;
    const executionOf = (orderId: string) =>
      [...stack.stepFunctions.executions.values()].find((e) => e.name === orderId);
    let confirmedCount = 0;
    for (const orderId of burstIds) {
      for (;;) {
        if ((await statusOf(orderId)) === 'CONFIRMED') {
          confirmedCount += 1;
          break;
        }
        const status = executionOf(orderId)?.status;
        if ((status && status !== 'RUNNING' && status !== 'SUCCEEDED') || Date.now() > deadline) break;
        await sleep(20);
      }
      progress.settled();
    }
    const drainedInMs = performance.now() - drained;
    progress.done();
    // Worst case on purpose: one SKU, so every buyer reserves from one SKU's stock balance, and the whole local
    // backend (sagas, projections, stand-ins) runs in this one process beside the API it is measuring.
    printTable(
      `Orders accepted at ${concurrency} concurrent clients (${burst} orders, all of one SKU; latency per request)`,
      [
        { name: 'raw PutItem of an order event', ...raw, note: `${raw.perSecond.toFixed(0)}/s`, baseline: true },
        { name: 'POST /orders (202)', ...api202, note: `${api202.perSecond.toFixed(0)} orders/s` },
      ],
    );
    const endings: Record<string, number> = {};
    for (const orderId of burstIds) {
      const execution = executionOf(orderId);
      const key = execution
        ? `${execution.status}${execution.error ? ` (${execution.error}: ${(execution.cause ?? '').slice(0, 160)})` : ''}`
        : 'not started';
      endings[key] = (endings[key] ?? 0) + 1;
    }
    console.log(
      `  ${(drainedInMs / 1000).toFixed(1)} s after the last 202: ${confirmedCount} of ${burst} burst orders CONFIRMED; their sagas: ${Object.entries(
        endings,
      )
        .map(([ending, n]) => `${ending} ${n}`)
        .join(', ')}`,
    );
  } finally {
    progress.done();
    await stop();
    await output.stop();
    console.log(`\n${output.where}`);
  }
};

const perOrder = (value: number, orders: number) => (value / orders).toFixed(2);

/** What the metered orders asked of each service, per order. */
const printUsage = (
  usage: Usage,
  orders: number,
  executions: { states: string[]; retries: number; status: string }[],
) => {
  console.log(`\nRequests per confirmed order (metered over the ${orders} orders above)`);
  const dynamo = Object.entries(usage.dynamodb).sort(([a], [b]) => a.localeCompare(b));
  const total = dynamo.reduce(
    (sum, [, c]) => ({
      requests: sum.requests + c.requests,
      readUnits: sum.readUnits + c.readUnits,
      writeUnits: sum.writeUnits + c.writeUnits,
    }),
    { requests: 0, readUnits: 0, writeUnits: 0 },
  );
  console.log(
    `  DynamoDB        ${perOrder(total.requests, orders)} requests (${dynamo.map(([op, c]) => `${op} ${perOrder(c.requests, orders)}`).join(', ')}); ${perOrder(total.readUnits, orders)} RCU, ${perOrder(total.writeUnits, orders)} WCU`,
  );
  console.log(
    `  Kinesis         ${perOrder(usage.kinesis.records, orders)} records put on the change stream (${perOrder(usage.kinesis.payloadUnits, orders)} PUT payload units, ${perOrder(usage.kinesis.bytes, orders)} bytes)`,
  );
  const sfn = Object.entries(usage.stepFunctions);
  const transitions = executions.reduce((sum, e) => sum + e.states.length + e.retries, 0);
  console.log(
    `  Step Functions  ${sfn.map(([action, n]) => `${action} ${perOrder(n, orders)}`).join(', ') || 'no API requests'}; ${executions.length} executions, ${perOrder(transitions, executions.length || 1)} state transitions each (${executions[0]?.states.join(' → ') ?? '-'})`,
  );
  const lambda = Object.entries(usage.lambda).sort(([a], [b]) => a.localeCompare(b));
  const invocations = lambda.reduce((sum, [, c]) => sum + c.invocations, 0);
  console.log(
    `  Lambda          ${perOrder(invocations, orders)} invocations (${lambda.map(([fn, c]) => `${fn} ${perOrder(c.invocations, orders)}`).join(', ')})`,
  );
};
