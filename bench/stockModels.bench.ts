import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../eventstore/dynamoClient.js';
import { localClientConfig } from '../local/dynamoLocal.js';
import { concurrently, rawEventItem, stats } from './lib.js';
import { type BenchStack, createBaselineTable } from './stack.js';

type Answer = 'reserved' | 'out-of-stock' | 'already-reserved';

/** One way to keep a SKU's stock: how it starts, how it reserves one unit for an order, and how its end is checked. */
type StockModel = {
  name: string;
  /** What `retries` counts, for the legend. */
  retried?: string;
  setUp(sku: string, stock: number): Promise<void>;
  reserve(sku: string, orderId: string): Promise<Answer>;
  /**
   * Throws unless, of the orders `asked`, the table holds exactly `reserved` as the SKU's reservations, and
   * `available` units are left.
   */
  verify(sku: string, asked: string[], reserved: string[], available: number): Promise<void>;
  /** Counters that only grow: `retries`, and whatever else the model counts. */
  tally: () => { retries: number; transactions?: number; batched?: number };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Full jitter: a random wait up to base·2^attempt, capped. */
const backoff = (attempt: number) => sleep(Math.random() * Math.min(200, 10 * 2 ** attempt));
const reasonsOf = (error: TransactionCanceledException) => (error.CancellationReasons ?? []).map((r) => r.Code);

/** Every model writes items of the same size, envelope and all. */
const event = rawEventItem;
const reservationKey = (sku: string, orderId: string) => ({ streamId: `reservation-${sku}/${orderId}`, version: 1 });
const reservation = (sku: string, orderId: string) =>
  event(reservationKey(sku, orderId).streamId, 1, 'StockReserved', { sku, orderId, quantity: 1 });
const balanceKey = (sku: string) => ({ streamId: `balance-${sku}`, version: 0 });

const expect = (what: string, actual: unknown, expected: unknown) => {
  if (actual !== expected) throw new Error(`${what}: ${String(actual)}, expected ${String(expected)}`);
};
const expectSameOrders = (what: string, recorded: Iterable<string>, answered: string[]) => {
  const found = new Set(recorded);
  const missing = answered.filter((id) => !found.delete(id));
  if (missing.length > 0 || found.size > 0) {
    throw new Error(
      `${what}: ${missing.length} orders answered reserved have no reservation, ${found.size} reservations were never answered reserved`,
    );
  }
};

export const stockModels = (client: DynamoDBDocumentClient, table: string) => {
  const get = async (key: Record<string, unknown>) =>
    (await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
  /** The orders among `orderIds` whose reservation item exists. */
  const recordedReservations = async (sku: string, orderIds: string[]) => {
    const found: string[] = [];
    for (let i = 0; i < orderIds.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = orderIds.slice(i, i + 100).map((id) => reservationKey(sku, id));
      while (keys && keys.length > 0) {
        const page: BatchGetCommandOutput = await client.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of page.Responses?.[table] ?? [])
          found.push(String((item.data as { orderId: string }).orderId));
        keys = page.UnprocessedKeys?.[table]?.Keys;
      }
    }
    return found;
  };
  const createBalance = (sku: string, stock: number) =>
    client.send(
      new PutCommand({ TableName: table, Item: { ...balanceKey(sku), available: stock, reserved: 0, seq: 0 } }),
    );
  const verifyBalance =
    (name: string) => async (sku: string, asked: string[], reserved: string[], available: number) => {
      const balance = await get(balanceKey(sku));
      expect(`${name}: available`, balance?.available, available);
      expect(`${name}: reserved`, balance?.reserved, reserved.length);
      expectSameOrders(name, await recordedReservations(sku, asked), reserved);
    };

  /** 1. The floor: one conditional decrement of one item, nothing recorded per order. */
  const baseline: StockModel = {
    name: 'baseline: conditional UpdateItem, one item',
    setUp: async (sku, stock) => {
      await client.send(
        new PutCommand({ TableName: table, Item: { streamId: `stock-${sku}`, version: 0, available: stock } }),
      );
    },
    reserve: async (sku) => {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: { streamId: `stock-${sku}`, version: 0 },
            UpdateExpression: 'SET available = available - :one',
            ConditionExpression: 'available >= :one',
            ExpressionAttributeValues: { ':one': 1 },
          }),
        );
        return 'reserved';
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return 'out-of-stock';
        throw error;
      }
    },
    // Nothing per order to count: the answers were counted by the caller.
    verify: async (sku, _asked, _reserved, available) =>
      expect('baseline: available', (await get({ streamId: `stock-${sku}`, version: 0 }))?.available, available),
    tally: () => ({ retries: 0 }),
  };

  /**
   * 2. Today's model: the SKU is one event stream. Each event carries the running `available`, so the newest event
   * alone is the state: one consistent Query for it, then a Put of version n+1 that fails if another writer took it.
   */
  let streamRetries = 0;
  const streamId = (sku: string) => `product-${sku}`;
  const stream: StockModel = {
    name: 'stream: read newest event, put version n+1',
    retried: 'stream: version races lost',
    setUp: async (sku, stock) => {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...event(streamId(sku), 1, 'ProductRegistered', { sku, initialStock: stock }), available: stock },
        }),
      );
    },
    reserve: async (sku, orderId) => {
      for (let attempt = 0; ; attempt++) {
        const { Items } = await client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'streamId = :id',
            ExpressionAttributeValues: { ':id': streamId(sku) },
            ScanIndexForward: false,
            Limit: 1,
            ConsistentRead: true,
          }),
        );
        const newest = Items?.[0];
        if (!newest) throw new Error(`stream ${streamId(sku)} is empty`);
        const available = Number(newest.available);
        if (available < 1) return 'out-of-stock';
        try {
          await client.send(
            new PutCommand({
              TableName: table,
              Item: {
                ...event(streamId(sku), Number(newest.version) + 1, 'StockReserved', { sku, orderId, quantity: 1 }),
                available: available - 1,
              },
              ConditionExpression: 'attribute_not_exists(streamId)',
            }),
          );
          return 'reserved';
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          streamRetries++;
          await backoff(attempt);
        }
      }
    },
    verify: async (sku, _asked, reserved, available) => {
      const events: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'streamId = :id',
            ExpressionAttributeValues: { ':id': streamId(sku) },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        events.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      events.forEach((e, i) => {
        expect('stream: version', e.version, i + 1);
        if (i > 0) expect(`stream: available at version ${i + 1}`, e.available, Number(events[i - 1]?.available) - 1);
      });
      expect('stream: available', events.at(-1)?.available, available);
      expectSameOrders(
        'stream',
        events.slice(1).map((e) => String((e.data as { orderId: string }).orderId)),
        reserved,
      );
    },
    tally: () => ({ retries: streamRetries }),
  };

  /**
   * 3. Design b: a balance item per SKU, and per order one transaction of the order's reservation (which makes the
   * request idempotent) and a conditional ADD on the balance. Nothing to read first, so no version race to lose;
   * only transactions that overlap on the balance item conflict.
   */
  let counterConflicts = 0;
  const counter: StockModel = {
    name: 'counter: TransactWriteItems, reservation + balance',
    retried: 'counter: TransactionConflict cancellations',
    setUp: async (sku, stock) => {
      await createBalance(sku, stock);
    },
    reserve: async (sku, orderId) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: table,
                    Item: reservation(sku, orderId),
                    ConditionExpression: 'attribute_not_exists(streamId)',
                  },
                },
                {
                  Update: {
                    TableName: table,
                    Key: balanceKey(sku),
                    UpdateExpression: 'ADD available :minus, reserved :plus',
                    ConditionExpression: 'available >= :q',
                    ExpressionAttributeValues: { ':minus': -1, ':plus': 1, ':q': 1 },
                  },
                },
              ],
            }),
          );
          return 'reserved';
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) throw error;
          const [put, balance] = reasonsOf(error);
          if (put === 'ConditionalCheckFailed') return 'already-reserved';
          if (balance === 'ConditionalCheckFailed') return 'out-of-stock';
          if (put !== 'TransactionConflict' && balance !== 'TransactionConflict') throw error;
          counterConflicts++;
          await backoff(attempt);
        }
      }
    },
    verify: verifyBalance('counter'),
    tally: () => ({ retries: counterConflicts }),
  };

  /**
   * 4. Design c: one writer per SKU in this process. Requests queue while a write is in flight; each flush decides up
   * to 49 of them against the balance held in memory (read at the start and after any failure) and commits the
   * reserved ones in one transaction, with the balance conditioned on its `seq` so that a second writer is detected.
   * Stock only goes down here, so an out-of-stock answer from a stale balance is still right.
   */
  const counts = { failed: 0, transactions: 0, batched: 0 };
  type Pending = { orderId: string; answer: (answer: Answer) => void; fail: (error: unknown) => void };
  const writers = new Map<string, (orderId: string) => Promise<Answer>>();
  const writer = (sku: string) => {
    const queue: Pending[] = [];
    let balance: { available: number; seq: number } | undefined;
    let flushing = false;
    const flush = async () => {
      flushing = true;
      let take: Pending[] = [];
      try {
        for (let attempt = 0; ;) {
          // One turn of the event loop first, so that what arrives meanwhile (the next request of each client just
          // answered, too) joins this flush instead of waiting for the next.
          await new Promise((resolve) => setImmediate(resolve));
          if (queue.length === 0) break;
          if (!balance) {
            const item = await get(balanceKey(sku));
            balance = { available: Number(item?.available), seq: Number(item?.seq) };
          }
          let available = balance.available;
          take = [];
          for (const pending of queue.splice(0, 49)) {
            if (available > 0) {
              available--;
              take.push(pending);
            } else pending.answer('out-of-stock');
          }
          if (take.length === 0) continue;
          try {
            await client.send(
              new TransactWriteCommand({
                TransactItems: [
                  ...take.map(({ orderId }) => ({
                    Put: {
                      TableName: table,
                      Item: reservation(sku, orderId),
                      ConditionExpression: 'attribute_not_exists(streamId)',
                    },
                  })),
                  {
                    Update: {
                      TableName: table,
                      Key: balanceKey(sku),
                      UpdateExpression: 'SET available = available - :n, reserved = reserved + :n, seq = seq + :one',
                      ConditionExpression: 'seq = :seq',
                      ExpressionAttributeValues: { ':n': take.length, ':one': 1, ':seq': balance.seq },
                    },
                  },
                ],
              }),
            );
            counts.transactions++;
            counts.batched += take.length;
            balance = { available, seq: balance.seq + 1 };
            for (const pending of take) pending.answer('reserved');
            attempt = 0;
          } catch (error) {
            if (!(error instanceof TransactionCanceledException)) throw error;
            // Orders already reserved are answered; the rest go back to the head of the queue, against a fresh balance.
            const reasons = reasonsOf(error);
            const again = take.filter((pending, i) => {
              if (reasons[i] !== 'ConditionalCheckFailed') return true;
              pending.answer('already-reserved');
              return false;
            });
            const conflict = reasons.includes('TransactionConflict');
            // Neither a conflict, nor an order already reserved, nor another writer's seq: not ours to retry.
            if (!conflict && again.length === take.length && reasons[take.length] !== 'ConditionalCheckFailed') {
              throw error;
            }
            counts.failed++;
            balance = undefined;
            queue.unshift(...again);
            take = [];
            if (conflict) await backoff(attempt++);
          }
        }
      } catch (error) {
        for (const pending of [...take, ...queue.splice(0)]) pending.fail(error);
      } finally {
        flushing = false;
      }
    };
    return (orderId: string) =>
      new Promise<Answer>((answer, fail) => {
        queue.push({ orderId, answer, fail });
        if (!flushing) void flush();
      });
  };
  const batched: StockModel = {
    name: 'batched: one writer, ≤49 orders a transaction',
    retried: 'batched: failed transactions',
    setUp: async (sku, stock) => {
      await createBalance(sku, stock);
      writers.set(sku, writer(sku));
    },
    reserve: (sku, orderId) => {
      const reserve = writers.get(sku);
      if (!reserve) throw new Error(`no writer for ${sku}`);
      return reserve(orderId);
    },
    verify: verifyBalance('batched'),
    tally: () => ({ retries: counts.failed, transactions: counts.transactions, batched: counts.batched }),
  };

  return { baseline, stream, counter, batched };
};

/**
 * `npm run bench -- stockmodels`: three ways to reserve stock on one hot SKU, with the raw SDK against DynamoDB
 * Local, to choose a design by measurement. Each model takes `orders` one-unit reservations by distinct orders for a
 * SKU with `stock` units, from `clients` concurrent clients, and must answer every one (reserved or out of stock),
 * reserve exactly `stock` and record exactly those orders. The baseline is one conditional decrement per order.
 */
export const stockModelsBench = async (
  { dynamo }: BenchStack,
  { orders = 2_000, stock = 500, clients = 32 }: { orders?: number; stock?: number; clients?: number } = {},
) => {
  const table = `stockmodels-${randomUUID().slice(0, 8)}`;
  await createBaselineTable(dynamo.endpoint, table);
  let requests = 0;
  // One attempt per call, so every retry is the model's own and counted; every request is counted, checks aside.
  const client = documentClient(
    { endpoint: dynamo.endpoint, ...localClientConfig, maxAttempts: 1 },
    {
      instrument: (base) => {
        base.middlewareStack.add(
          (next) => (args) => {
            requests++;
            return next(args);
          },
          { step: 'build', name: 'countRequests' },
        );
        return base;
      },
    },
  );
  const models = stockModels(client, table);
  type Tally = ReturnType<StockModel['tally']>;
  const all = [models.baseline, models.stream, models.counter, models.batched];

  const scenario = async (model: StockModel, { orders, stock }: { orders: number; stock: number }) => {
    const sku = `SM-${randomUUID().slice(0, 8).toUpperCase()}`;
    await model.setUp(sku, stock);
    const orderIds = Array.from({ length: orders }, () => randomUUID());
    const answers: (Answer | undefined)[] = Array.from({ length: orders }, () => undefined);
    const before = { requests, tally: model.tally() };
    const started = performance.now();
    let soldOutMs = 0;
    const latencies = await concurrently(orders, clients, async (i) => {
      answers[i] = await model.reserve(sku, orderIds[i] as string);
      if (answers[i] === 'reserved') soldOutMs = performance.now() - started;
    });
    const seconds = (performance.now() - started) / 1000;
    const used = requests - before.requests;
    const tally = model.tally();
    const grew = (key: keyof Tally) => (tally[key] ?? 0) - (before.tally[key] ?? 0);
    const reserved = orderIds.filter((_, i) => answers[i] === 'reserved');
    expect(`${model.name}: orders reserved`, reserved.length, stock);
    expect(`${model.name}: orders out of stock`, answers.filter((a) => a === 'out-of-stock').length, orders - stock);
    await model.verify(sku, orderIds, reserved, 0);
    return {
      rate: orders / seconds,
      soldOutMs,
      perOrder: used / orders,
      retries: grew('retries'),
      transactions: grew('transactions'),
      batched: grew('batched'),
      latency: stats(latencies),
    };
  };

  // Warm-up: every model once, small, checked the same way (JIT, sockets, and the out-of-stock paths).
  for (const model of all) await scenario(model, { orders: 200, stock: 50 });
  const results = [];
  for (const model of all) results.push({ model, ...(await scenario(model, { orders, stock })) });

  // Idempotency: already reserved orders sent again, on a SKU with stock left (at 0 a re-send could not take any).
  const idempotency = async (model: StockModel, name: string, count = 100) => {
    const sku = `SM-${randomUUID().slice(0, 8).toUpperCase()}`;
    await model.setUp(sku, 2 * count);
    const orderIds = Array.from({ length: count }, () => randomUUID());
    const send = async () => {
      const answers: Answer[] = [];
      await concurrently(count, clients, async (i) => answers.push(await model.reserve(sku, orderIds[i] as string)));
      return answers;
    };
    expect(`${name}: first sends reserved`, (await send()).filter((a) => a === 'reserved').length, count);
    const again = await send();
    expect(`${name}: re-sends answered already reserved`, again.filter((a) => a === 'already-reserved').length, count);
    await model.verify(sku, orderIds, orderIds, count);
    return `idempotency, ${name}: ${count} reserved orders re-sent, ${count} answered already reserved; stock unchanged (${count} available, ${count} reserved)`;
  };
  const idempotencyLines = [await idempotency(models.counter, 'counter'), await idempotency(models.batched, 'batched')];
  client.destroy();

  const base = results[0];
  if (!base) throw new Error('no baseline');
  console.log(
    `\nStock models: ${orders.toLocaleString('en')} one-unit reservations by distinct orders, one SKU with ${stock} in stock, ${clients} concurrent clients (raw SDK)`,
  );
  console.log(
    `${'model'.padEnd(52)}${'orders/s'.padStart(10)}${'vs baseline'.padStart(13)}${'sold out'.padStart(11)}${'req/order'.padStart(11)}${'retries'.padStart(9)}${'p50'.padStart(10)}${'p99'.padStart(10)}`,
  );
  const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
  for (const r of results) {
    console.log(
      `${r.model.name.padEnd(52)}${r.rate.toFixed(1).padStart(10)}${(r === base ? 'baseline' : `×${(r.rate / base.rate).toFixed(2)}`).padStart(13)}${`${Math.round(r.soldOutMs).toLocaleString('en')} ms`.padStart(11)}${r.perOrder.toFixed(2).padStart(11)}${r.retries.toLocaleString('en').padStart(9)}${ms(r.latency.median).padStart(10)}${ms(r.latency.p99).padStart(10)}`,
    );
  }
  console.log(
    `each: ${stock} reserved, ${(orders - stock).toLocaleString('en')} out of stock, every order answered, and the stock and recorded reservations checked; sold out: time to the last reservation`,
  );
  console.log(
    `retries: ${all
      .filter((m) => m.retried)
      .map((m) => m.retried)
      .join('; ')}`,
  );
  const batchedRow = results.find((r) => r.model === models.batched);
  if (batchedRow) {
    console.log(
      `batched: ${batchedRow.transactions} transactions of ${(batchedRow.batched / batchedRow.transactions).toFixed(1)} orders on average; its out-of-stock answers take no request (hence its orders/s and p50)`,
    );
  }
  for (const line of idempotencyLines) console.log(line);
};
