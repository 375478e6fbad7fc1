import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../eventstore/dynamoClient.js';
import { type EventItem, eventItems } from '../eventstore/eventItems.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { localStateDir } from '../local/paths.js';
import { printProfileSummary, startCpuProfile } from './cpuProfile.js';
import { concurrently, rawEventItem, stats } from './lib.js';
import { startProgress } from './progress.js';
import { startDrivenStack } from './scenario.js';
import { createBaselineTable } from './stack.js';
import { stackOutput } from './stackOutput.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds a process has used so far, from /proc (Linux); undefined where there is none. */
const cpuSecondsOf = async (pid: number): Promise<number | undefined> => {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    // utime and stime, fields 14 and 15 of stat, counted from the state field (3) here; in clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
};

/**
 * `npm run bench -- throughput [--profile]`: orders of two lines over many SKUs from concurrent clients, over HTTP
 * against the whole local stack (API, handlers, DynamoDB Local, kinesalite, relay, consumers, Step Functions), to
 * CONFIRMED in the read model. The baseline, measured in the same run at the same concurrency, is DynamoDB Local
 * alone doing the writes an order needs (placed with its stock reserved on the order's stream, both SKUs' stock
 * balances moved in the same transaction (ADR 0014); authorized; confirmed, selling the reserved units, likewise)
 * with nothing else: the floor the stand-in sets.
 */
export const throughputBench = async ({
  orders = 600,
  skus = 50,
  clients = 16,
  profile = false,
  verbose = false,
}: { orders?: number; skus?: number; clients?: number; profile?: boolean; verbose?: boolean } = {}) => {
  const stage = 'bench';
  const output = await stackOutput({ stage, command: 'throughput', verbose });
  const progress = startProgress({ label: 'throughput', total: orders, ...(verbose ? { inPlace: false } : {}) });
  progress.note('starting the local stack');
  const driven = await startDrivenStack({ stage, log: output.log }).catch(async (error: unknown) => {
    progress.done();
    await output.stop();
    throw error;
  });
  const { stack, issuer, views, post, stop } = driven;
  try {
    /** The baseline: a table of its own, with no stream, so nothing downstream does any work for it. */
    const rawBaseline = async () => {
      const rawTable = `throughput-baseline-${randomUUID().slice(0, 8)}`;
      await createBaselineTable(stack.dynamo.endpoint, rawTable);
      const rawClient = documentClient({ endpoint: stack.dynamo.endpoint, ...localClientConfig });
      const event = rawEventItem;
      const appended = 'attribute_not_exists(streamId)';
      const put = (item: ReturnType<typeof event>) =>
        rawClient.send(new PutCommand({ TableName: rawTable, Item: item, ConditionExpression: appended }));
      /**
       * Items of events on the order's stream, each at its version (the version condition), and each line's SKU stock
       * balance moved by its quantity from `take` to `give`, under the condition that `take` holds it.
       */
      const transact = (
        items: EventItem[],
        lines: { sku: string; quantity: number }[],
        take: 'available' | 'reserved',
        give: 'reserved' | 'sold',
      ) =>
        rawClient.send(
          new TransactWriteCommand({
            TransactItems: [
              ...items.map((Item) => ({ Put: { TableName: rawTable, Item, ConditionExpression: appended } })),
              ...lines.map(({ sku, quantity }) => ({
                Update: {
                  TableName: rawTable,
                  Key: { streamId: `stock-${sku}`, version: 0 },
                  UpdateExpression: 'ADD #take :minus, #give :q',
                  ConditionExpression: '#take >= :q',
                  ExpressionAttributeNames: { '#take': take, '#give': give },
                  ExpressionAttributeValues: { ':minus': -quantity, ':q': quantity },
                },
              })),
            ],
          }),
        );
      const rawSkus = Array.from({ length: skus }, (_, i) => `RAW-${i}`);
      for (const sku of rawSkus) {
        await rawClient.send(
          new PutCommand({
            TableName: rawTable,
            Item: { streamId: `stock-${sku}`, version: 0, available: orders * 4 },
          }),
        );
      }
      const rawOrder = async (i: number) => {
        const orderId = randomUUID();
        const order = `order-${orderId}`;
        const lines = [rawSkus[(i * 7) % skus] ?? '', rawSkus[(i * 7 + 1) % skus] ?? ''].map((sku) => ({
          sku,
          quantity: 1,
        }));
        const unitPrice = { amount: 100, currency: 'EUR' };
        const total = { amount: 200, currency: 'EUR' };
        // Placement's two events are one item, as the store writes them (ADR 0016).
        await transact(
          eventItems([
            event(order, 1, 'OrderPlaced', {
              orderId,
              customerId: 'bench',
              lines: lines.map((line) => ({ ...line, unitPrice })),
              total,
              paymentToken: 'tok_visa',
            }),
            event(order, 2, 'StockReserved', { orderId, lines }),
          ]),
          lines,
          'available',
          'reserved',
        );
        await put(
          event(`payment-${orderId}`, 1, 'PaymentAuthorized', { orderId, amount: total, gatewayReference: orderId }),
        );
        await transact([event(order, 3, 'OrderConfirmed', { orderId })], lines, 'reserved', 'sold');
      };
      await concurrently(50, clients, rawOrder); // warm-up
      const rawStarted = performance.now();
      const rawLatencies = await concurrently(orders, clients, rawOrder);
      const rawSeconds = (performance.now() - rawStarted) / 1000;
      rawClient.destroy();
      return { rawLatencies, rawSeconds };
    };

    // The stack: products first, then every client places orders back to back without waiting for them to settle.
    const adminToken = await issuer.sign('bench-admin', { admin: true });
    const customers = await Promise.all(Array.from({ length: clients }, (_, i) => issuer.sign(`bench-customer-${i}`)));
    const run = randomUUID().slice(0, 6).toUpperCase();
    const skuIds = Array.from({ length: skus }, (_, i) => `TP-${run}-${i}`);
    await concurrently(skuIds.length, 4, (i) =>
      post('/products', adminToken, {
        sku: skuIds[i],
        name: `Product ${i}`,
        price: { amount: 1000 + i, currency: 'EUR' },
        stock: orders * 4,
      }),
    );
    const placeOrder = async (i: number) => {
      // Two different SKUs, spread over all of them.
      const first = (i * 7) % skus;
      const second = (first + 1 + (i % (skus - 1))) % skus;
      const { orderId } = await post(
        '/orders',
        customers[i % clients] as string,
        {
          items: [
            { sku: skuIds[first], quantity: 1 },
            { sku: skuIds[second], quantity: 1 + (i % 2) },
          ],
          payment: { token: 'tok_visa' },
        },
        { 'idempotency-key': `${run}-${i}` },
      );
      return String(orderId);
    };
    progress.note('warming up');
    // Warm every handler once, and wait for that order to settle, before anything is timed.
    const warm = await placeOrder(orders);
    const statuses = async (ids: string[]) => new Map([...(await views(ids))].map(([id, view]) => [id, view.status]));
    for (let tries = 0; (await statuses([warm])).get(warm) !== 'CONFIRMED'; tries++) {
      if (tries > 600) throw new Error('the warm-up order did not settle');
      await sleep(100);
    }

    // After the warm-up, so the stack's stream has records (see changeRelay.ts: an idle new shard can be trimmed).
    progress.note('measuring the baseline: DynamoDB Local alone');
    const { rawLatencies, rawSeconds } = await rawBaseline();
    progress.note();
    const jvm = stack.dynamo.pid;
    const cpuBefore = { node: process.cpuUsage(), jvm: await cpuSecondsOf(jvm) };
    const profiler = profile
      ? await startCpuProfile(join(localStateDir, 'profiles', `throughput-${run}.cpuprofile`))
      : undefined;
    const started = performance.now();
    const placed: string[] = [];
    const settledAt = new Map<string, number>();
    let accepting = true;
    const unexpected: string[] = [];
    let acceptedSeconds = 0;
    // Watches the read model for CONFIRMED: one batched read of the oldest unsettled orders every 200 ms, so watching
    // costs DynamoDB Local little beside the load it measures.
    const watcher = (async () => {
      const deadline = Date.now() + 15 * 60_000;
      while (accepting || settledAt.size < placed.length) {
        if (Date.now() > deadline) break;
        await sleep(200);
        const open = placed.filter((id) => !settledAt.has(id)).slice(0, 100);
        for (const [id, status] of await statuses(open)) {
          if (status === 'PENDING') continue;
          settledAt.set(id, performance.now() - started);
          progress.settled();
          if (status !== 'CONFIRMED') unexpected.push(`order ${id} ended ${status}`);
        }
      }
    })();
    const postLatencies = await concurrently(orders, clients, async (i) => {
      placed.push(await placeOrder(i));
      progress.placed();
    });
    acceptedSeconds = (performance.now() - started) / 1000;
    accepting = false;
    await watcher;
    progress.done();
    const cpuProfile = await profiler?.stop();
    const confirmedSeconds = Math.max(...settledAt.values()) / 1000;
    const nodeCpu = process.cpuUsage(cpuBefore.node);
    const jvmAfter = await cpuSecondsOf(jvm);
    const executions = [...stack.stepFunctions.executions.values()];
    const failed = executions.filter((e) => e.status === 'FAILED').length;
    if (settledAt.size < placed.length)
      unexpected.push(`${placed.length - settledAt.size} orders did not settle in time`);

    const rawRate = orders / rawSeconds;
    const confirmedRate = settledAt.size / confirmedSeconds;
    const postStats = stats(postLatencies);
    const rawStats = stats(rawLatencies);
    const wall = confirmedSeconds;
    console.log(
      `\nThroughput: ${orders} two-line orders over ${skus} SKUs from ${clients} concurrent clients, POST /orders → CONFIRMED`,
    );
    console.log(
      `${'case'.padEnd(58)}${'orders/s'.padStart(10)}${'p50'.padStart(12)}${'p99'.padStart(12)}${'vs baseline'.padStart(14)}`,
    );
    const row = (name: string, rate: number, p50?: number, p99?: number, ratio = '') =>
      console.log(
        `${name.padEnd(58)}${rate.toFixed(1).padStart(10)}${(p50 === undefined ? '' : `${p50.toFixed(1)} ms`).padStart(12)}${(p99 === undefined ? '' : `${p99.toFixed(1)} ms`).padStart(12)}${ratio.padStart(14)}`,
      );
    row(
      "raw DynamoDB Local: an order's 3 writes, same concurrency",
      rawRate,
      rawStats.median,
      rawStats.p99,
      'baseline',
    );
    row(
      'stack: accepted (POST /orders → 202)',
      orders / acceptedSeconds,
      postStats.median,
      postStats.p99,
      `×${(orders / acceptedSeconds / rawRate).toFixed(2)}`,
    );
    row(
      'stack: to CONFIRMED in the read model',
      confirmedRate,
      undefined,
      undefined,
      `×${(confirmedRate / rawRate).toFixed(2)}`,
    );
    console.log(
      `sagas: ${executions.length - 1} run, ${failed} failed, ${executions.reduce((n, e) => n + e.retries, 0)} state retries; CPU during the load: this process ${((nodeCpu.user + nodeCpu.system) / 1e6 / wall).toFixed(2)} cores, DynamoDB Local ${jvmAfter !== undefined && cpuBefore.jvm !== undefined ? ((jvmAfter - cpuBefore.jvm) / wall).toFixed(2) : '?'} cores`,
    );
    if (cpuProfile) {
      printProfileSummary(cpuProfile);
      console.log(`  profile written to .local/profiles/throughput-${run}.cpuprofile (open in Chrome DevTools)`);
    }
    for (const line of unexpected) console.log(line);
  } finally {
    progress.done();
    await stop();
    await output.stop();
    console.log(output.where);
  }
};
