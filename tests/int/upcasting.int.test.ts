import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, type StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamEvent, KinesisStreamHandler, KinesisStreamRecord } from 'aws-lambda';
import { changeRecord } from '../support/lambdaEvents.js';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { composeStage, type Stage } from '../../composition/root.js';
import { eventSchemas } from '../../composition/schemas.js';
import { StageEnvironment } from '../../composition/settings.js';
import { orderStreamId } from '../../domain/order/index.js';
import { documentClient } from '../../eventstore/dynamoClient.js';
import type { StoredEvent } from '../../eventstore/types.js';
import { createTables, localClientConfig } from '../../local/dynamoLocal.js';
import { stackEnvironment } from '../../local/environment.js';
import { loadServerlessConfig, tableResources } from '../../local/serverlessConfig.js';
import { checkInvariants, invariantTables } from '../../ops/invariants.js';
import { ordersProjection } from '../../projections/orders.js';
import { redrive } from '../../projections/runner.js';
import { redriveSagas } from '../../ops/redriveSagas.js';
import { replaySegment, replayTarget } from '../../projections/replay/segments.js';
import { readRangeOf } from '../../projections/projection.js';
import { keepEnvironment } from '../support/environment.js';

/**
 * An upcaster registered the way a developer registers one: in domain/upcasters.ts. OrderPlaced v1 named the customer
 * `customer`; v2 (today's strict schema) names it `customerId`. Every reader below meets a v1 item and must see v2.
 */
const upcaster = vi.hoisted(() => ({ broken: false, paymentBroken: false }));
vi.mock('../../domain/upcasters.js', () => ({
  upcasters: {
    OrderPlaced: {
      // While `broken`, it throws, as an upcaster with a bug would on the old events it meets.
      1: ({ customer, ...rest }: Record<string, unknown>) => {
        if (upcaster.broken) throw new TypeError('the upcaster cannot read this OrderPlaced');
        return { ...rest, customerId: customer };
      },
    },
    // Changes nothing, and throws while `paymentBroken`: a payment's events are read by a cancellation's compensation.
    PaymentAuthorized: {
      1: (data: Record<string, unknown>) => {
        if (upcaster.paymentBroken) throw new TypeError('the upcaster cannot read this PaymentAuthorized');
        return data;
      },
    },
  },
}));

/**
 * Tables of this file's own (the test stage's, renamed): no change relay or live consumer reads them, so the v1 item
 * below reaches only the readers this file calls, and the invariants scan this file's events alone.
 */
const suffix = `-upcast-${randomUUID().slice(0, 8)}`;
const created: string[] = [];
const client = documentClient({ endpoint: inject('dynamoEndpoint'), ...localClientConfig });
let restore: () => void;
let environment: Record<string, string>;
let stage: Stage;

const orderId = randomUUID();
const streamId = orderStreamId(orderId);
/** OrderPlaced as a writer of schema version 1 stored it: `customer`, not `customerId`. */
const storedV1 = {
  streamId,
  version: 1,
  eventId: randomUUID(),
  type: 'OrderPlaced',
  data: {
    orderId,
    customer: 'customer-v1',
    lines: [{ sku: 'UPCAST-1', quantity: 2, unitPrice: { amount: 250, currency: 'EUR' } }],
    total: { amount: 500, currency: 'EUR' },
    paymentToken: 'tok_visa',
  },
  schemaVersion: 1,
  recordedAt: '2026-11-29T10:00:00.000Z',
  metadata: { correlationId: `c-${orderId}`, causationId: 'cause', commandId: 'command', actor: 'test' },
} satisfies StoredEvent;
/** The same event as every reader must hand it on: today's shape and version. */
const { customer: _, ...unchanged } = storedV1.data;
const upcastData = { ...unchanged, customerId: 'customer-v1' };

/** The v1 item's INSERT as Kinesis Data Streams for DynamoDB carries it to the stream consumers. */
const batch = (): KinesisStreamEvent => ({ Records: [changeRecord('1', storedV1)] });
const lambdaContext = (functionName: string) => ({ functionName }) as Context;
/** Runs a Kinesis consumer as Lambda does; these answer a partial batch response. */
const invoke = async (handler: KinesisStreamHandler, functionName: string): Promise<unknown> =>
  (handler as (event: KinesisStreamEvent, context: Context) => Promise<unknown>)(batch(), lambdaContext(functionName));

beforeAll(async () => {
  restore = keepEnvironment();
  const config = await loadServerlessConfig('test');
  const resources = Object.fromEntries(
    tableResources(config).map(([logicalId, properties]) => {
      const TableName = `${String(properties.TableName)}${suffix}`;
      created.push(TableName);
      return [logicalId, { Type: 'AWS::DynamoDB::Table', Properties: { ...properties, TableName } }];
    }),
  );
  await createTables({ ...config, resources: { Resources: resources } }, inject('dynamoEndpoint'));
  // The handlers' environment as the local stack gives it, on this file's tables; read once, at their first call.
  const stack = stackEnvironment(config, { dynamodb: inject('dynamoEndpoint') });
  environment = {
    ...stack,
    ...Object.fromEntries(
      Object.entries(stack)
        .filter(([name]) => name.endsWith('_TABLE'))
        .map(([name, value]) => [name, `${value}${suffix}`]),
    ),
    LOG_LEVEL: 'silent',
    READ_MODEL_CACHE_MS: '0',
  };
  Object.assign(process.env, environment);
  stage = composeStage({ client, environment: StageEnvironment.parse(environment) });
  // Written straight into the table: an append today would be written at version 2.
  await client.send(new PutCommand({ TableName: environment.EVENTS_TABLE, Item: storedV1 }));
});

afterAll(async () => {
  for (const TableName of created) await client.send(new DeleteTableCommand({ TableName }));
  client.destroy();
  restore();
  vi.restoreAllMocks();
});

// One stored item, read by each reader in turn. The invariants compare the orders view the projection wrote with a
// fresh fold, so they run after it (tests in a file run in order).
describe('one upcaster, registered in domain/upcasters.ts, changes what every reader sees', () => {
  it('is in the one registry: OrderPlaced is now written at version 2', () => {
    expect(eventSchemas.currentVersion('OrderPlaced')).toBe(2);
    expect(stage.schemas).toBe(eventSchemas);
  });

  it('the store reads the v1 item as v2', async () => {
    const [event, ...more] = await stage.store.readStream(streamId);
    expect(more).toEqual([]);
    expect(event).toEqual({ ...storedV1, data: upcastData, schemaVersion: 2 });
  });

  it('the orders projection consumer projects the v1 change record as v2', async () => {
    const { handler } = await import('../../functions/streams/ordersProjection.js');
    expect(await invoke(handler, 'orderflow-test-ordersProjection')).toEqual({ batchItemFailures: [] });
    // Read as v1, the strict OrderPlaced schema would refuse it and the stream would be parked with no view.
    expect(await stage.parking.list('orders')).toEqual([]);
    const stored = await stage.viewStore('orders', 'blue').get({ orderId });
    expect(stored).toMatchObject({ view: { orderId, customerId: 'customer-v1', status: 'PENDING' }, version: 1 });
    expect(stored?.view).not.toHaveProperty('customer');
  });

  it('the saga starter starts the saga with the v2 OrderPlaced as its input, from the batch or from the store', async () => {
    const inputs: unknown[] = [];
    vi.spyOn(SFNClient.prototype, 'send').mockImplementation((command: unknown) => {
      inputs.push(JSON.parse((command as StartExecutionCommand).input.input ?? 'null'));
      return Promise.resolve({ executionArn: `arn:execution:${orderId}` });
    });
    const { handler } = await import('../../functions/streams/startSaga.js');
    const reserved = {
      ...storedV1,
      version: 2,
      eventId: randomUUID(),
      type: 'StockReserved',
      data: { orderId, lines: [{ sku: 'UPCAST-1', quantity: 2 }] },
    };
    const start = (...records: KinesisStreamRecord[]) =>
      (handler as (event: KinesisStreamEvent, context: Context) => Promise<unknown>)(
        { Records: records },
        lambdaContext('orderflow-test-startSaga'),
      );
    // Its OrderPlaced in the same batch, as a v1 change record; then without it, read from the store.
    expect(await start(changeRecord('1', storedV1), changeRecord('2', reserved))).toEqual({ batchItemFailures: [] });
    expect(await start(changeRecord('2', reserved))).toEqual({ batchItemFailures: [] });
    // As upcast, less the payment token the saga never carries (ADR 0018).
    const { paymentToken: _, ...placed } = upcastData;
    const input = { orderId, correlationId: `c-${orderId}`, placed, placedAt: storedV1.recordedAt };
    expect(inputs).toEqual([input, input]);
  });

  it('replay scans the v1 item as v2 and folds it into the view', async () => {
    const page = await stage.events.page({ segment: 0, totalSegments: 1, limit: 100, consistent: true });
    expect(page.events).toEqual([{ ...storedV1, data: upcastData, schemaVersion: 2 }]);

    const progress = await replaySegment({
      events: stage.events,
      segment: 0,
      totalSegments: 1,
      targets: [replayTarget(ordersProjection, stage.viewStore('orders', 'green'), 'orders@green')],
      readRange: readRangeOf(stage.store),
      parking: stage.parking,
      checkpoints: stage.checkpoints(`upcast-${orderId}`),
    });
    expect(progress).toMatchObject({ events: 1, streams: 1, failed: 0, done: true });
    const stored = await stage.viewStore('orders', 'green').get({ orderId });
    expect(stored).toMatchObject({ view: { orderId, customerId: 'customer-v1', status: 'PENDING' }, version: 1 });
    expect(stored?.view).not.toHaveProperty('customer');
  });

  it('the invariants fold the v1 item as v2', async () => {
    const stockInvariant =
      "for every SKU, its balance is the sum of its events' moves, never below zero, available + reserved + sold = " +
      "initial + restocked − written off, and each order's units match its status";
    // Read as v1, folding the order would throw: the strict OrderPlaced schema refuses `customer`.
    const results = await checkInvariants(invariantTables(client, (variable) => String(environment[variable])));
    const byName = Object.fromEntries(results.map(({ name, checked, violations }) => [name, { checked, violations }]));
    expect(byName).toEqual({
      'every event is one this code reads': { checked: 1, violations: [] },
      "every stream's versions are 1..n, gapless": { checked: 1, violations: [] },
      'every order has settled: CONFIRMED, REJECTED or CANCELLED': {
        checked: 1,
        violations: [
          `order ${orderId} is PENDING (npm run order -- ${orderId} says why, and whether the sweeper will settle it)`,
        ],
      },
      [stockInvariant]: { checked: 0, violations: [] },
      'each restock, write-off, new-price or new-name key was recorded once, and each claim is a keyed event’s record':
        {
          checked: 0,
          violations: [],
        },
      'no payment is authorized or charged twice, and none is kept by an order that did not end CONFIRMED': {
        checked: 0,
        violations: [],
      },
      // The view the projection wrote (customerId) equals the invariants' own fold of the stored item.
      'the orders read model equals a fresh fold of its streams': { checked: 1, violations: [] },
      'the products read model equals a fresh fold of its streams': { checked: 0, violations: [] },
    });
  });

  it('a change the upcaster cannot read parks its stream, not the batch, and a redrive catches it up once fixed', async () => {
    const brokenId = randomUUID();
    const brokenStream = orderStreamId(brokenId);
    const item = {
      ...storedV1,
      streamId: brokenStream,
      eventId: randomUUID(),
      data: { ...storedV1.data, orderId: brokenId },
    };
    await client.send(new PutCommand({ TableName: environment.EVENTS_TABLE, Item: item }));
    const { handler } = await import('../../functions/streams/ordersProjection.js');
    const views = stage.viewStore('orders', 'blue');

    upcaster.broken = true;
    const answer = await (handler as (event: KinesisStreamEvent, context: Context) => Promise<unknown>)(
      { Records: [changeRecord('5', item)] },
      lambdaContext('orderflow-test-ordersProjection'),
    );
    // Not handed back to Lambda, whose retries would end in the failure queue where no redrive looks.
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(await stage.parking.list('orders')).toEqual([
      expect.objectContaining({
        streamId: brokenStream,
        version: 1,
        error: `UpcasterError: The upcaster of OrderPlaced from schema version 1 throws on ${brokenStream}@1: TypeError: the upcaster cannot read this OrderPlaced`,
      }),
    ]);
    expect(await views.get({ orderId: brokenId })).toBeUndefined();

    upcaster.broken = false;
    const results = await redrive(ordersProjection, {
      targets: [{ views, parkedAs: 'orders' }],
      parking: stage.parking,
      readRange: readRangeOf(stage.store),
      readAll: (streamId) => stage.store.readStream(streamId),
    });
    expect(results).toEqual([expect.objectContaining({ streamId: brokenStream, outcome: 'completed', applied: 1 })]);
    expect(await views.get({ orderId: brokenId })).toMatchObject({
      view: { orderId: brokenId, customerId: 'customer-v1' },
      version: 1,
    });
    expect(await stage.parking.list('orders')).toEqual([]);
  });

  it('a scan of the events table tells apart the items an upcaster throws on, without failing the page', async () => {
    upcaster.broken = true;
    try {
      const page = await stage.events.page({ segment: 0, totalSegments: 1, limit: 100, consistent: true });
      // Both items of this file's table are OrderPlaced at version 1: neither can be read.
      expect(page.events).toEqual([]);
      expect(page.unreadable?.map(({ streamId, version, at }) => ({ streamId, version, at }))).toEqual(
        expect.arrayContaining([
          { streamId, version: 1, at: 0 },
          { streamId: expect.stringMatching(/^order-/), version: 1, at: 0 },
        ]),
      );
      expect(page.unreadable).toHaveLength(2);
      expect(String(page.unreadable?.[0]?.error)).toContain('the upcaster cannot read this OrderPlaced');
    } finally {
      upcaster.broken = false;
    }
  });

  it('the invariants name the items an upcaster throws on, and check nothing they would fold without them', async () => {
    upcaster.broken = true;
    try {
      const results = await checkInvariants(invariantTables(client, (variable) => String(environment[variable])));
      const [readAll, ...rest] = results;
      expect(readAll).toMatchObject({ name: 'every event is one this code reads', checked: 2 });
      expect(readAll?.violations).toEqual([
        expect.stringContaining('the upcaster cannot read this OrderPlaced'),
        expect.stringContaining('the upcaster cannot read this OrderPlaced'),
      ]);
      // Folded without them, the order would look unsettled and its stock unaccounted for: not checked instead.
      expect(rest.length).toBeGreaterThan(4);
      for (const result of rest) {
        expect(result).toMatchObject({
          checked: 0,
          violations: [],
          skipped: expect.stringContaining('cannot be read'),
        });
      }
    } finally {
      upcaster.broken = false;
    }
  });
});

// After the tests above, which count this file's stored items: these add their own.
describe('the saga’s stream consumers, meeting events an upcaster throws on', () => {
  /** An order placed and reserved in one item (ADR 0016), its OrderPlaced at schema version 1; cancelled after. */
  const placedAndReserved = (id: string) => ({
    ...storedV1,
    streamId: orderStreamId(id),
    eventId: randomUUID(),
    data: { ...storedV1.data, orderId: id },
    metadata: { ...storedV1.metadata, correlationId: `c-${id}` },
    following: [
      {
        eventId: randomUUID(),
        type: 'StockReserved',
        data: { orderId: id, lines: [{ sku: 'UPCAST-1', quantity: 2 }] },
        schemaVersion: 1,
      },
    ],
  });
  const cancelled = (id: string) => ({
    ...storedV1,
    streamId: orderStreamId(id),
    version: 3,
    eventId: randomUUID(),
    type: 'OrderCancelled',
    data: { orderId: id, previousStatus: 'PENDING' },
    metadata: { ...storedV1.metadata, correlationId: `c-${id}` },
  });
  const handlers = {
    startSaga: () => import('../../functions/streams/startSaga.js'),
    compensateCancellation: () => import('../../functions/streams/compensateCancellation.js'),
  };
  const consume = async (fn: keyof typeof handlers, record: KinesisStreamRecord) => {
    const { handler } = await handlers[fn]();
    return (handler as (event: KinesisStreamEvent, context: Context) => Promise<unknown>)(
      { Records: [record] },
      lambdaContext(`orderflow-test-${fn}`),
    );
  };

  it('park the stream rather than send it to the failure queue, and a redrive starts its saga or its compensation once fixed', async () => {
    const toStart = randomUUID();
    const toCompensate = randomUUID();
    for (const item of [placedAndReserved(toStart), placedAndReserved(toCompensate), cancelled(toCompensate)]) {
      await client.send(new PutCommand({ TableName: environment.EVENTS_TABLE, Item: item }));
    }
    const started: unknown[] = [];
    vi.spyOn(SFNClient.prototype, 'send').mockImplementation((command: unknown) => {
      started.push(command);
      return Promise.resolve({ executionArn: 'arn:execution' });
    });

    upcaster.broken = true;
    // The starter cannot read the change itself; the compensation reads the order's stream, and cannot read that.
    expect(await consume('startSaga', changeRecord('6', placedAndReserved(toStart)))).toEqual({
      batchItemFailures: [],
    });
    expect(await consume('compensateCancellation', changeRecord('7', cancelled(toCompensate)))).toEqual({
      batchItemFailures: [],
    });
    expect(started).toEqual([]);
    const upcasterError = (id: string) =>
      `UpcasterError: The upcaster of OrderPlaced from schema version 1 throws on ${orderStreamId(id)}@1: ` +
      'TypeError: the upcaster cannot read this OrderPlaced';
    expect(await stage.parking.list('startSaga')).toEqual([
      expect.objectContaining({ streamId: orderStreamId(toStart), version: 1, error: upcasterError(toStart) }),
    ]);
    expect(await stage.parking.list('compensateCancellation')).toEqual([
      expect.objectContaining({
        streamId: orderStreamId(toCompensate),
        version: 1,
        error: upcasterError(toCompensate),
      }),
    ]);

    const starts: { name: string; input: unknown }[] = [];
    const compensations: unknown[] = [];
    const redriveNow = () =>
      redriveSagas({
        parking: stage.parking,
        store: stage.store,
        starter: {
          start: async (name, input) => {
            starts.push({ name, input });
            return { started: true, executionArn: `arn:execution:${name}` };
          },
          existing: () => undefined,
        },
        parkCompensation: async (request) => {
          compensations.push(request);
          return true;
        },
      });
    // Not fixed yet: each is parked again, as it was.
    expect((await redriveNow()).map(({ consumer, outcome }) => ({ consumer, outcome }))).toEqual([
      { consumer: 'startSaga', outcome: 'parked-again' },
      { consumer: 'compensateCancellation', outcome: 'parked-again' },
    ]);
    expect((await stage.parking.list('startSaga')).map(({ streamId }) => streamId)).toEqual([orderStreamId(toStart)]);
    expect(starts).toEqual([]);

    upcaster.broken = false;
    expect(await redriveNow()).toEqual([
      {
        consumer: 'startSaga',
        streamId: orderStreamId(toStart),
        outcome: 'completed',
        detail: `saga started: arn:execution:${toStart}`,
      },
      {
        consumer: 'compensateCancellation',
        streamId: orderStreamId(toCompensate),
        outcome: 'completed',
        detail: 'compensation started',
      },
    ]);
    // The starter's own input: the order as placed (upcast, less its payment token), and when.
    const { paymentToken: _, ...placed } = { ...upcastData, orderId: toStart };
    expect(starts).toEqual([
      {
        name: toStart,
        input: { orderId: toStart, correlationId: `c-${toStart}`, placed, placedAt: storedV1.recordedAt },
      },
    ]);
    expect(compensations).toEqual([
      { orderId: toCompensate, correlationId: `c-${toCompensate}`, kind: 'CANCELLATION' },
    ]);
    expect(await stage.parking.list('startSaga')).toEqual([]);
    expect(await stage.parking.list('compensateCancellation')).toEqual([]);
    expect(started).toEqual([]);
  });
  it('park a cancellation by its order whatever stream threw, and keep parked what still cannot be done', async () => {
    const orderId = randomUUID();
    const payment = {
      ...storedV1,
      streamId: `payment-${orderId}`,
      version: 1,
      eventId: randomUUID(),
      type: 'PaymentAuthorized',
      data: { orderId, amount: { amount: 500, currency: 'EUR' }, gatewayReference: `ref-${orderId}` },
      metadata: { ...storedV1.metadata, correlationId: `c-${orderId}` },
    };
    for (const item of [placedAndReserved(orderId), cancelled(orderId), payment]) {
      await client.send(new PutCommand({ TableName: environment.EVENTS_TABLE, Item: item }));
    }
    upcaster.paymentBroken = true;
    try {
      // The cancellation and its order read; its payment, which the compensation voids, does not.
      expect(await consume('compensateCancellation', changeRecord('8', cancelled(orderId)))).toEqual({
        batchItemFailures: [],
      });
      expect(await stage.parking.list('compensateCancellation')).toEqual([
        expect.objectContaining({
          streamId: orderStreamId(orderId),
          version: 1,
          // Worded as a redrive that meets it again words it, naming the stream that threw.
          error:
            `UpcasterError: The upcaster of PaymentAuthorized from schema version 1 throws on payment-${orderId}@1: ` +
            'TypeError: the upcaster cannot read this PaymentAuthorized',
        }),
      ]);
      // A stream that is not an order's, parked by hand: the redrive says so, and leaves it.
      await stage.parking.park({
        projection: 'startSaga',
        streamId: 'product-NOT-AN-ORDER',
        version: 1,
        error: 'by hand',
        parkedAt: '',
      });
      const compensations: unknown[] = [];
      const redriveNow = (existing: string | undefined) =>
        redriveSagas({
          parking: stage.parking,
          store: stage.store,
          starter: { start: async () => ({ started: false }), existing: () => existing },
          parkCompensation: async (request) => {
            compensations.push(request);
            return true;
          },
        });
      const stillBroken = await redriveNow(undefined);
      expect((await stage.parking.list('compensateCancellation'))[0]?.error).toBe(
        `UpcasterError: The upcaster of PaymentAuthorized from schema version 1 throws on payment-${orderId}@1: ` +
          'TypeError: the upcaster cannot read this PaymentAuthorized',
      );
      expect(stillBroken).toEqual([
        expect.objectContaining({
          consumer: 'startSaga',
          streamId: 'product-NOT-AN-ORDER',
          outcome: 'parked-again',
          detail: "product-NOT-AN-ORDER is not an order's stream: look at it",
        }),
        expect.objectContaining({
          consumer: 'compensateCancellation',
          streamId: orderStreamId(orderId),
          outcome: 'parked-again',
          detail: expect.stringContaining('the upcaster cannot read this PaymentAuthorized'),
        }),
      ]);
      // Nothing was started while the payment could not be read: the compensation would have failed on it.
      expect(compensations).toEqual([]);
      await stage.parking.unpark('startSaga', 'product-NOT-AN-ORDER');

      upcaster.paymentBroken = false;
      expect(await redriveNow(undefined)).toEqual([
        {
          consumer: 'compensateCancellation',
          streamId: orderStreamId(orderId),
          outcome: 'completed',
          detail: 'compensation started',
        },
      ]);
      expect(compensations).toEqual([{ orderId, correlationId: `c-${orderId}`, kind: 'CANCELLATION' }]);

      // A saga whose execution ended without settling its order: its start stays parked, for the operator.
      const stranded = randomUUID();
      await client.send(new PutCommand({ TableName: environment.EVENTS_TABLE, Item: placedAndReserved(stranded) }));
      await stage.parking.park({
        projection: 'startSaga',
        streamId: orderStreamId(stranded),
        version: 1,
        error: 'earlier',
        parkedAt: '',
      });
      expect(await redriveNow('FAILED')).toEqual([
        expect.objectContaining({
          streamId: orderStreamId(stranded),
          outcome: 'parked-again',
          detail: expect.stringContaining('ended FAILED and the order is still PENDING'),
        }),
      ]);
      expect(await stage.parking.list('startSaga')).toEqual([
        expect.objectContaining({ streamId: orderStreamId(stranded), error: expect.stringContaining('ended FAILED') }),
      ]);
      expect(await redriveNow('RUNNING')).toEqual([
        expect.objectContaining({ outcome: 'completed', detail: 'its saga was started already' }),
      ]);
      expect(await stage.parking.list('startSaga')).toEqual([]);
    } finally {
      upcaster.paymentBroken = false;
    }
  });
  it('still hand any other failure back to Lambda, parking nothing', async () => {
    const orderId = randomUUID();
    for (const item of [placedAndReserved(orderId), cancelled(orderId)]) {
      await client.send(new PutCommand({ TableName: environment.EVENTS_TABLE, Item: item }));
    }
    // The order's events refused by a role short of a grant: not a change that cannot be read, so not parked.
    const denied = Object.assign(new Error('not authorized to perform dynamodb:Query'), {
      name: 'AccessDeniedException',
    });
    const send = DynamoDBDocumentClient.prototype.send;
    vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(function (
      this: DynamoDBDocumentClient,
      command: unknown,
    ) {
      if (command instanceof QueryCommand && command.input.TableName === environment.EVENTS_TABLE) {
        return Promise.reject(denied);
      }
      return (send as (command: unknown) => Promise<unknown>).call(this, command);
    } as DynamoDBDocumentClient['send']);
    try {
      expect(await consume('compensateCancellation', changeRecord('9', cancelled(orderId)))).toEqual({
        batchItemFailures: [{ itemIdentifier: '9' }],
      });
    } finally {
      vi.mocked(DynamoDBDocumentClient.prototype.send).mockRestore();
    }
    expect(await stage.parking.list('compensateCancellation')).toEqual([]);
  });

  it('count, in the invariants, the events an item holds, not the item', async () => {
    const readAll = async () =>
      (await checkInvariants(invariantTables(client, (variable) => String(environment[variable])))).find(
        ({ name }) => name === 'every event is one this code reads',
      )?.checked ?? 0;
    const before = await readAll();
    // One item, two events: OrderPlaced and StockReserved.
    await client.send(new PutCommand({ TableName: environment.EVENTS_TABLE, Item: placedAndReserved(randomUUID()) }));
    expect(await readAll()).toBe(before + 2);
  });
});
