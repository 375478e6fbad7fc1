import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../eventstore/dynamoClient.js';
import { jwtSettings, type LocalIssuer, localIssuer } from '../local/auth.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { type ApiServer, startApi } from '../local/httpServer.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';

/**
 * A mix of orders driven over the HTTP API as clients would drive it, for `npm run cost` and `npm run chaos`. Each
 * kind of order says how it must end:
 * - `confirmed`: `tok_visa`, two SKUs in stock → CONFIRMED
 * - `flaky`: `tok_flaky` (the gateway fails twice, then approves) → CONFIRMED
 * - `declined`: `tok_declined` → REJECTED / PAYMENT_DECLINED, stock released
 * - `outOfStock`: one line asks for more than a scarce SKU will ever hold → REJECTED / OUT_OF_STOCK, nothing held
 * - `cancelled`: confirmed, then cancelled → CANCELLED, refunded, stock back
 * - `cancelledEarly`: cancelled right after it is accepted, racing its saga → CANCELLED, nothing held or charged
 */
export type OrderKind = 'confirmed' | 'flaky' | 'declined' | 'outOfStock' | 'cancelled' | 'cancelledEarly';
export type Mix = Partial<Record<OrderKind, number>>;

const expected: Record<OrderKind, { status: string; reason?: string }> = {
  confirmed: { status: 'CONFIRMED' },
  flaky: { status: 'CONFIRMED' },
  declined: { status: 'REJECTED', reason: 'PAYMENT_DECLINED' },
  outOfStock: { status: 'REJECTED', reason: 'OUT_OF_STOCK' },
  cancelled: { status: 'CANCELLED' },
  cancelledEarly: { status: 'CANCELLED' },
};
const tokens: Record<OrderKind, string> = {
  confirmed: 'tok_visa',
  flaky: 'tok_flaky',
  declined: 'tok_declined',
  outOfStock: 'tok_visa',
  cancelled: 'tok_visa',
  cancelledEarly: 'tok_visa',
};

export type OrderStatusReader = (orderId: string) => Promise<{ status: string; rejectionReason?: string } | undefined>;

export type ScenarioOptions = {
  apiUrl: string;
  /** Bearer tokens: an admin (registers products) and customers (place orders). */
  adminToken: string;
  customerTokens: string[];
  orders: number;
  mix: Mix;
  concurrency: number;
  /** Reads an order's status from the read model directly, so polling is not what an order costs. */
  statusOf: OrderStatusReader;
  /** How long every order may take to settle. */
  settleWithinMs?: number;
  /** Told as each order is accepted (`placed`) and as it ends, as its kind says or not (`settled`): for a progress line. */
  onProgress?: (step: 'placed' | 'settled') => void;
};

export type ScenarioResult = {
  orders: { orderId: string; kind: OrderKind }[];
  skus: string[];
  /** Answers the clients got, by status; 5xx answers were retried with the same Idempotency-Key. */
  answers: Record<string, number>;
  retries: number;
  /** Orders that did not end as their kind says, each with what it became. */
  mismatches: string[];
  elapsedMs: number;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The kinds for `count` orders in the mix's proportions, spread evenly rather than in blocks. */
export const kindsFor = (count: number, mix: Mix): OrderKind[] => {
  const entries = Object.entries(mix).filter(([, weight]) => (weight ?? 0) > 0) as [OrderKind, number][];
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  const taken = new Map<OrderKind, number>();
  return Array.from({ length: count }, (_, i) => {
    // The kind furthest behind its share so far goes next.
    const [kind] = entries.reduce((best, entry) => {
      const lag = (i + 1) * (entry[1] / total) - (taken.get(entry[0]) ?? 0);
      const bestLag = (i + 1) * (best[1] / total) - (taken.get(best[0]) ?? 0);
      return lag > bestLag ? entry : best;
    });
    taken.set(kind, (taken.get(kind) ?? 0) + 1);
    return kind;
  });
};

/** Places, cancels and waits for a mix of orders; answers which orders there were and how they ended. */
export const runScenario = async (options: ScenarioOptions): Promise<ScenarioResult> => {
  const started = performance.now();
  const answers: Record<string, number> = {};
  let retries = 0;

  /** A request as a careful client sends it: a 5xx, 429 or 409 conflict, or a broken connection, is sent again. */
  const send = async (
    method: string,
    path: string,
    token: string,
    {
      body,
      key,
      conflictAfterRetryIsDone = false,
    }: { body?: unknown; key?: string; conflictAfterRetryIsDone?: boolean } = {},
  ) => {
    for (let attempt = 1; ; attempt++) {
      // 0: no answer at all (a broken connection).
      let status = 0;
      let json: Record<string, unknown> = {};
      try {
        const response = await fetch(`${options.apiUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(key ? { 'idempotency-key': key } : {}),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        status = response.status;
        json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      } catch {
        // Sent again below, like any transient failure.
      }
      answers[status] = (answers[status] ?? 0) + 1;
      // A registration whose answer was lost, sent again, finds the product already there.
      if (status === 409 && attempt > 1 && conflictAfterRetryIsDone) return json;
      const transient = status === 0 || status >= 500 || status === 429 || status === 409;
      if (!transient) {
        if (status >= 300) throw new Error(`${method} ${path} answered ${status}: ${JSON.stringify(json)}`);
        return json;
      }
      if (attempt >= 10) {
        throw new Error(
          `${method} ${path} still answered ${status} after ${attempt} attempts: ${JSON.stringify(json)}`,
        );
      }
      retries += 1;
      await sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt));
    }
  };

  const settles = async (orderId: string, done: (status: string) => boolean, deadline: number) => {
    for (;;) {
      const view = await options.statusOf(orderId);
      if (view && done(view.status)) return view;
      if (Date.now() > deadline) return view;
      await sleep(50);
    }
  };

  const run = randomUUID().slice(0, 6).toUpperCase();
  const skus = [0, 1, 2, 3].map((i) => `RUN-${run}-${i}`);
  const scarce = `RUN-${run}-SCARCE`;
  for (const [sku, stock] of [...skus.map((sku) => [sku, options.orders * 2] as const), [scarce, 1] as const]) {
    await send('POST', '/products', options.adminToken, {
      body: { sku, name: `Product ${sku}`, price: { amount: 1250, currency: 'EUR' }, stock },
      conflictAfterRetryIsDone: true,
    });
  }

  const kinds = kindsFor(options.orders, options.mix);
  const deadline = Date.now() + (options.settleWithinMs ?? 300_000);
  const orders: ScenarioResult['orders'] = [];
  const mismatches: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let i = next++; i < kinds.length; i = next++) {
        const kind = kinds[i] as OrderKind;
        const token = options.customerTokens[i % options.customerTokens.length] as string;
        const items = [
          { sku: skus[i % skus.length] as string, quantity: 1 },
          kind === 'outOfStock'
            ? { sku: scarce, quantity: 2 }
            : { sku: skus[(i + 1) % skus.length] as string, quantity: 1 + (i % 2) },
        ];
        const { orderId } = await send('POST', '/orders', token, {
          body: { items, payment: { token: tokens[kind] } },
          key: randomUUID(),
        });
        const id = String(orderId);
        orders.push({ orderId: id, kind });
        options.onProgress?.('placed');
        if (kind === 'cancelled') await settles(id, (status) => status !== 'PENDING', deadline);
        if (kind === 'cancelled' || kind === 'cancelledEarly') await send('POST', `/orders/${id}/cancel`, token);
        const want = expected[kind];
        const view = await settles(
          id,
          (status) => status === want.status || (status !== 'PENDING' && status !== 'CONFIRMED'),
          deadline,
        );
        if (view?.status !== want.status || (want.reason && view.rejectionReason !== want.reason)) {
          mismatches.push(
            `${kind} order ${id} ended ${view?.status ?? 'unseen'}${view?.rejectionReason ? ` (${view.rejectionReason})` : ''}`,
          );
        }
        options.onProgress?.('settled');
      }
    }),
  );
  return { orders, skus: [...skus, scarce], answers, retries, mismatches, elapsedMs: performance.now() - started };
};

/** A local stack behind its HTTP API, ready to drive scenarios; its client reads the tables past any meter. */
export type DrivenStack = {
  stack: LocalStack;
  api: ApiServer;
  /** Signs tokens the API accepts. */
  issuer: LocalIssuer;
  client: DynamoDBDocumentClient;
  /** A table name from the handlers' environment, e.g. `ORDERS_TABLE`. */
  table(variable: string): string;
  /** An order's view, read straight from the orders table (consistently), past any meter. */
  statusOf: OrderStatusReader;
  drive(
    options: Pick<ScenarioOptions, 'orders' | 'mix' | 'concurrency' | 'settleWithinMs' | 'onProgress'>,
  ): Promise<ScenarioResult>;
  stop(): Promise<void>;
};

export const startDrivenStack = async (options: Parameters<typeof startLocalStack>[0]): Promise<DrivenStack> => {
  const stack = await startLocalStack(options);
  const issuer = await localIssuer(jwtSettings(stack.config));
  const api = await startApi({ config: stack.config, issuer });
  const client = documentClient({
    endpoint: stack.dynamo.endpoint,
    ...localClientConfig,
  });
  const table = (variable: string) => {
    const name = stack.environment[variable];
    if (!name) throw new Error(`serverless.yml sets no ${variable}`);
    return name;
  };
  const statusOf: OrderStatusReader = async (orderId) =>
    (await client.send(new GetCommand({ TableName: table('ORDERS_TABLE'), Key: { orderId }, ConsistentRead: true })))
      .Item as { status: string; rejectionReason?: string } | undefined;
  return {
    stack,
    api,
    issuer,
    client,
    table,
    statusOf,
    drive: async (scenario) =>
      runScenario({
        ...scenario,
        apiUrl: api.url,
        adminToken: await issuer.sign('scenario-admin', { admin: true }),
        customerTokens: await Promise.all([1, 2, 3].map((i) => issuer.sign(`scenario-customer-${i}`))),
        statusOf,
      }),
    stop: async () => {
      client.destroy();
      await api.close();
      await stack.stop();
    },
  };
};
