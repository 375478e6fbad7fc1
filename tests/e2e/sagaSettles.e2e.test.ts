import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedPaymentGateway } from '../../adapters/simulatedPaymentGateway.js';
import { orderAggregate } from '../../application/aggregates.js';
import { type CommandContext, load } from '../../application/handleCommand.js';
import { orderIdForKey, placeOrder } from '../../application/orders.js';
import { readStock, registerProduct } from '../../application/products.js';
import { orderStreamId, type OrderState } from '../../domain/order/index.js';
import { documentClient } from '../../eventstore/dynamoClient.js';
import { dynamoEventStore } from '../../eventstore/dynamoEventStore.js';
import { eventSchemas } from '../../composition/schemas.js';
import type { EventStore } from '../../eventstore/types.js';
import { localClientConfig } from '../../local/dynamoLocal.js';
import { environmentVariable } from '../../local/environment.js';
import { failPermanently, InjectedFaultError } from '../../local/faults.js';
import { addInvocationHook, functionHandlers, invoke } from '../../local/lambda.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { checkInvariants, invariantTables } from '../../ops/invariants.js';
import { eventually } from '../support/eventually.js';
import { testMetadata } from '../support/stack.js';
import { keepEnvironment } from '../support/environment.js';
import { simulatorItem as readSimulatorItem } from '../support/simulator.js';

/*
 * Every order settles, whatever fails: a stack of its own (the faults below must not reach the shared one), where a
 * saga step fails for good, or a saga is stopped half way, and the order still ends CONFIRMED or REJECTED with
 * nothing held for it. The failures are the local stack's own invocation hooks (local/faults.ts), not mocks.
 */
const restoreEnvironment = keepEnvironment();
let stack: LocalStack;
let client: DynamoDBDocumentClient;
let store: EventStore;
let sfn: SFNClient;

// Read when called: the stack starts in beforeAll.
const table = (variable: string): string => environmentVariable(stack.environment)(variable);

beforeAll(async () => {
  stack = await startLocalStack({ stage: 'test' });
  client = documentClient({ endpoint: stack.dynamo.endpoint, ...localClientConfig });
  store = dynamoEventStore({
    client,
    eventsTable: table('EVENTS_TABLE'),
    snapshotsTable: table('SNAPSHOTS_TABLE'),
    schemas: eventSchemas,
  });
  sfn = new SFNClient({ endpoint: stack.stepFunctions.endpoint, ...localClientConfig });
}, 120_000);

afterAll(async () => {
  sfn?.destroy();
  client?.destroy();
  await stack?.stop();
  restoreEnvironment();
});

/** Reads until the expectation holds (a read that throws is tried again too), then answers the last read. */
const waitFor = <T>(
  read: () => Promise<T>,
  expectation: (value: T) => void,
  options: { timeoutMs?: number; intervalMs?: number },
): Promise<T> =>
  eventually(async () => {
    const value = await read();
    expectation(value);
    return value;
  }, options);

const context = (): CommandContext => ({ store, metadata: testMetadata({ actor: 'saga-settles-e2e' }) });
const price = { amount: 1000, currency: 'EUR' };

const givenProduct = async (stock: number): Promise<string> => {
  const sku = `SKU-${randomUUID().slice(0, 8).toUpperCase()}`;
  await registerProduct({ sku, name: 'Settling mug', price, stock }, context());
  return sku;
};

/** An order to place, whose id is known before it is placed (it is derived from the idempotency key). */
const nextOrder = () => {
  const customerId = `customer-${randomUUID()}`;
  const idempotencyKey = randomUUID();
  const orderId = orderIdForKey(customerId, idempotencyKey);
  return {
    orderId,
    place: async (sku: string, quantity = 2) => {
      const placed = await placeOrder(
        { customerId, idempotencyKey, items: [{ sku, quantity }], paymentToken: 'tok_visa' },
        context(),
      );
      expect(placed.orderId).toBe(orderId);
    },
  };
};

const orderOf = async (orderId: string): Promise<OrderState> =>
  (await load(store, orderAggregate, orderStreamId(orderId))).state;

const stockOf = async (sku: string) => (await readStock(store, sku, { consistent: true })).stock;

const eventTypes = async (streamId: string): Promise<string[]> =>
  (await store.readStream(streamId)).map((event) => event.type);

const simulatorItem = (orderId: string) => readSimulatorItem(client, table('PAYMENT_SIMULATOR_TABLE'), orderId);

const settled = (orderId: string, timeoutMs = 90_000): Promise<OrderState> =>
  waitFor(
    () => orderOf(orderId),
    (state) => expect(state.status).not.toBe('PENDING'),
    { timeoutMs, intervalMs: 250 },
  );

const executionArn = (orderId: string) =>
  `${table('ORDER_SAGA_ARN').replace(':stateMachine:', ':execution:')}:${orderId}`;

/**
 * The order's execution as Step Functions describes it, once it has ended: the order settles in AbandonOrder's
 * write, a moment before the execution itself ends.
 */
const execution = (orderId: string) =>
  waitFor(
    () => sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(orderId) })),
    (described) => expect(described.status ?? 'RUNNING').not.toBe('RUNNING'),
    { timeoutMs: 30_000, intervalMs: 100 },
  );

/**
 * Holds `functionName`'s invocations for `orderId` before their handler runs, until let through (or failed), as a
 * Lambda that has not answered yet.
 */
const hold = (functionName: string, orderId: string) => {
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  let release!: (fail: boolean) => void;
  const released = new Promise<boolean>((resolve) => (release = resolve));
  let invocations = 0;
  const remove = addInvocationHook({
    async before(name, event) {
      if (name !== functionName || (event as { orderId?: string }).orderId !== orderId) return;
      invocations += 1;
      arrived();
      if (await released) throw new InjectedFaultError('Lambda.ServiceException', name);
    },
  });
  return { reached, pass: () => release(false), fail: () => release(true), remove, invocations: () => invocations };
};

const sweep = async (pendingAfterSeconds = 0) =>
  (await invoke(stack.config, 'sweepPendingOrders', await functionHandlers(stack.config)('sweepPendingOrders'), {
    pendingAfterSeconds,
  })) as {
    found: number;
    cutShort: boolean;
    counts: Record<string, number>;
    orders: { orderId: string; action: string }[];
  };

describe('every order settles when a saga step fails for good', () => {
  it('gives up the order, undoing what the failed step committed, unless that step confirmed it', async () => {
    const cases = [
      // [the step that fails, when, how the order must end, the stock after 2 of 10 units were asked for]
      { step: 'authorizePayment', when: 'before', status: 'REJECTED', stock: { available: 10, reserved: 0, sold: 0 } },
      { step: 'authorizePayment', when: 'after', status: 'REJECTED', stock: { available: 10, reserved: 0, sold: 0 } },
      { step: 'confirmOrder', when: 'before', status: 'REJECTED', stock: { available: 10, reserved: 0, sold: 0 } },
      // ConfirmOrder committed before it failed: the catch-all finds it CONFIRMED and leaves it, stock and payment.
      { step: 'confirmOrder', when: 'after', status: 'CONFIRMED', stock: { available: 8, reserved: 0, sold: 2 } },
    ] as const;
    const orders = await Promise.all(
      cases.map(async (failure) => {
        const sku = await givenProduct(10);
        const order = nextOrder();
        const heal = failPermanently(failure.step, [order.orderId], failure.when);
        await order.place(sku);
        return { ...failure, sku, orderId: order.orderId, heal };
      }),
    );
    try {
      for (const order of orders) {
        const state = await settled(order.orderId);
        const label = `${order.step} failing ${order.when}`;
        expect(state.status, label).toBe(order.status);
        if (state.status === 'REJECTED') expect(state.rejectionReason, label).toBe('UNAVAILABLE');
        expect(await stockOf(order.sku), label).toEqual(order.stock);
        // The catch-all ended the execution normally: nothing to redrive. It rejects the order first and then voids
        // its payment, so the payment is judged once the execution has ended.
        expect((await execution(order.orderId)).status, label).toBe('SUCCEEDED');
        const payment = await eventTypes(`payment-${order.orderId}`);
        const item = await simulatorItem(order.orderId);
        if (order.status === 'CONFIRMED') {
          expect(payment, label).toEqual(['PaymentAuthorized']);
          expect(item, label).toMatchObject({ charges: 1, refunds: 0 });
        } else if (order.step === 'authorizePayment' && order.when === 'before') {
          // Never got to the payment: the void finds nothing, and bars the key.
          expect(payment, label).toEqual([]);
          expect(item, label).toMatchObject({ charges: 0, voided: true });
        } else {
          expect(payment, label).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
          expect(item, label).toMatchObject({ charges: 1, refunds: 1, refunded: true });
        }
      }
      // What each catch-all gave back: the units placement reserved, of an order whose confirmation never ran (with its
      // rejection), none of a confirmed one.
      const eventsOf = async (step: string, when: string) => {
        const order = orders.find((o) => o.step === step && o.when === when);
        return eventTypes(`order-${order?.orderId ?? ''}`);
      };
      expect(await eventsOf('confirmOrder', 'before')).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
      expect(await eventsOf('confirmOrder', 'after')).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    } finally {
      for (const order of orders) order.heal();
    }
  }, 180_000);
});

describe('the sweeper', () => {
  it('settles orders left PENDING without a running saga in one sweep, leaves running ones, and the next sweep does nothing', async () => {
    const sku = await givenProduct(10);
    const gateway = simulatedPaymentGateway({ client, table: table('PAYMENT_SIMULATOR_TABLE') });
    // Reserved and authorized, then its execution stopped while ConfirmOrder had not answered.
    const reserved = nextOrder();
    // Its execution stopped at AuthorizePayment; meanwhile the gateway approved a payment whose answer was lost.
    const lost = nextOrder();
    // Still running: held at ConfirmOrder while the sweep runs.
    const running = nextOrder();
    const holds = {
      reserved: hold('confirmOrder', reserved.orderId),
      lost: hold('authorizePayment', lost.orderId),
      running: hold('confirmOrder', running.orderId),
    };
    try {
      for (const order of [reserved, lost, running]) await order.place(sku);
      await Promise.all(Object.values(holds).map((held) => held.reached));
      expect(
        await gateway.authorize({
          idempotencyKey: lost.orderId,
          token: 'tok_visa',
          amount: { amount: 2 * price.amount, currency: price.currency },
        }),
      ).toMatchObject({ outcome: 'APPROVED' });
      for (const order of [reserved, lost]) {
        await sfn.send(new StopExecutionCommand({ executionArn: executionArn(order.orderId), cause: 'e2e' }));
        expect((await execution(order.orderId)).status).toBe('ABORTED');
      }
      holds.reserved.fail();
      holds.lost.fail();
      // A stopped execution invokes nothing more: the failed Task is not retried, though its Retry would match.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect([holds.reserved.invocations(), holds.lost.invocations()]).toEqual([1, 1]);
      // Placement reserved each order's units: held for the two stopped and the running one.
      expect(await stockOf(sku)).toEqual({ available: 4, reserved: 6, sold: 0 });
      // The sweeper reads the orders read model's pending index: wait for the projection.
      const readModel = (orderId: string) =>
        client.send(new GetCommand({ TableName: table('ORDERS_TABLE'), Key: { orderId }, ConsistentRead: true }));
      for (const order of [reserved, lost, running]) {
        await waitFor(
          () => readModel(order.orderId),
          ({ Item }) => expect(Item).toMatchObject({ status: 'PENDING', pendingSince: expect.any(String) }),
          { timeoutMs: 30_000, intervalMs: 100 },
        );
      }

      const first = await sweep();
      const actionOf = (report: typeof first, orderId: string) =>
        report.orders.find((o) => o.orderId === orderId)?.action;
      expect(actionOf(first, reserved.orderId)).toBe('ABANDONED');
      expect(actionOf(first, lost.orderId)).toBe('ABANDONED');
      expect(actionOf(first, running.orderId)).toBe('LEFT_RUNNING');
      expect(first.counts.FAILED).toBeUndefined();
      holds.running.pass();

      for (const order of [reserved, lost]) {
        const state = await orderOf(order.orderId);
        expect(state).toMatchObject({ status: 'REJECTED', rejectionReason: 'UNAVAILABLE' });
        expect(await eventTypes(`payment-${order.orderId}`)).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
        expect(await simulatorItem(order.orderId)).toMatchObject({ charges: 1, refunds: 1, refunded: true });
      }
      expect(await settled(running.orderId)).toMatchObject({ status: 'CONFIRMED' });
      expect(await stockOf(sku)).toEqual({ available: 8, reserved: 0, sold: 2 });

      // Settled orders leave the pending index; a second sweep finds nothing of theirs and appends nothing.
      for (const order of [reserved, lost, running]) {
        await waitFor(
          () => readModel(order.orderId),
          ({ Item }) => expect(Item?.pendingSince).toBeUndefined(),
          { timeoutMs: 30_000, intervalMs: 100 },
        );
      }
      const before = await Promise.all([reserved, lost].map((o) => eventTypes(orderStreamId(o.orderId))));
      const second = await sweep();
      expect(second.orders.filter((o) => o.action !== 'LEFT_RUNNING')).toEqual([]);
      expect(await Promise.all([reserved, lost].map((o) => eventTypes(orderStreamId(o.orderId))))).toEqual(before);
    } finally {
      for (const held of Object.values(holds)) {
        held.fail();
        held.remove();
      }
    }
  }, 180_000);
});

describe('a backlog of orders left PENDING', () => {
  it('is settled in one sweep past the 200 a sweep once took, and sagas started late change nothing', async () => {
    const sku = await givenProduct(500);
    // No saga starts while the saga starter waits here, as while Step Functions is out.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const remove = addInvocationHook({
      async before(name) {
        if (name === 'startSaga') await released;
      },
    });
    const orders = Array.from({ length: 250 }, () => nextOrder());
    try {
      for (let i = 0; i < orders.length; i += 10) {
        await Promise.all(orders.slice(i, i + 10).map((order) => order.place(sku, 1)));
      }
      expect(await stockOf(sku)).toEqual({ available: 250, reserved: 250, sold: 0 });
      // The sweeper reads the orders read model's pending index: wait for the projection.
      await waitFor(
        () =>
          Promise.all(
            orders.map(({ orderId }) =>
              client.send(new GetCommand({ TableName: table('ORDERS_TABLE'), Key: { orderId }, ConsistentRead: true })),
            ),
          ),
        (read) => expect(read.filter(({ Item }) => Item?.pendingSince !== undefined)).toHaveLength(orders.length),
        { timeoutMs: 60_000, intervalMs: 500 },
      );

      const report = await sweep();
      const ours = new Set(orders.map(({ orderId }) => orderId));
      // Oldest first by placement time, which ten placed at once share to the millisecond: compared as sets.
      const swept = report.orders.filter(({ orderId }) => ours.has(orderId));
      expect(swept.map(({ orderId }) => orderId).sort()).toEqual([...ours].sort());
      expect(swept.every(({ action }) => action === 'ABANDONED')).toBe(true);
      expect(report.cutShort).toBe(false);
      expect(await stockOf(sku)).toEqual({ available: 500, reserved: 0, sold: 0 });
    } finally {
      release();
      remove();
    }
    // Each saga now starts for an order already given up: it finds the order settled, and the stock stays whole.
    for (const { orderId } of orders) await execution(orderId);
    for (const { orderId } of orders.slice(0, 10)) {
      expect(await orderOf(orderId)).toMatchObject({ status: 'REJECTED', rejectionReason: 'UNAVAILABLE' });
    }
    expect(await stockOf(sku)).toEqual({ available: 500, reserved: 0, sold: 0 });
  }, 240_000);
});

describe('after all of it', () => {
  it('keeps every invariant of the store: nothing held or charged for an order that is not CONFIRMED', async () => {
    const tables = invariantTables(client, table);
    await waitFor(
      () => checkInvariants(tables),
      (results) => expect(results.map((r) => [r.name, r.violations])).toEqual(results.map((r) => [r.name, []])),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }, 60_000);
});
