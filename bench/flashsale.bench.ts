import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../eventstore/dynamoClient.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { localStateDir } from '../local/paths.js';
import { printProfileSummary, startCpuProfile } from './cpuProfile.js';
import { concurrently, coresBusy, cpuMeter, cpuPerUnit, stats } from './lib.js';
import { type ApiRequest, requestOnce } from './http.js';
import { startHttpClients } from './httpClients.js';
import { startProgress } from './progress.js';
import { startDrivenStack } from './scenario.js';
import { createBaselineTable } from './stack.js';
import { stackOutput } from './stackOutput.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (n: number) => n.toLocaleString('en');
const settledStatuses = new Set(['CONFIRMED', 'REJECTED', 'CANCELLED']);
/** The issue's goals: they are reported beside the figures, met or missed, and never fail the run. */
const goals = { ofBaseline: 0.25, soldOverFresh: 1.05 };

type View = { status: string; rejectionReason?: string };

/**
 * `npm run bench -- flashsale`: a flash sale over HTTP against the whole local stack. One SKU with `stock` units,
 * `orders` one-unit orders for it from `clients` concurrent clients, each with its own Idempotency-Key: how many
 * `POST /orders` accepts per second, and how many orders per second settle (CONFIRMED, REJECTED or CANCELLED in the
 * orders read model). Then the pass criteria, each printed PASS or FAIL, any FAIL making the exit code non-zero: every
 * order settled, exactly `stock` CONFIRMED, the rest REJECTED / OUT_OF_STOCK, none PENDING, no saga execution failed,
 * and the SKU's stock (GET /products/{sku}) all sold and nothing reserved.
 *
 * The baseline, in the same run at the same concurrency, is the least a flash sale needs of DynamoDB Local: the raw
 * SDK doing one conditional `UpdateItem` per order on one stock item (`available - 1` if `available >= 1`), in a
 * table of its own with no stream. Last, orders placed one at a time on the sold-out SKU and on a fresh one,
 * interleaved: a sale's history should not make the next order on its SKU slower to accept.
 *
 * The sale's clients run in a Node process of their own (httpClients.ts), as a load generator does: the stack's
 * process is the whole backend and nothing else. What an order costs in CPU counts that process and DynamoDB Local's;
 * the clients' is printed beside it, and the machine's ceiling counts all three.
 */
export const flashsaleBench = async ({
  stock = 500,
  orders = 2000,
  clients = 32,
  afterSale = 50,
  settleWithinMs = 15 * 60_000,
  verbose = false,
  profile = false,
}: {
  stock?: number;
  orders?: number;
  clients?: number;
  afterSale?: number;
  settleWithinMs?: number;
  verbose?: boolean;
  profile?: boolean;
} = {}) => {
  const stage = 'bench';
  const output = await stackOutput({ stage, command: 'flashsale', verbose });
  const progress = startProgress({ label: 'flashsale', total: orders, ...(verbose ? { inPlace: false } : {}) });
  progress.note('starting the local stack');
  const driven = await startDrivenStack({ stage, log: output.log }).catch(async (error: unknown) => {
    progress.done();
    await output.stop();
    throw error;
  });
  const { stack, api, issuer, views: viewsOf, post, stop } = driven;
  const httpClients = startHttpClients(api.url);
  try {
    /** A request whose answer is counted rather than thrown: under load a refusal is a figure, not a crash. */
    const send = (path: string, token: string, body?: unknown, headers: Record<string, string> = {}) =>
      requestOnce(api.url, { method: body === undefined ? 'GET' : 'POST', path, token, body, headers });
    const ending = (view: View | undefined) =>
      view ? `${view.status}${view.rejectionReason ? ` (${view.rejectionReason})` : ''}` : 'not in the read model';
    /** `CONFIRMED 500, REJECTED (OUT_OF_STOCK) 1,500`: how many orders are in which status. */
    const tally = (ids: string[], views: Map<string, View>) => {
      const byEnding = new Map<string, number>();
      for (const id of ids) byEnding.set(ending(views.get(id)), (byEnding.get(ending(views.get(id))) ?? 0) + 1);
      return [...byEnding.entries()]
        .sort(([, a], [, b]) => b - a)
        .map(([name, n]) => `${name} ${count(n)}`)
        .join(', ');
    };
    /** Waits until every one of these orders has settled in the read model, or the deadline; answers their views. */
    const settle = async (ids: string[], withinMs: number) => {
      const deadline = Date.now() + withinMs;
      for (;;) {
        const views = await viewsOf(ids);
        const open = ids.filter((id) => !settledStatuses.has(views.get(id)?.status ?? ''));
        if (open.length === 0 || Date.now() > deadline) return views;
        await sleep(200);
      }
    };

    const adminToken = await issuer.sign('bench-admin', { admin: true });
    const customers = await Promise.all(
      Array.from({ length: clients }, (_, i) => issuer.sign(`flashsale-customer-${i}`)),
    );
    const run = randomUUID().slice(0, 6).toUpperCase();
    const register = (sku: string, units: number) =>
      post('/products', adminToken, { sku, name: sku, price: { amount: 1999, currency: 'EUR' }, stock: units });
    const orderRequest = (sku: string, i: number, key: string = randomUUID()): ApiRequest => ({
      method: 'POST',
      path: '/orders',
      token: customers[((i % clients) + clients) % clients] as string,
      body: { items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } },
      headers: { 'idempotency-key': key },
    });
    const orderOf = (sku: string, i: number) => requestOnce(api.url, orderRequest(sku, i));

    // Warm every handler once on a SKU of its own, and wait for that order to settle, before anything is timed.
    progress.note('warming up');
    const warmSku = `FS-${run}-WARM`;
    await register(warmSku, 10);
    const warm = await orderOf(warmSku, 0);
    if (warm.status !== 202) throw new Error(`the warm-up order answered ${warm.status}: ${JSON.stringify(warm.json)}`);
    const warmId = String(warm.json.orderId);
    const warmView = (await settle([warmId], 60_000)).get(warmId);
    if (warmView?.status !== 'CONFIRMED') throw new Error(`the warm-up order ended ${ending(warmView)}`);

    // The baseline, after the warm-up (see throughput.bench.ts: the stack's stream then has records): the same sale
    // as the minimal conditional write per order on one item, in a table with no stream.
    progress.note('measuring the baseline: DynamoDB Local alone');
    const baseline = await (async () => {
      const rawTable = `flashsale-baseline-${randomUUID().slice(0, 8)}`;
      await createBaselineTable(stack.dynamo.endpoint, rawTable);
      const rawClient = documentClient({ endpoint: stack.dynamo.endpoint, ...localClientConfig });
      try {
        const key = (streamId: string) => ({ streamId, version: 0 });
        let written = 0;
        let refused = 0;
        const take = (streamId: string) => async () => {
          try {
            await rawClient.send(
              new UpdateCommand({
                TableName: rawTable,
                Key: key(streamId),
                UpdateExpression: 'SET available = available - :one',
                ConditionExpression: 'available >= :one',
                ExpressionAttributeValues: { ':one': 1 },
              }),
            );
            written += 1;
          } catch (error) {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
            refused += 1;
          }
        };
        await rawClient.send(new PutCommand({ TableName: rawTable, Item: { ...key('warm'), available: 1_000_000 } }));
        await rawClient.send(new PutCommand({ TableName: rawTable, Item: { ...key('sale'), available: stock } }));
        await concurrently(100, clients, take('warm'));
        written = 0;
        const cpu = cpuMeter(stack.dynamo.pid);
        const started = performance.now();
        const latencies = await concurrently(orders, clients, take('sale'));
        const seconds = (performance.now() - started) / 1000;
        const cpuUsed = cpu.stop();
        const { Item } = await rawClient.send(
          new GetCommand({ TableName: rawTable, Key: key('sale'), ConsistentRead: true }),
        );
        return {
          ...stats(latencies),
          perSecond: orders / seconds,
          written,
          refused,
          left: Number(Item?.available),
          cpuUsed,
        };
      } finally {
        rawClient.destroy();
      }
    })();

    // The sale: every client places orders back to back without waiting for them to settle.
    const sku = `FS-${run}`;
    await register(sku, stock);
    progress.note();
    const placed: string[] = [];
    const reserved = new Set<string>();
    const answers = new Map<number, number>();
    const settledAt = new Map<string, number>();
    let accepting = true;
    const profiler = profile
      ? await startCpuProfile(join(localStateDir, 'profiles', `flashsale-${run}.cpuprofile`))
      : undefined;
    const saleCpu = cpuMeter(stack.dynamo.pid, httpClients.pid);
    const started = performance.now();
    const deadline = Date.now() + settleWithinMs;
    // Watches the read model: one batched read of 100 unsettled orders every 200 ms; watching costs DynamoDB Local
    // little beside the load it measures. Orders settle about in the order they were placed (one shard, in order), so
    // half of each read is the 50 oldest still open, which sees each settle within a turn; the other half takes the
    // rest in turn, so an order stuck PENDING does not hide the others. (Taking all of them in turn, 2,000 open orders
    // were each seen only every 4 s, and the sale's last settle up to that late.)
    const watcher = (async () => {
      for (let turn = 0; accepting || settledAt.size < placed.length; turn++) {
        if (Date.now() > deadline) break;
        await sleep(200);
        const open = placed.filter((id) => !settledAt.has(id));
        const rest = open.slice(50);
        const from = rest.length > 50 ? (turn * 50) % rest.length : 0;
        for (const [id, view] of await viewsOf([...open.slice(0, 50), ...rest.slice(from, from + 50)])) {
          if (!settledStatuses.has(view.status)) continue;
          settledAt.set(id, performance.now() - started);
          progress.settled();
        }
      }
    })();
    let gaveUpPosting = 0;
    // Each client is a careful one, as in scenario.ts: a 5xx or no answer is sent again with the same Idempotency-Key
    // (so it places nothing twice), with jittered backoff, at most 10 times; an order's latency includes its retries.
    // They run in a process of their own (httpClients.ts), so the backend's process does only the backend's work.
    const saleAnswers = await httpClients.run(
      Array.from({ length: orders }, (_, i) => orderRequest(sku, i, `${run}-${i}`)),
      {
        clients,
        onAnswer: ({ status, json, statuses }) => {
          for (const seen of statuses) answers.set(seen, (answers.get(seen) ?? 0) + 1);
          if (status !== 202) {
            gaveUpPosting += 1;
            return;
          }
          placed.push(String(json.orderId));
          // Placement reserved its stock, so a saga must run for it; one rejected as placed has none (ADR 0014).
          if (json.status === 'PENDING') reserved.add(String(json.orderId));
          progress.placed();
        },
      },
    );
    const postLatencies = saleAnswers.map((answer) => answer.latencyMs);
    const acceptedSeconds = (performance.now() - started) / 1000;
    accepting = false;
    await watcher;
    const saleCpuUsed = saleCpu.stop();
    const cpuProfile = await profiler?.stop();
    const allSettled = settledAt.size === placed.length && placed.length > 0;
    const settledSeconds = allSettled ? Math.max(...settledAt.values()) / 1000 : undefined;

    // Each saga ends a moment after its order settles (its last step writes the order, then the execution ends).
    progress.note('waiting for the sagas to end');
    const ours = new Set(placed);
    const executionsOf = () => [...stack.stepFunctions.executions.values()].filter((e) => ours.has(e.name));
    const sagasDeadline = Date.now() + (allSettled ? 60_000 : 0);
    while (executionsOf().some((e) => e.status === 'RUNNING') && Date.now() < sagasDeadline) await sleep(200);
    const executions = executionsOf();
    const sagaEndings = new Map<string, number>();
    for (const e of executions) sagaEndings.set(e.status, (sagaEndings.get(e.status) ?? 0) + 1);
    const notStarted = [...reserved].filter((id) => !executions.some((e) => e.name === id)).length;
    if (notStarted > 0) sagaEndings.set('not started', notStarted);
    const sagasFailed = executions.filter((e) => e.status !== 'SUCCEEDED').length + notStarted;
    const gaveUp = executions.filter((e) => e.states.includes('AbandonOrder')).length;

    // The stock figures come from the products read model, which follows the last reservations a moment later.
    progress.note('reading the stock');
    const views = await viewsOf(placed);
    const wanted = { available: 0, reserved: 0, sold: stock };
    const stockDeadline = Date.now() + 60_000;
    const stockNow = async () => {
      const { status, json } = await send(`/products/${sku}`, adminToken);
      return status === 200 ? (json.stock as Record<string, unknown>) : { answer: status };
    };
    const asWanted = (figures: Record<string, unknown>) =>
      Object.entries(wanted).every(([name, value]) => figures[name] === value);
    let figures = await stockNow();
    while (!asWanted(figures) && Date.now() < stockDeadline) {
      await sleep(250);
      figures = await stockNow();
    }
    progress.done();

    const acceptedRate = placed.length / acceptedSeconds;
    const settledRate = settledSeconds === undefined ? undefined : placed.length / settledSeconds;
    const postStats = stats(postLatencies);
    const ratio = (rate: number | undefined) =>
      rate === undefined ? '-' : `×${(rate / baseline.perSecond).toFixed(2)}`;
    const goal = (rate: number | undefined) =>
      `≥ ×${goals.ofBaseline.toFixed(2)}: ${rate !== undefined && rate / baseline.perSecond >= goals.ofBaseline ? 'met' : 'missed'}`;
    console.log(
      `\nFlash sale: one SKU with ${count(stock)} in stock, ${count(orders)} one-unit orders from ${clients} concurrent clients over HTTP`,
    );
    console.log(
      `${'case'.padEnd(62)}${'per s'.padStart(8)}${'p50'.padStart(11)}${'p99'.padStart(11)}${'vs baseline'.padStart(13)}   goal`,
    );
    const row = (name: string, rate: number | undefined, p50?: number, p99?: number, vs = '', goalText = '') =>
      console.log(
        `${name.padEnd(62)}${(rate === undefined ? '-' : rate.toFixed(1)).padStart(8)}${(p50 === undefined ? '' : `${p50.toFixed(1)} ms`).padStart(11)}${(p99 === undefined ? '' : `${p99.toFixed(1)} ms`).padStart(11)}${vs.padStart(13)}   ${goalText}`,
      );
    row(
      `raw UpdateItem available - 1 if >= 1 (${count(baseline.written)} written, ${count(baseline.refused)} refused)`,
      baseline.perSecond,
      baseline.median,
      baseline.p99,
      'baseline',
    );
    row(
      `stack: accepted (POST /orders → 202, ${count(placed.length)} in ${acceptedSeconds.toFixed(1)} s)`,
      acceptedRate,
      postStats.median,
      postStats.p99,
      ratio(acceptedRate),
      goal(acceptedRate),
    );
    row(
      `stack: settled in the read model (${settledSeconds === undefined ? 'not all' : `${count(placed.length)} in ${settledSeconds.toFixed(1)} s`})`,
      settledRate,
      undefined,
      undefined,
      ratio(settledRate),
      goal(settledRate),
    );
    console.log(
      `  answers to POST /orders, retries included: ${[...answers.entries()].map(([status, n]) => `${status || 'no answer'} ×${count(n)}`).join(', ')}; ${count(gaveUpPosting)} orders never accepted; the baseline's item ended with ${baseline.left} available`,
    );
    console.log(
      `  sagas: ${[...sagaEndings.entries()].map(([status, n]) => `${status} ${count(n)}`).join(', ') || 'none'}; ${count(gaveUp)} went through AbandonOrder; ${count(executions.reduce((n, e) => n + e.retries, 0))} state retries`,
    );
    // The ceiling both rates meet: what an order costs in CPU, in this process (the whole backend) and in DynamoDB
    // Local, from the first POST to the last settle; the baseline's per write, the same way.
    console.log(
      `  CPU per order: ${cpuPerUnit(saleCpuUsed, placed.length, 'an order')}${cpuProfile ? ' (profiling adds to it)' : ''}`,
    );
    console.log(`  in the sale, ${coresBusy(saleCpuUsed)}`);
    console.log(`  CPU per baseline write: ${cpuPerUnit(baseline.cpuUsed, orders, 'a write')}`);
    console.log(`  in the baseline, ${coresBusy(baseline.cpuUsed)}`);
    if (cpuProfile) {
      printProfileSummary(cpuProfile);
      console.log(`  profile written to .local/profiles/flashsale-${run}.cpuprofile (open in Chrome DevTools)`);
    }

    const confirmed = placed.filter((id) => views.get(id)?.status === 'CONFIRMED').length;
    const rejected = placed.filter((id) => views.get(id)?.status === 'REJECTED');
    const outOfStock = rejected.filter((id) => views.get(id)?.rejectionReason === 'OUT_OF_STOCK').length;
    const pending = placed.filter((id) => views.get(id)?.status === 'PENDING').length;
    const unseen = placed.filter((id) => !views.has(id)).length;
    const checks = [
      {
        ok: allSettled && placed.length === orders,
        name: `all ${count(orders)} orders accepted and settled within ${settleWithinMs / 60_000} min`,
        detail: `${count(settledAt.size)} of ${count(placed.length)} accepted settled: ${tally(placed, views) || 'none'}`,
      },
      { ok: confirmed === stock, name: `exactly ${count(stock)} CONFIRMED`, detail: count(confirmed) },
      {
        ok: rejected.length === orders - stock && outOfStock === orders - stock,
        name: `${count(orders - stock)} REJECTED with reason OUT_OF_STOCK`,
        detail: `${count(outOfStock)} OUT_OF_STOCK, ${count(rejected.length - outOfStock)} with another reason`,
      },
      {
        ok: pending === 0 && unseen === 0,
        name: '0 PENDING',
        detail: `${count(pending)} PENDING, ${count(unseen)} not in the read model`,
      },
      {
        ok: sagasFailed === 0 && executions.length > 0,
        name: '0 failed saga executions',
        detail: `of the ${count(reserved.size)} orders placed holding their stock: ${[...sagaEndings.entries()].map(([status, n]) => `${status} ${count(n)}`).join(', ') || 'no executions'}`,
      },
      {
        ok: asWanted(figures),
        name: `GET /products/${sku} stock: available 0, reserved 0, sold ${count(stock)}`,
        detail: JSON.stringify(figures),
      },
    ];
    console.log('\nPass criteria');
    for (const check of checks) console.log(`${check.ok ? 'PASS' : 'FAIL'}  ${check.name.padEnd(64)} ${check.detail}`);

    // After the sale: one order at a time on the sold-out SKU and on a fresh one, each on a quiet stack (the previous
    // order settled first, so no saga's work overlaps the POST timed), taking turns at going first. Only once the sale
    // has settled: before that its SKU is not sold out, and the stack is still busy with it.
    const afterTheSale = async () => {
      const fresh = `FS-${run}-FRESH`;
      await register(fresh, afterSale * 10);
      const afterProgress = startProgress({
        label: 'after the sale',
        total: 2 * afterSale,
        ...(verbose ? { inPlace: false } : {}),
      });
      const afterIds: Record<'sold' | 'fresh', string[]> = { sold: [], fresh: [] };
      const untimed: string[] = [];
      const afterAnswers = new Map<string, number>();
      const samples: Record<'sold' | 'fresh', number[]> = { sold: [], fresh: [] };
      const placeOn = async (which: 'sold' | 'fresh', i: number) => {
        const started = performance.now();
        const { status, json } = await orderOf(which === 'sold' ? sku : fresh, i);
        if (i >= 0) samples[which].push(performance.now() - started);
        const answer = `${which} ${status || 'no answer'}`;
        afterAnswers.set(answer, (afterAnswers.get(answer) ?? 0) + 1);
        if (status >= 500 || status === 0) throw new Error(`POST /orders answered ${status}: ${JSON.stringify(json)}`);
        if (status === 202) {
          (i >= 0 ? afterIds[which] : untimed).push(String(json.orderId));
          await settle([String(json.orderId)], 30_000);
        }
        if (i >= 0) afterProgress.placed();
      };
      for (let i = -3; i < afterSale; i++) {
        const turn = i % 2 === 0 ? (['sold', 'fresh'] as const) : (['fresh', 'sold'] as const);
        for (const which of turn) await placeOn(which, i);
      }
      const soldStats = stats(samples.sold);
      const freshStats = stats(samples.fresh);
      afterProgress.note('waiting for their sagas');
      const timed = [...afterIds.sold, ...afterIds.fresh];
      const afterViews = await settle([...untimed, ...timed], 60_000);
      afterProgress.settled(timed.filter((id) => settledStatuses.has(afterViews.get(id)?.status ?? '')).length);
      afterProgress.done();
      const latencyRatio = soldStats.median / freshStats.median;
      console.log(
        `\nAfter the sale: POST /orders one at a time on a quiet stack, ${afterSale} each, interleaved (3 untimed first)`,
      );
      console.log(`${'case'.padEnd(40)}${'median'.padStart(11)}${'p99'.padStart(11)}   ended as`);
      console.log(
        `${`sold-out SKU (${count(stock)} sold)`.padEnd(40)}${`${soldStats.median.toFixed(1)} ms`.padStart(11)}${`${soldStats.p99.toFixed(1)} ms`.padStart(11)}   ${tally(afterIds.sold, afterViews) || '-'}`,
      );
      console.log(
        `${'fresh SKU'.padEnd(40)}${`${freshStats.median.toFixed(1)} ms`.padStart(11)}${`${freshStats.p99.toFixed(1)} ms`.padStart(11)}   ${tally(afterIds.fresh, afterViews) || '-'}`,
      );
      console.log(
        `sold-out / fresh, medians: ×${latencyRatio.toFixed(2)} (goal ≤ ×${goals.soldOverFresh.toFixed(2)}: ${latencyRatio <= goals.soldOverFresh ? 'met' : 'missed'}); answers: ${[...afterAnswers.entries()].map(([answer, n]) => `${answer} ×${n}`).join(', ')}`,
      );
    };
    if (allSettled) await afterTheSale();
    else
      console.log(
        `\nAfter the sale: skipped, since the sale did not settle (its SKU's stock: ${JSON.stringify(figures)})`,
      );

    const failures = checks.filter((check) => !check.ok).length;
    console.log(
      failures === 0 ? '\nflashsale: PASS' : `\nflashsale: FAIL (${failures} of ${checks.length} criteria failed)`,
    );
    if (failures > 0) process.exitCode = 1;
  } finally {
    progress.done();
    httpClients.stop();
    await stop();
    await output.stop();
    console.log(output.where);
  }
};
