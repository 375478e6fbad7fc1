import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamoReadModels } from '../adapters/readModels.js';
import { placeOrder } from '../application/orders.js';
import { registerProduct } from '../application/products.js';
import { stageClients } from '../ops/stage.js';
import { appendSettledOrders } from '../tests/support/settledOrders.js';
import { type StackProcess, startStackProcess } from '../tests/support/stackProcess.js';
import { stats } from './lib.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `npm run bench -- restart`: what a restart costs. A stack over an empty state folder places orders one at a time
 * (POST → CONFIRMED in the read model: the baseline); then `history` settled orders are written into its store and it
 * catches up on them; it stops, and a second stack over the same folder places the same number of orders. Before
 * checkpoints, the second stack relayed 24 h of changes again and restarted every old saga first.
 */
export const restartBench = async ({ history = 1_000, orders = 10 } = {}) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'orderflow-restart-bench-'));
  const stage = 'bench';
  const metadata = () => ({
    correlationId: randomUUID(),
    causationId: randomUUID(),
    commandId: randomUUID(),
    actor: 'bench',
  });
  const sku = `RESTART-${randomUUID().slice(0, 6).toUpperCase()}`;
  const price = { amount: 500, currency: 'EUR' };
  let stack: StackProcess | undefined;

  /**
   * Starts a stack over the folder; answers how long each of `orders` new orders took to CONFIRMED, in turn. `before`
   * and `after` run on the same stack around them.
   */
  const run = async ({
    before,
    after,
  }: {
    before?: (clients: Awaited<ReturnType<typeof stageClients>>) => Promise<void>;
    after?: (clients: Awaited<ReturnType<typeof stageClients>>) => Promise<void>;
  } = {}) => {
    const started = performance.now();
    stack = await startStackProcess({ stateDir, stage });
    const startedMs = performance.now() - started;
    const clients = await stageClients(stage, {
      dynamoEndpoint: stack.dynamoEndpoint,
      stepFunctionsEndpoint: stack.stepFunctionsEndpoint,
    });
    // The live tables, as the pointer names them now: no rebuild switches them while this runs.
    const reads = dynamoReadModels({
      client: clients.client,
      ordersTable: await clients.liveTable('orders'),
      productsTable: await clients.liveTable('products'),
    });
    await before?.(clients);
    const latencies: number[] = [];
    for (let i = 0; i < orders; i++) {
      const t = performance.now();
      const { orderId } = await placeOrder(
        { customerId: 'restart-bench', items: [{ sku, quantity: 1 }], paymentToken: 'tok_visa' },
        { store: clients.store, metadata: metadata() },
      );
      while ((await reads.order(orderId))?.view.status !== 'CONFIRMED') {
        if (performance.now() - t > 300_000) throw new Error(`order ${orderId} did not settle in 5 minutes`);
        await sleep(10);
      }
      latencies.push(performance.now() - t);
    }
    await after?.(clients);
    const report = await stack.stop();
    stack = undefined;
    clients.client.destroy();
    return { latencies, startedMs, sagas: report.executions.length, relayed: report.relayed };
  };

  try {
    const fresh = await run({
      before: async (clients) => {
        await registerProduct(
          { sku, name: sku, price, stock: 1_000_000 },
          { store: clients.store, metadata: metadata() },
        );
      },
      // Then the history of a used stack, and the time for the stack to catch up on it (relay, projections, a saga
      // each), as a used stack has before it stops.
      after: async (clients) => {
        process.stdout.write(`  writing ${history} settled orders into the first stack's store…\n`);
        await appendSettledOrders(clients.store, { sku, price, count: history, metadata });
        for (;;) {
          const report = await stack?.report();
          const relayed = report?.relayed ?? 0;
          const caughtUp =
            report !== undefined &&
            // One item per settled order: its three events are one append (ADR 0016).
            relayed >= history &&
            Object.values(report.processed).every((processed) => processed >= relayed) &&
            report.executions.every((execution) => execution.status !== 'RUNNING');
          if (caughtUp) break;
          await sleep(500);
        }
      },
    });
    const restarted = await run();
    const freshFirst = fresh.latencies[0] ?? Number.NaN;
    const restartedFirst = restarted.latencies[0] ?? Number.NaN;
    const freshRest = stats(fresh.latencies.slice(1));
    const restartedRest = stats(restarted.latencies.slice(1));
    console.log(
      `\nRestart: ${history} settled orders in the store, then ${orders} new orders one at a time, POST → CONFIRMED`,
    );
    console.log(
      `${'case'.padEnd(52)}${'first order'.padStart(14)}${'then, median'.padStart(16)}${'vs fresh'.padStart(18)}`,
    );
    const row = (name: string, first: number, median: number, ratio: string) =>
      console.log(
        `${name.padEnd(52)}${`${first.toFixed(0)} ms`.padStart(14)}${`${median.toFixed(0)} ms`.padStart(16)}${ratio.padStart(18)}`,
      );
    row('fresh stack (empty state folder): the baseline', freshFirst, freshRest.median, 'baseline');
    row(
      `restarted over ${history} settled orders`,
      restartedFirst,
      restartedRest.median,
      `×${(restartedFirst / freshFirst).toFixed(2)} / ×${(restartedRest.median / freshRest.median).toFixed(2)}`,
    );
    console.log(
      `restarted stack: ${restarted.sagas} sagas started (the new orders' only), ${restarted.relayed} changes relayed, started in ${(restarted.startedMs / 1000).toFixed(1)} s (fresh: ${(fresh.startedMs / 1000).toFixed(1)} s)`,
    );
  } finally {
    stack?.kill();
    await rm(stateDir, { recursive: true, force: true });
  }
};
