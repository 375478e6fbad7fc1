import { randomUUID } from 'node:crypto';
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { cachedPointers } from '../adapters/readModelPointer.js';
import { orderIdForKey } from '../application/orders.js';
import { documentClient } from '../eventstore/dynamoClient.js';
import { jwtSettings, type LocalIssuer, localIssuer } from '../local/auth.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { environmentVariable } from '../local/environment.js';
import { type ApiServer, startApi } from '../local/httpServer.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { requestOnce, retryDelayMs } from './http.js';

/**
 * A mix of orders driven over the HTTP API as clients would drive it, for `npm run cost` and `npm run chaos`. Each
 * kind of order says how it must end:
 * - `confirmed`: `tok_visa`, two SKUs in stock → CONFIRMED
 * - `flaky`: `tok_flaky` (the gateway fails twice, then approves) → CONFIRMED
 * - `declined`: `tok_declined` → REJECTED / PAYMENT_DECLINED, stock released
 * - `outOfStock`: one line asks for more than a scarce SKU will ever hold → REJECTED / OUT_OF_STOCK, nothing held
 * - `cancelled`: confirmed, then cancelled → CANCELLED, refunded, stock back
 * - `cancelledEarly`: cancelled right after it is accepted, racing its saga → CANCELLED, nothing held or charged
 *
 * An order may also be given a {@link StepFault}: one saga step fails for good for it, and {@link expectedEndings}
 * says how it must end then.
 */
export type OrderKind = 'confirmed' | 'flaky' | 'declined' | 'outOfStock' | 'cancelled' | 'cancelledEarly';
export type Mix = Partial<Record<OrderKind, number>>;

/** A saga forward step (its function's name) that fails every time for one order, before its handler runs or after. */
export type StepFault = {
  step: 'authorizePayment' | 'confirmOrder';
  when: 'before' | 'after';
};
export type Ending = { status: string; reason?: string };

const forwardSteps: StepFault['step'][] = ['authorizePayment', 'confirmOrder'];
const everyFault: StepFault[] = forwardSteps.flatMap((step) => [
  { step, when: 'before' as const },
  { step, when: 'after' as const },
]);

/**
 * The faults that really fail a step of this kind's saga. An order out of stock is rejected as it is placed and has
 * no saga (ADR 0014); a step an order never reaches cannot fail (a declined order never sells its reserved stock),
 * and an `after` fault only loses a result the handler returned: a step that throws its business error
 * (PaymentDeclinedError) is not touched, so it cannot fail for good.
 */
export const faultsThatHit = (kind: OrderKind): StepFault[] => {
  if (kind === 'outOfStock') return [];
  if (kind === 'declined') return everyFault.filter((f) => f.step === 'authorizePayment' && f.when === 'before');
  return everyFault;
};

/**
 * How an order of this kind, with this step failing for good, may end. The saga's catch-all gives it up: REJECTED
 * (UNAVAILABLE), unless ConfirmOrder committed before it failed, which leaves it CONFIRMED. A payment step that fails
 * for good may meet the breaker open instead (the outage, or enough flaky orders, open it): the order then waits for
 * the gateway and is given up past the wait bound, REJECTED (PAYMENT_UNAVAILABLE), as the README says. A `cancelled`
 * order is cancelled only once CONFIRMED; a `cancelledEarly` one races its saga, and which ending it must have is told
 * by its cancel's answer (see {@link runScenario}).
 */
export const expectedEndings = (kind: OrderKind, fault?: StepFault): Ending[] => {
  if (!fault) return [expected[kind]];
  if (!faultsThatHit(kind).some((f) => f.step === fault.step && f.when === fault.when)) {
    throw new Error(`${fault.step} failing ${fault.when} never fails a ${kind} order's saga`);
  }
  const confirms = fault.step === 'confirmOrder' && fault.when === 'after';
  const givenUp: Ending[] = [
    { status: 'REJECTED', reason: 'UNAVAILABLE' },
    ...(fault.step === 'authorizePayment' ? [{ status: 'REJECTED', reason: 'PAYMENT_UNAVAILABLE' }] : []),
  ];
  if (kind === 'cancelledEarly') return [{ status: 'CANCELLED' }, ...givenUp];
  if (kind === 'cancelled') return confirms ? [{ status: 'CANCELLED' }] : givenUp;
  return confirms ? [{ status: 'CONFIRMED' }] : givenUp;
};

/** `REJECTED (OUT_OF_STOCK)`: an ending as the scenario's report says it. */
export const describeEnding = (ending: Ending | undefined): string =>
  `${ending?.status ?? 'unseen'}${ending?.reason ? ` (${ending.reason})` : ''}`;

const expected: Record<OrderKind, Ending> = {
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
  /** Bearer tokens: an admin (registers products) and customers (place orders), each with its id (the token's `sub`). */
  adminToken: string;
  customers: { id: string; token: string }[];
  orders: number;
  mix: Mix;
  concurrency: number;
  /** Reads an order's status from the read model directly, so polling is not what an order costs. */
  statusOf: OrderStatusReader;
  /** How long every order may take to settle. */
  settleWithinMs?: number;
  /** Told as each order is accepted (`placed`) and as it ends, as its kind says or not (`settled`): for a progress line. */
  onProgress?: (step: 'placed' | 'settled') => void;
  /**
   * Asked before each order is placed, with the id it will have (derived from its Idempotency-Key): a step to fail
   * for good for it, which the caller sets up before answering (one of {@link faultsThatHit} its kind), or none. The
   * order must then end as {@link expectedEndings} says. Its client does not wait for it to settle before the next.
   */
  stepFault?: (order: { index: number; kind: OrderKind; orderId: string }) => StepFault | undefined;
  /**
   * Staff at work beside the customers: after every `everyOrders`-th order, one SKU in turn (never the scarce one) is
   * restocked by 3, has 2 written off and gets a new price, each sent as a careful client sends it (keyed, sent again
   * after a 5xx). One round at a time, so each SKU's last price sent is its price. The write-off takes less than the
   * restock before it added, so the orders' endings do not change.
   */
  backOffice?: { everyOrders: number };
};

/**
 * What the back office sent, per SKU, in the order it sent it: the keys of its restocks, write-offs and new prices,
 * and the prices.
 */
export type BackOfficeSent = {
  restockKeys: string[];
  writeOffKeys: string[];
  repriceKeys: string[];
  prices: number[];
  renameKeys: string[];
  names: string[];
};

export type ScenarioResult = {
  /** Every order, its permanent fault if it had one, and how it ended (`REJECTED (UNAVAILABLE)`, `unseen`, …). */
  orders: { orderId: string; kind: OrderKind; fault?: StepFault; ended: string }[];
  skus: string[];
  /** Answers the clients got, by status; 5xx answers were retried with the same Idempotency-Key. */
  answers: Record<string, number>;
  retries: number;
  /** Orders that did not end as their kind says, each with what it became. */
  mismatches: string[];
  /**
   * Orders that met the gateway's outage and were given up PAYMENT_UNAVAILABLE once the bound their order recorded had
   * passed (a slow machine's retries can take that long): the design's ending for them, checked from their events, so
   * not a mismatch. A give-up before its bound is one.
   */
  waitedOutBound: string[];
  /** Per SKU, what the back office sent and had answered `200` (with `backOffice` only). */
  backOffice: Map<string, BackOfficeSent>;
  /** Back-office requests that never got a `200`, each with its last answer. */
  backOfficeFailures: string[];
  elapsedMs: number;
};

type HistoryEvent = { type: string; data: Record<string, unknown>; recordedAt: string };

/**
 * Whether an order's history (`GET /orders/{id}/events`) shows it waited for the payment gateway and was rejected at or
 * after the bound it recorded then (`PaymentAwaited.until`): a give-up as designed, not one before its time.
 */
export const givenUpPastItsBound = (events: HistoryEvent[]): boolean => {
  const until = events.findLast((e) => e.type === 'PaymentAwaited')?.data.until;
  const rejected = events.find((e) => e.type === 'OrderRejected')?.recordedAt;
  return typeof until === 'string' && rejected !== undefined && Date.parse(rejected) >= Date.parse(until);
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
    { body, key, refusalIsAnswer = false }: { body?: unknown; key?: string; refusalIsAnswer?: boolean } = {},
  ): Promise<Record<string, unknown>> => {
    for (let attempt = 1; ; attempt++) {
      // Status 0: no answer at all (a broken connection), sent again below like any transient failure.
      const { status, json } = await requestOnce(options.apiUrl, {
        method,
        path,
        token,
        body,
        ...(key ? { headers: { 'idempotency-key': key } } : {}),
      });
      answers[status] = (answers[status] ?? 0) + 1;
      // A 409 other than a lost race is the answer itself: e.g. a cancel refused because the order was rejected.
      if (status === 409 && refusalIsAnswer && json.type !== 'urn:orderflow:problem:concurrent-modification') {
        return { ...json, refused: true };
      }
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
      await sleep(retryDelayMs(attempt));
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
      // Keyed, a registration whose answer was lost is answered as registered when it is sent again (ADR 0026).
      key: `register-${sku}`,
    });
  }

  const kinds = kindsFor(options.orders, options.mix);
  const deadline = Date.now() + (options.settleWithinMs ?? 300_000);
  const orders: ScenarioResult['orders'] = [];
  const mismatches: string[] = [];
  const waitedOutBound: string[] = [];

  const rejectedPastItsBound = async (id: string, token: string): Promise<boolean> => {
    const { events } = (await send('GET', `/orders/${id}/events`, token)) as { events?: HistoryEvent[] };
    return givenUpPastItsBound(events ?? []);
  };

  /** Cancels the order if its kind says so, waits for it to end, and checks it ended as it must. */
  const follow = async (id: string, kind: OrderKind, token: string, fault: StepFault | undefined) => {
    let endings = expectedEndings(kind, fault);
    if (kind === 'cancelled') {
      const view = await settles(id, (status) => status !== 'PENDING', deadline);
      // A client cancels an order it sees confirmed; one given up by a failed step has nothing to cancel.
      if (view?.status === 'CONFIRMED' || !fault) await send('POST', `/orders/${id}/cancel`, token);
    }
    if (kind === 'cancelledEarly') {
      const answer = await send('POST', `/orders/${id}/cancel`, token, { refusalIsAnswer: fault !== undefined });
      // Racing a saga that gives the order up: the cancel that won ends it CANCELLED; refused, it was REJECTED first.
      if (fault) endings = endings.filter((e) => (e.status === 'CANCELLED') === !answer.refused);
    }
    const view = await settles(
      id,
      (status) => endings.some((e) => e.status === status) || (status !== 'PENDING' && status !== 'CONFIRMED'),
      deadline,
    );
    const ended = describeEnding(view && { status: view.status, reason: view.rejectionReason });
    orders.push({ orderId: id, kind, ...(fault ? { fault } : {}), ended });
    if (!endings.some((e) => view?.status === e.status && (!e.reason || view.rejectionReason === e.reason))) {
      const fate = fault ? ` with ${fault.step} failing ${fault.when} for good` : '';
      const gaveUp = view?.status === 'REJECTED' && view.rejectionReason === 'PAYMENT_UNAVAILABLE';
      if (gaveUp && (await rejectedPastItsBound(id, token))) waitedOutBound.push(`${kind} order ${id}${fate}`);
      else
        mismatches.push(`${kind} order ${id}${fate} ended ${ended}, not ${endings.map(describeEnding).join(' or ')}`);
    }
    options.onProgress?.('settled');
  };

  const backOffice = new Map<string, BackOfficeSent>();
  const backOfficeFailures: string[] = [];
  let rounds = 0;
  let backOfficeDone = Promise.resolve();
  /** One round of the back office on the next SKU, after the rounds before it. */
  const backOfficeRound = () => {
    const round = rounds++;
    const sku = skus[round % skus.length] as string;
    const sent = backOffice.get(sku) ?? {
      restockKeys: [],
      writeOffKeys: [],
      repriceKeys: [],
      prices: [],
      renameKeys: [],
      names: [],
    };
    backOffice.set(sku, sent);
    const path = `/products/${encodeURIComponent(sku)}`;
    backOfficeDone = backOfficeDone.then(async () => {
      const restockKey = `restock-${run}-${round}`;
      const writeOffKey = `write-off-${run}-${round}`;
      const repriceKey = `price-${run}-${round}`;
      const renameKey = `name-${run}-${round}`;
      const price = 1250 + (round % 7) * 10;
      const name = `Chaos product ${sku}, round ${round}`;
      for (const [what, request] of [
        [
          'restock',
          async () => {
            await send('POST', `${path}/restock`, options.adminToken, { body: { quantity: 3 }, key: restockKey });
            sent.restockKeys.push(restockKey);
          },
        ],
        [
          'write-off',
          async () => {
            await send('POST', `${path}/write-off`, options.adminToken, { body: { quantity: 2 }, key: writeOffKey });
            sent.writeOffKeys.push(writeOffKey);
          },
        ],
        [
          'reprice',
          async () => {
            await send('POST', `${path}/reprice`, options.adminToken, {
              body: { price: { amount: price, currency: 'EUR' } },
              key: repriceKey,
            });
            sent.repriceKeys.push(repriceKey);
            sent.prices.push(price);
          },
        ],
        [
          'rename',
          async () => {
            await send('POST', `${path}/rename`, options.adminToken, { body: { name }, key: renameKey });
            sent.renameKeys.push(renameKey);
            sent.names.push(name);
          },
        ],
      ] as const) {
        await request().catch((error: unknown) => {
          backOfficeFailures.push(`${what} of ${sku}: ${error instanceof Error ? error.message : String(error)}`);
        });
      }
    });
  };

  // Orders with a step failing for good take their saga's retries to settle: followed beside the client's next ones.
  const aside: Promise<void>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let i = next++; i < kinds.length; i = next++) {
        const kind = kinds[i] as OrderKind;
        const customer = options.customers[i % options.customers.length] as { id: string; token: string };
        const items = [
          { sku: skus[i % skus.length] as string, quantity: 1 },
          kind === 'outOfStock'
            ? { sku: scarce, quantity: 2 }
            : { sku: skus[(i + 1) % skus.length] as string, quantity: 1 + (i % 2) },
        ];
        const key = randomUUID();
        const fault = options.stepFault?.({ index: i, kind, orderId: orderIdForKey(customer.id, key) });
        const { orderId } = await send('POST', '/orders', customer.token, {
          body: { items, payment: { token: tokens[kind] } },
          key,
        });
        const id = String(orderId);
        options.onProgress?.('placed');
        if (options.backOffice && (i + 1) % options.backOffice.everyOrders === 0) backOfficeRound();
        const following = follow(id, kind, customer.token, fault);
        if (fault) {
          // Awaited below; handled now, so a failure is not reported as unhandled before then.
          following.catch(() => undefined);
          aside.push(following);
        } else await following;
      }
    }),
  );
  await Promise.all(aside);
  await backOfficeDone;
  return {
    orders,
    skus: [...skus, scarce],
    answers,
    retries,
    mismatches,
    waitedOutBound,
    backOffice,
    backOfficeFailures,
    elapsedMs: performance.now() - started,
  };
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
  /** An order's view, read straight from the live orders table (consistently), past any meter. */
  statusOf: OrderStatusReader;
  /** Many orders' statuses from the live orders table, 100 per BatchGetItem; an order not in it yet is missing. */
  views(orderIds: string[]): Promise<Map<string, { status: string; rejectionReason?: string }>>;
  /** POSTs JSON to the API as `token`'s bearer; answers the body, and throws on any answer but 2xx. */
  post(path: string, token: string, body: unknown, headers?: Record<string, string>): Promise<Record<string, unknown>>;
  drive(
    options: Pick<
      ScenarioOptions,
      'orders' | 'mix' | 'concurrency' | 'settleWithinMs' | 'onProgress' | 'stepFault' | 'backOffice'
    >,
  ): Promise<ScenarioResult>;
  stop(): Promise<void>;
};

export const startDrivenStack = async ({
  accessLog,
  ...options
}: Parameters<typeof startLocalStack>[0] & {
  /** Each request's line in the API's access log (serverless.yml's format), for a run that counts them. */
  accessLog?: (line: string) => void;
}): Promise<DrivenStack> => {
  // Benchmarks count every execution's states and endings: none is trimmed, however many orders a run places.
  const stack = await startLocalStack({ keepFinished: Number.POSITIVE_INFINITY, ...options });
  const issuer = await localIssuer(jwtSettings(stack.config));
  const api = await startApi({ config: stack.config, issuer, ...(accessLog ? { accessLog } : {}) });
  const client = documentClient({
    endpoint: stack.dynamo.endpoint,
    ...localClientConfig,
  });
  const table = environmentVariable(stack.environment);
  // The orders table readers use, as the handlers find it: through the pointer, cached as long (ADR 0009).
  const pointer = cachedPointers(client, table('PROJECTIONS_TABLE'), Number(table('READ_MODEL_CACHE_MS')));
  const slots = { blue: table('ORDERS_TABLE'), green: table('ORDERS_GREEN_TABLE') };
  const liveOrdersTable = async () => slots[(await pointer('orders')).live.slot];
  const statusOf: OrderStatusReader = async (orderId) =>
    (await client.send(new GetCommand({ TableName: await liveOrdersTable(), Key: { orderId }, ConsistentRead: true })))
      .Item as { status: string; rejectionReason?: string } | undefined;
  const views: DrivenStack['views'] = async (orderIds) => {
    const ordersTable = await liveOrdersTable();
    const found = new Map<string, { status: string; rejectionReason?: string }>();
    for (let i = 0; i < orderIds.length; i += 100) {
      const { Responses } = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [ordersTable]: {
              Keys: orderIds.slice(i, i + 100).map((orderId) => ({ orderId })),
              ProjectionExpression: 'orderId, #status, rejectionReason',
              ExpressionAttributeNames: { '#status': 'status' },
            },
          },
        }),
      );
      for (const item of Responses?.[ordersTable] ?? []) {
        found.set(String(item.orderId), {
          status: String(item.status),
          ...(item.rejectionReason ? { rejectionReason: String(item.rejectionReason) } : {}),
        });
      }
    }
    return found;
  };
  return {
    stack,
    api,
    issuer,
    client,
    table,
    statusOf,
    views,
    post: async (path, token, body, headers = {}) => {
      const response = await fetch(`${api.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as Record<string, unknown>;
      if (response.status >= 300) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(json)}`);
      return json;
    },
    drive: async (scenario) =>
      runScenario({
        ...scenario,
        apiUrl: api.url,
        adminToken: await issuer.sign('scenario-admin', { admin: true }),
        customers: await Promise.all(
          [1, 2, 3].map(async (i) => ({
            id: `scenario-customer-${i}`,
            token: await issuer.sign(`scenario-customer-${i}`),
          })),
        ),
        statusOf,
      }),
    stop: async () => {
      client.destroy();
      await api.close();
      await stack.stop();
    },
  };
};
