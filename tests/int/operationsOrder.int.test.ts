import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StreamVersionsError } from '../../eventstore/errors.js';
import { eventSchemaRegistry } from '../../eventstore/upcasting.js';
import { simulatedPaymentGateway } from '../../adapters/simulatedPaymentGateway.js';
import { compensateOrder } from '../../ops/compensateOrder.js';
import { OrderNotFoundError, type OrderReport, orderReport } from '../../ops/orderReport.js';
import { type StageClients, stageClients } from '../../ops/stage.js';
import { type Call, checked, eventually, givenProduct, uniqueCustomer } from '../e2e/http.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { testMetadata } from '../support/metadata.js';

let testApi: TestApi;
let call: Call;
let clients: StageClients;

beforeAll(async () => {
  testApi = await startTestApi();
  call = checked(testApi.call);
  const stepFunctionsEndpoint = inject('environment').AWS_ENDPOINT_URL_SFN;
  if (!stepFunctionsEndpoint) throw new Error('the test stack runs no Step Functions stand-in');
  clients = await stageClients('test', { dynamoEndpoint: inject('dynamoEndpoint'), stepFunctionsEndpoint });
});
afterAll(() => testApi.api.close());

const sagaTasks = ['AuthorizePayment', 'ConfirmOrder'];

/** Places an order of one unit and answers its id and the request's correlation id. */
const placeOrder = async (customer: string, sku: string, token: string) => {
  const correlationId = `ops-${randomUUID()}`;
  const answer = await call('POST', '/orders', {
    as: customer,
    body: { items: [{ sku, quantity: 1 }], payment: { token } },
    headers: { 'x-correlation-id': correlationId },
  });
  expect(answer.status, answer.text).toBe(202);
  return { orderId: String(answer.json.orderId), correlationId };
};

/** The report once the order has settled everywhere: events, view and saga. */
const settledReport = (orderId: string): Promise<OrderReport> =>
  eventually(
    () => orderReport(clients, orderId),
    (report) => {
      expect(report.fromEvents.status).not.toBe('PENDING');
      expect(report.view?.version).toBe(report.fromEvents.version);
      expect(report.saga).toMatchObject({ kind: 'execution', status: 'SUCCEEDED' });
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );

/** An order rejected after its payment's events, as a give-up writes them; the payment stream as given. */
const givenRejectedOrder = (
  orderId: string,
  total: { amount: number; currency: string },
  paymentEvents: { type: string; data: Record<string, unknown> }[],
) =>
  clients.store.append(
    [
      {
        streamId: `order-${orderId}`,
        expectedVersion: 0,
        events: [
          {
            type: 'OrderPlaced',
            data: {
              orderId,
              customerId: uniqueCustomer(),
              lines: [{ sku: 'LOST-1', quantity: 1, unitPrice: total }],
              total,
              paymentToken: 'tok_visa',
            },
          },
          { type: 'OrderRejected', data: { orderId, reason: 'UNAVAILABLE' } },
        ],
      },
      { streamId: `payment-${orderId}`, expectedVersion: 0, events: paymentEvents },
    ],
    testMetadata(),
  );

describe('npm run order: where is order X', () => {
  it('shows a confirmed order’s events, read model and saga, in agreement', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const { orderId, correlationId } = await placeOrder(uniqueCustomer(), sku, 'tok_visa');

    const report = await settledReport(orderId);

    expect(report).toMatchObject({ orderId, stage: 'test', fromEvents: { status: 'CONFIRMED', version: 3 } });
    expect(report.events.map((e) => `${e.streamId} v${e.version} ${e.type}`)).toEqual([
      `order-${orderId} v1 OrderPlaced`,
      `order-${orderId} v2 StockReserved`,
      `payment-${orderId} v1 PaymentAuthorized`,
      `order-${orderId} v3 OrderConfirmed`,
    ]);
    // One conversation: every event carries the correlation id of POST /orders.
    expect(new Set(report.events.map((e) => e.correlationId))).toEqual(new Set([correlationId]));
    // The payment token never leaves the store through the report.
    expect(report.events[0]?.data.paymentToken).toBe('[redacted]');
    expect(JSON.stringify(report)).not.toContain('tok_visa');

    expect(report.view).toMatchObject({ version: 3, view: { orderId, status: 'CONFIRMED' } });

    if (report.saga.kind !== 'execution') throw new Error(`saga: ${JSON.stringify(report.saga)}`);
    expect(report.saga.executionArn).toMatch(new RegExp(`:execution:orderflow-test-order-saga:${orderId}$`));
    expect(report.saga.states.filter((state) => sagaTasks.includes(state))).toEqual(sagaTasks);
    // The local Step Functions stand-in serves GetExecutionHistory, as AWS does: every state entered, in order.
    expect(report.saga.statesFrom).toBe('history');
    expect(report.saga.states).toEqual(['AuthorizePayment', 'CheckAuthorized', 'ConfirmOrder', 'EndSaga']);
    expect(report.saga.stopDate).toBeDefined();
    // Nothing was ever parked for it.
    expect(report.compensations).toEqual([]);
  });

  it('shows a rejected order’s reason in its events and view, and the compensation in its saga', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const { orderId } = await placeOrder(uniqueCustomer(), sku, 'tok_declined');

    const report = await settledReport(orderId);

    expect(report.fromEvents.status).toBe('REJECTED');
    expect(report.events.map((e) => e.type)).toEqual([
      'OrderPlaced',
      'StockReserved',
      'PaymentDeclined',
      'OrderRejected',
    ]);
    expect(report.view?.view).toMatchObject({ status: 'REJECTED', rejectionReason: 'PAYMENT_DECLINED' });
    if (report.saga.kind !== 'execution') throw new Error(`saga: ${JSON.stringify(report.saga)}`);
    expect(report.saga.states).toEqual(expect.arrayContaining(['AuthorizePayment', 'RejectOrder']));
  });

  it('shows an order whose stream holds an event this code cannot read, and says where its fold stopped', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const { orderId } = await placeOrder(uniqueCustomer(), sku, 'tok_visa');
    await settledReport(orderId);
    // What a newer writer appends, and this code (after a rollback, say) does not know: version 4.
    await clients.store.append(
      [{ streamId: `order-${orderId}`, expectedVersion: 3, events: [{ type: 'OrderGiftWrapped', data: { orderId } }] }],
      testMetadata(),
    );

    const report = await orderReport(clients, orderId);

    expect(report.fromEvents).toEqual({
      status: 'CONFIRMED',
      version: 4,
      unreadable: { version: 4, type: 'OrderGiftWrapped', reason: expect.stringMatching(/\S/) },
    });
    expect(report.events.map((e) => e.type)).toContain('OrderGiftWrapped');
    expect(report.saga).toMatchObject({ kind: 'execution', status: 'SUCCEEDED' });
    // The live projection cannot apply it either: it parks the stream, and the report says so.
    await eventually(
      () => orderReport(clients, orderId),
      (parked) => expect(parked).toMatchObject({ viewParked: true, view: { version: 3 } }),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  });

  it('says when a settled order’s payment is still authorized with no compensation to undo it, and --compensate starts one', async () => {
    // A give-up whose parked void was lost (a stack stopped under it, or the compensation failed): the order is
    // rejected, its payment still authorized, and nothing runs to void it.
    const orderId = randomUUID();
    const total = { amount: 1000, currency: 'EUR' };
    const gateway = simulatedPaymentGateway({
      client: clients.client,
      table: process.env.PAYMENT_SIMULATOR_TABLE ?? '',
    });
    const authorized = await gateway.authorize({ idempotencyKey: orderId, token: 'tok_visa', amount: total });
    if (authorized.outcome !== 'APPROVED') throw new Error(`the simulator answered ${JSON.stringify(authorized)}`);
    await givenRejectedOrder(orderId, total, [
      { type: 'PaymentAuthorized', data: { orderId, amount: total, gatewayReference: authorized.reference } },
    ]);
    expect(await orderReport(clients, orderId)).toMatchObject({ paymentLeftAuthorized: true, compensations: [] });

    expect(await compensateOrder(clients, orderId)).toEqual({ outcome: 'STARTED' });

    // Parked as the give-up would have: the report shows it, no longer asks for one, and the payment is voided.
    expect((await orderReport(clients, orderId)).paymentLeftAuthorized).toBeUndefined();
    const report = await eventually(
      () => orderReport(clients, orderId),
      (now) => expect(now.compensations).toMatchObject([{ name: orderId, status: 'SUCCEEDED' }]),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(report.events.map((e) => e.type)).toEqual([
      'OrderPlaced',
      'OrderRejected',
      'PaymentAuthorized',
      'PaymentRefunded',
    ]);
    expect(report.paymentLeftAuthorized).toBeUndefined();
  });

  it('does not call a payment left authorized when its stream holds an event this code cannot read', async () => {
    // A rejected order whose payment a newer writer settled with an event this code does not know: the void it may
    // be. The report names the event, and does not ask for a compensation it cannot know is needed.
    const orderId = randomUUID();
    const total = { amount: 1000, currency: 'EUR' };
    await givenRejectedOrder(orderId, total, [
      { type: 'PaymentAuthorized', data: { orderId, amount: total, gatewayReference: 'ref-1' } },
      { type: 'PaymentVoidedByIssuer', data: { orderId } },
    ]);

    const report = await orderReport(clients, orderId);

    expect(report.paymentUnreadable).toEqual({
      version: 2,
      type: 'PaymentVoidedByIssuer',
      reason: expect.stringMatching(/\S/),
    });
    expect(report.paymentLeftAuthorized).toBeUndefined();
    expect(report.fromEvents).toEqual({ status: 'REJECTED', version: 2 });
  });

  it('refuses to compensate an order that is not settled, or that does not exist', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const { orderId } = await placeOrder(uniqueCustomer(), sku, 'tok_visa');
    await settledReport(orderId);
    expect(await compensateOrder(clients, orderId)).toEqual({ outcome: 'NOT_SETTLED', status: 'CONFIRMED' });
    expect(await compensateOrder(clients, randomUUID())).toEqual({ outcome: 'NO_SUCH_ORDER' });
  });

  it('says which of the saga’s consumers parked the order’s stream, on a change they could not read', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const { orderId } = await placeOrder(uniqueCustomer(), sku, 'tok_visa');
    await settledReport(orderId);
    expect((await orderReport(clients, orderId)).sagaParked).toEqual([]);
    const streamId = `order-${orderId}`;
    const consumers = ['compensateCancellation', 'startSaga'] as const;
    for (const projection of consumers) {
      await clients.parking.park({ projection, streamId, version: 1, error: 'UpcasterError: …', parkedAt: '' });
    }
    try {
      expect((await orderReport(clients, orderId)).sagaParked).toEqual(['startSaga', 'compensateCancellation']);
    } finally {
      for (const projection of consumers) await clients.parking.unpark(projection, streamId);
    }
  });

  it('shows what it could read when a source fails, and says which and why, where it answered nothing', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const { orderId } = await placeOrder(uniqueCustomer(), sku, 'tok_visa');
    await settledReport(orderId);
    // An operator's role without Step Functions: every call to it is refused.
    const denied = Object.assign(new Error('User is not authorized to perform: states:ListStateMachines'), {
      name: 'AccessDeniedException',
    });
    const withoutStepFunctions = { ...clients, sfn: { send: () => Promise.reject(denied) } } as unknown as StageClients;

    const report = await orderReport(withoutStepFunctions, orderId);

    expect(report.fromEvents.status).toBe('CONFIRMED');
    expect(report.view?.view.status).toBe('CONFIRMED');
    expect(report.saga).toEqual({ kind: 'unknown' });
    expect(report.unread).toEqual([
      { source: 'saga', error: expect.stringContaining('AccessDeniedException') },
      { source: 'parked compensations', error: expect.stringContaining('AccessDeniedException') },
    ]);
  });

  it('shows the events of a stream the store refuses to read, as the table holds them, and says why', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const { orderId } = await placeOrder(uniqueCustomer(), sku, 'tok_visa');
    await settledReport(orderId);
    // As the store answers a stream whose versions do not run on: the report reads the table's items itself.
    const broken = new StreamVersionsError(`order-${orderId}`, 3, 4);
    const refusing = {
      ...clients,
      // A shape change since the order was placed: the table's items are upcast as the store would have.
      schemas: eventSchemaRegistry({ OrderPlaced: { 1: (data) => ({ ...data, customerId: 'upcast-by-the-test' }) } }),
      store: {
        ...clients.store,
        readStream: (streamId: string, options?: Parameters<StageClients['store']['readStream']>[1]) =>
          streamId === `order-${orderId}` ? Promise.reject(broken) : clients.store.readStream(streamId, options),
      },
    } as StageClients;

    const report = await orderReport(refusing, orderId);

    expect(report.events.filter((e) => e.streamId === `order-${orderId}`).map((e) => e.version)).toEqual([1, 2, 3]);
    expect(report.events.find((e) => e.type === 'OrderPlaced')?.data).toMatchObject({
      customerId: 'upcast-by-the-test',
    });
    expect(report.fromEvents).toMatchObject({ status: 'CONFIRMED', version: 3 });
    expect(report.unread).toEqual([
      {
        source: `order-${orderId}'s events (as the store reads them)`,
        error: expect.stringContaining('StreamVersionsError'),
      },
    ]);
    // An upcaster that throws in the store's read: the report still shows the order, read as stored.
    const upcasterBroken = {
      ...refusing,
      store: {
        ...clients.store,
        readStream: (streamId: string, options?: Parameters<StageClients['store']['readStream']>[1]) =>
          streamId === `order-${orderId}`
            ? Promise.reject(new TypeError('the upcaster cannot read this OrderPlaced'))
            : clients.store.readStream(streamId, options),
      },
    } as StageClients;
    const despite = await orderReport(upcasterBroken, orderId);
    expect(despite.fromEvents).toMatchObject({ status: 'CONFIRMED', version: 3 });
    expect(despite.unread).toEqual([
      { source: `order-${orderId}'s events (as the store reads them)`, error: expect.stringContaining('TypeError') },
    ]);
    // A step missing from the chain (version 1 to 2 unknown): the events are shown as stored, not lost.
    const gap = await orderReport(
      { ...refusing, schemas: eventSchemaRegistry({ OrderPlaced: { 2: (data) => data } }) },
      orderId,
    );
    expect(gap.events.filter((e) => e.streamId === `order-${orderId}`).map((e) => e.version)).toEqual([1, 2, 3]);
    expect(gap.events.find((e) => e.type === 'OrderPlaced')?.data).toMatchObject({
      customerId: expect.not.stringContaining('upcast'),
    });
  });

  it('says plainly that an unknown order does not exist', async () => {
    await expect(orderReport(clients, randomUUID())).rejects.toBeInstanceOf(OrderNotFoundError);
  });
});
