import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tapLogs } from '../../functions/observability/logger.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { type Call, checked, eventually, givenProduct, storedEvents, uniqueCustomer } from './http.js';

type Line = Record<string, unknown>;

let testApi: TestApi;
let call: Call;
/** What the HTTP handlers write: they run in this process, the saga and the stream consumers in the global setup's. */
const apiLines: string[] = [];
/** The local gateway's access log, in the format serverless.yml deploys. */
const accessLines: string[] = [];
let untap: () => void;

beforeAll(async () => {
  untap = tapLogs((line) => apiLines.push(line), 'debug');
  testApi = await startTestApi({ accessLog: (line) => accessLines.push(line) });
  call = checked(testApi.call);
});
afterAll(async () => {
  untap();
  await testApi.api.close();
});

/**
 * The raw lines the global setup's handlers have written since byte `from` of the file: the local stand-in for
 * their CloudWatch Logs. Read from the offset, since the file holds the whole run's lines.
 */
const functionLogText = async (from = 0): Promise<string[]> => {
  const file = await open(inject('functionLogFile'));
  try {
    // From the byte before `from`, so a line cut at `from` can be told and left out.
    const start = Math.max(0, from - 1);
    const { size } = await file.stat();
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await file.read(buffer, 0, buffer.length, start);
    let text = buffer.toString('utf8');
    if (from > 0) text = text.slice(text.indexOf('\n') + 1);
    // The writer may be midway through the last line.
    return text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter(Boolean);
  } finally {
    await file.close();
  }
};
const functionLogSize = async (): Promise<number> => (await stat(inject('functionLogFile'))).size;
const parse = (lines: string[]): Line[] => lines.map((line) => JSON.parse(line) as Line);
const isMetrics = (line: Line): boolean => '_aws' in line;

const placeOrder = async (customer: string, sku: string, token: string) => {
  const answer = await call('POST', '/orders', {
    as: customer,
    body: { items: [{ sku, quantity: 2 }], payment: { token } },
  });
  expect(answer.status, answer.text).toBe(202);
  const { orderId } = answer.json;
  const correlationId = answer.headers.get('x-correlation-id');
  if (typeof orderId !== 'string' || !correlationId) throw new Error(`no order id or correlation id: ${answer.text}`);
  return { orderId, correlationId };
};

const eventTypes = async (streamId: string): Promise<unknown[]> =>
  (await storedEvents(streamId)).map((event) => event.type);

describe('telemetry follows one order', () => {
  it('by its correlation id: API answer → events → saga step logs → projection logs, with no payment token', async () => {
    const logStart = await functionLogSize();
    const sku = await givenProduct(call, { stock: 10 });
    const customer = uniqueCustomer();
    const apiLinesBefore = apiLines.length;

    const { orderId, correlationId } = await placeOrder(customer, sku, 'tok_visa');
    // A second order, with a token no other test uses: the gateway declines it, after it went through every step.
    const secretToken = `tok_e2e_${randomUUID().replaceAll('-', '')}`;
    const declined = await placeOrder(customer, sku, secretToken);

    // The events: every one about the order carries the answer's correlation id.
    await eventually(
      () => eventTypes(`order-${orderId}`),
      (types) => expect(types).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    await eventually(
      () => eventTypes(`order-${declined.orderId}`),
      (types) => expect(types).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    const orderEvents = [...(await storedEvents(`order-${orderId}`)), ...(await storedEvents(`payment-${orderId}`))];
    expect(orderEvents.map((event) => event.type)).toEqual(
      expect.arrayContaining(['OrderPlaced', 'StockReserved', 'OrderConfirmed', 'PaymentAuthorized']),
    );
    for (const event of orderEvents) {
      expect((event.metadata as { correlationId?: unknown }).correlationId, String(event.type)).toBe(correlationId);
    }

    // The function logs: the saga's steps and the orders projection (the products projection reads product streams,
    // which no order writes), waited for since the projections trail the events.
    const ofOrder = (lines: Line[], id: string) => lines.filter((line) => !isMetrics(line) && line.orderId === id);
    const sagaSteps = ['AuthorizePayment', 'ConfirmOrder'];
    const logs = await eventually(
      async () => parse(await functionLogText(logStart)),
      (lines) => {
        const mine = ofOrder(lines, orderId);
        const finished = mine.filter((line) => line.message === 'saga step finished').map((line) => line.step);
        expect(finished).toEqual(expect.arrayContaining(sagaSteps));
        const projected = mine.filter((line) => line.message === 'event projected');
        expect(projected.map((line) => `${line.projection}:${line.type}`)).toEqual(
          expect.arrayContaining(['orders:OrderPlaced', 'orders:OrderConfirmed']),
        );
        const rejected = ofOrder(lines, declined.orderId).filter((line) => line.step === 'RejectOrder');
        expect(rejected.map((line) => line.message)).toContain('saga step finished');
        // The product's registration, projected by the products projection once its batching window closed.
        expect(lines.some((line) => line.projection === 'products' && line.sku === sku)).toBe(true);
        // Each projection's metrics, which its invocation flushes after its last log line.
        for (const projection of ['orders', 'products']) {
          expect(
            lines.some((doc) => isMetrics(doc) && doc.ProjectionLag !== undefined && doc.projection === projection),
          ).toBe(true);
        }
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );

    const mine = ofOrder(logs, orderId);
    for (const line of mine) {
      // Every line about the order names its level, function, stage and the request's correlation id.
      expect(line, JSON.stringify(line)).toMatchObject({
        level: expect.stringMatching(/^(debug|info|warn|error)$/),
        function: expect.stringMatching(/^orderflow-test-/),
        stage: 'test',
        correlationId,
      });
    }
    const sagaLines = mine.filter((line) => typeof line.step === 'string');
    expect(sagaLines.length).toBeGreaterThanOrEqual(sagaSteps.length * 2);
    // Steps run as executions named by the order id.
    for (const line of sagaLines) expect(line.execution).toBe(orderId);
    expect(mine.find((line) => line.message === 'order saga started')).toMatchObject({
      function: 'orderflow-test-startSaga',
      execution: orderId,
    });
    const confirmed = mine.find((line) => line.step === 'ConfirmOrder' && line.message === 'saga step finished');
    expect(confirmed).toMatchObject({
      settled: 'CONFIRMED',
      function: 'orderflow-test-confirmOrder',
      durationMs: expect.any(Number),
    });
    for (const line of mine.filter((line) => line.message === 'event projected')) {
      expect(line).toMatchObject({ lagMs: expect.any(Number), version: expect.any(Number) });
      expect(line.function).toBe(`orderflow-test-${String(line.projection)}Projection`);
    }

    // The API's own lines (this process): the answer's correlation id, and the order it placed.
    const api = parse(apiLines.slice(apiLinesBefore));
    expect(
      api.find((line) => line.message === 'request answered' && line.orderId === orderId && line.status === 202),
    ).toMatchObject({ function: 'orderflow-test-placeOrder', stage: 'test', correlationId, method: 'POST' });

    // Metrics went out as embedded-metric-format documents, with the stage dimension.
    const documents = [...logs, ...api].filter(isMetrics);
    const metricNames = documents.flatMap((doc) =>
      (doc._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics.flatMap((group) =>
        group.Metrics.map((metric) => metric.Name),
      ),
    );
    expect(metricNames).toEqual(
      expect.arrayContaining(['OrdersPlaced', 'OrdersConfirmed', 'OrdersRejected', 'SagaDuration', 'ProjectionLag']),
    );
    expect(documents.every((doc) => doc.stage === 'test')).toBe(true);
    expect(documents.some((doc) => doc.OrdersRejected !== undefined && doc.reason === 'PAYMENT_DECLINED')).toBe(true);
    expect(documents.some((doc) => doc.SagaDuration !== undefined && doc.outcome === 'CONFIRMED')).toBe(true);
    for (const projection of ['orders', 'products']) {
      expect(documents.some((doc) => doc.ProjectionLag !== undefined && doc.projection === projection)).toBe(true);
    }

    // The payment token went through the API, the events, the saga and the gateway, and never into a log line.
    const everyLine = [...(await functionLogText()), ...apiLines];
    expect(everyLine.filter((line) => line.includes(secretToken))).toEqual([]);
    expect(ofOrder(parse(everyLine), declined.orderId).length).toBeGreaterThan(0);
    expect((await storedEvents(`order-${declined.orderId}`))[0]?.data).toMatchObject({ paymentToken: secretToken });
    for (const line of [...mine, ...api]) expect(JSON.stringify(line)).not.toContain('tok_visa');
  });

  it('the API’s access log has a line for every request, the refused ones too, joined to the function’s by requestId', async () => {
    const before = accessLines.length;
    const apiLinesBefore = apiLines.length;
    const customer = uniqueCustomer();
    const listed = await call('GET', '/orders', { as: customer });
    expect(listed.status).toBe(200);
    const refused = await testApi.call('GET', '/orders', { as: null });
    expect(refused.status).toBe(401);
    const forged = await testApi.call('GET', '/orders', { as: null, headers: { authorization: 'Bearer not-a-jwt' } });
    expect(forged.status).toBe(401);
    const customerOnAdminRoute = await testApi.call('POST', '/products', { as: customer, body: {} });
    expect(customerOnAdminRoute.status).toBe(403);

    const [answered, unauthorized, unverified, forbidden] = parse(accessLines.slice(before));
    // Every $context variable of serverless.yml's format is rendered: none is left in the line.
    expect(accessLines.slice(before).join('\n')).not.toContain('$context');
    expect(answered).toMatchObject({
      method: 'GET',
      path: '/orders',
      routeKey: 'GET /orders',
      status: '200',
      integrationStatus: '200',
      error: '-',
      authorizerError: '-',
      caller: customer,
    });
    expect(Number(answered?.responseLength)).toBe(Buffer.byteLength(listed.text));
    expect(Number(answered?.latencyMs)).toBeGreaterThanOrEqual(Number(answered?.integrationLatencyMs));
    // No function saw the refused request: the access log is the only line that tells of it.
    expect(unauthorized).toMatchObject({
      routeKey: 'GET /orders',
      status: '401',
      integrationStatus: '-',
      error: 'Unauthorized',
      authorizerError: 'No bearer token was sent.',
      caller: '-',
    });
    // Why, as jose says it: `not-a-jwt` is no compact JWS at all.
    expect(unverified).toMatchObject({ status: '401', authorizerError: 'The token was refused: Invalid Compact JWS.' });
    expect(forbidden).toMatchObject({
      routeKey: 'POST /products',
      status: '403',
      error: 'Forbidden',
      integrationStatus: '-',
      caller: customer,
    });
    expect(Math.abs(Number(answered?.timeEpoch) - Date.now())).toBeLessThan(60_000);
    expect(answered?.ip).toMatch(/127\.0\.0\.1/);
    const functionLines = parse(apiLines.slice(apiLinesBefore)).filter((line) => line.message === 'request answered');
    expect(functionLines.map((line) => line.requestId)).toEqual([answered?.requestId]);
  });
});
