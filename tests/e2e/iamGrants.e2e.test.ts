import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoParkingLot } from '../../adapters/parking.js';
import { simulatorOutage } from '../../adapters/simulatedPaymentGateway.js';
import { documentClient } from '../../eventstore/dynamoClient.js';
import { services } from '../../functions/dependencies.js';
import { jwtSettings, type LocalIssuer, localIssuer } from '../../local/auth.js';
import { localClientConfig } from '../../local/dynamoLocal.js';
import { environmentVariable } from '../../local/environment.js';
import { type ApiServer, startApi } from '../../local/httpServer.js';
import { functionHandlers, invoke, invokedFunction, trackInvocations } from '../../local/lambda.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { parkedIn } from '../../projections/readModelVersions.js';
import { keepEnvironment } from '../support/environment.js';
import { changeRecord } from '../support/lambdaEvents.js';
import { eventually } from '../support/eventually.js';
import { type CfnResource, packaged, resourcesOfType, type Statement, statementsOf } from '../support/packaged.js';

/*
 * The local stand-ins enforce no IAM, so a function whose role lacks a grant for a call it makes works here and fails
 * on AWS with AccessDenied (the replay worker's missing BatchGetItem was found only by reading the template). Here a
 * stack of its own records every DynamoDB call each function makes while a run of orders goes through every path
 * (placed, declined, out of stock, cancelled, a gateway outage with a give-up and a parked void, a sweep, a blue-green
 * rebuild and an in-place replay by the replay worker), and each
 * call is held to the packaged prod template: an Allow statement of that function's role with the call's action on
 * the call's table or index, and, where the statement is limited to some partition keys, the call's key among them.
 */
type Call = { fn: string; action: string; table: string; index?: string; partitionKeys: unknown[] };

const restoreEnvironment = keepEnvironment();
let stack: LocalStack;
let api: ApiServer;
let issuer: LocalIssuer;
let client: DynamoDBDocumentClient;
const calls: Call[] = [];
const unattributed: string[] = [];

type Keyed = { TableName?: string; Key?: Record<string, unknown>; Item?: Record<string, unknown> };
type Input = Keyed & {
  IndexName?: string;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
  RequestItems?: Record<string, { Keys?: Record<string, unknown>[] } | unknown[]>;
  TransactItems?: Record<string, Keyed>[];
};

/** The partition keys' names of each table, by its name on this stack. */
const hashKeys = new Map<string, string>();
const keyOf = (table: string, keyed: Record<string, unknown> | undefined): unknown[] => {
  const name = hashKeys.get(table);
  return name && keyed && name in keyed ? [keyed[name]] : [];
};

/**
 * A query's partition key, which IAM's `dynamodb:LeadingKeys` holds it to: the value its key condition sets the
 * table's partition key equal to. (Without it a conditioned grant passed any query, whatever its key.)
 */
const queriedKey = (table: string, input: Input): unknown[] => {
  const name = hashKeys.get(table);
  if (!name || !input.KeyConditionExpression) return [];
  for (const [, left = '', right = ''] of input.KeyConditionExpression.matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    if ((input.ExpressionAttributeNames?.[left] ?? left) === name) return [input.ExpressionAttributeValues?.[right]];
  }
  throw new Error(`a query of ${table} with no key condition on ${name}: ${input.KeyConditionExpression}`);
};

/** The IAM actions one request needs, each on its table (or index), as DynamoDB authorizes them. */
const needs = (operation: string, input: Input): Omit<Call, 'fn'>[] => {
  const { TableName: table, IndexName: index } = input;
  if (operation === 'TransactWriteItems') {
    const actions: Record<string, string> = {
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
      ConditionCheck: 'ConditionCheckItem',
    };
    return (input.TransactItems ?? []).flatMap((item) =>
      Object.entries(item).map(([kind, action]) => ({
        action: `dynamodb:${actions[kind] ?? kind}`,
        table: String(action.TableName),
        partitionKeys: keyOf(String(action.TableName), action.Key ?? action.Item),
      })),
    );
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.entries(input.RequestItems ?? {}).map(([name, request]) => ({
      action: `dynamodb:${operation}`,
      table: name,
      partitionKeys: Array.isArray(request) ? [] : (request.Keys ?? []).flatMap((key) => keyOf(name, key)),
    }));
  }
  if (!table) return [];
  return [
    {
      action: `dynamodb:${operation}`,
      table,
      ...(index ? { index } : {}),
      // An index's query is held to the index's own key, which no grant here conditions.
      partitionKeys: operation === 'Query' && !index ? queriedKey(table, input) : keyOf(table, input.Key ?? input.Item),
    },
  ];
};

beforeAll(async () => {
  stack = await startLocalStack({ stage: 'test' });
  // Every function shares this process's one cache of the read models' pointers: with it, only the function that
  // happened to refresh it would be seen reading the pointer. Without it, each reads it itself.
  process.env.READ_MODEL_CACHE_MS = '0';
  trackInvocations();
  const { template } = await packaged('prod');
  for (const [, table] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    const name = String(table.Properties.TableName).replace('-prod-', '-test-');
    const schema = table.Properties.KeySchema as { AttributeName: string; KeyType: string }[];
    const hash = schema.find((k) => k.KeyType === 'HASH')?.AttributeName;
    if (hash) hashKeys.set(name, hash);
  }
  // Every function shares the one client the composition root builds for it (functions/dependencies.ts).
  services().client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = context.commandName?.replace(/Command$/, '') ?? 'unknown';
      const fn = invokedFunction();
      if (fn) for (const need of needs(operation, args.input as Input)) calls.push({ fn, ...need });
      else unattributed.push(operation);
      return next(args);
    },
    { step: 'initialize', name: 'iamGrantsRecorder' },
  );
  issuer = await localIssuer(jwtSettings(stack.config));
  api = await startApi({ config: stack.config, issuer });
  client = documentClient({ endpoint: stack.dynamo.endpoint, ...localClientConfig });
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await api?.close();
  await stack?.stop();
  restoreEnvironment();
});

const call = async (
  method: string,
  path: string,
  { as = 'customer-1', body }: { as?: string; body?: unknown } = {},
) => {
  const token = as === 'admin' ? await issuer.sign('ops', { admin: true }) : await issuer.sign(as);
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, json };
};

// Read when called: the stack starts in beforeAll.
const table = (variable: string): string => environmentVariable(stack.environment)(variable);

const statusOf = async (orderId: string) => (await call('GET', `/orders/${orderId}`)).json.status;

const place = async (sku: string, paymentToken = 'tok_visa', quantity = 1) => {
  const placed = await call('POST', '/orders', {
    body: { items: [{ sku, quantity }], payment: { token: paymentToken } },
  });
  expect(placed.status, JSON.stringify(placed.json)).toBe(202);
  return String(placed.json.orderId);
};

const settled = (orderId: string, status: string) =>
  eventually(async () => expect(await statusOf(orderId)).toBe(status), { timeoutMs: 30_000, intervalMs: 200 });

describe('the IAM grants of the packaged template', () => {
  it('allow every DynamoDB call each function makes, on the table, index and keys it makes it on', async () => {
    const sku = `SKU-${randomUUID().slice(0, 8).toUpperCase()}`;
    const product = { sku, name: 'Grant mug', price: { amount: 1250, currency: 'EUR' }, stock: 5 };
    expect((await call('POST', '/products', { as: 'admin', body: product })).status).toBe(201);
    // Before its view exists, and for a SKU never registered, the product is looked up in the events.
    expect((await call('GET', `/products/${sku}`)).status).toBe(200);
    expect((await call('GET', `/products/NONE-${randomUUID().slice(0, 8).toUpperCase()}`)).status).toBe(404);
    expect((await call('POST', `/products/${sku}/restock`, { as: 'admin', body: { quantity: 5 } })).status).toBe(200);
    const writeOff = { as: 'admin', body: { quantity: 1 } } as const;
    expect((await call('POST', `/products/${sku}/write-off`, writeOff)).status).toBe(200);
    // Keyed, as every call with a body here is (`call`): its claim's put is held to claimRepriceKeys (ADR 0025).
    const newPrice = { price: { amount: 1300, currency: 'EUR' } };
    expect((await call('POST', `/products/${sku}/reprice`, { as: 'admin', body: newPrice })).status).toBe(200);
    // And a new name's to claimRenameKeys (ADR 0027).
    const newName = { name: 'Grant mug, 350 ml' };
    expect((await call('POST', `/products/${sku}/rename`, { as: 'admin', body: newName })).status).toBe(200);

    const confirmed = await place(sku);
    const declined = await place(sku, 'tok_declined');
    const outOfStock = await place(sku, 'tok_visa', 50);
    await settled(confirmed, 'CONFIRMED');
    await settled(declined, 'REJECTED');
    await settled(outOfStock, 'REJECTED');
    expect((await call('POST', `/orders/${confirmed}/cancel`, { body: {} })).status).toBe(202);
    await settled(confirmed, 'CANCELLED');
    expect((await call('GET', `/orders/${confirmed}/events`)).status).toBe(200);
    expect((await call('GET', '/orders')).status).toBe(200);
    expect((await call('GET', `/products/${sku}`)).status).toBe(200);
    expect((await call('GET', '/products?limit=1')).status).toBe(200);

    // The gateway goes down: an order waits for it, and is given up while it is still down (its void parked).
    const outage = simulatorOutage({ client, table: table('PAYMENT_SIMULATOR_TABLE') });
    await outage.down();
    try {
      const waiting = await place(sku);
      await eventually(
        async () => expect((await call('GET', `/orders/${waiting}`)).json.pendingReason).toBe('AWAITING_PAYMENT'),
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      const handlerOf = functionHandlers(stack.config);
      await invoke(stack.config, 'abandonOrder', await handlerOf('abandonOrder'), {
        orderId: waiting,
        correlationId: randomUUID(),
        executionName: waiting,
      });
      await settled(waiting, 'REJECTED');
      // A sweep with nothing stale to settle still reads the index and asks after executions.
      await invoke(stack.config, 'sweepPendingOrders', await handlerOf('sweepPendingOrders'), {
        pendingAfterSeconds: 3600,
      });
      await outage.up();
      await eventually(
        async () =>
          expect(
            [...stack.stepFunctions.executions.values()].find(
              (e) => e.stateMachineArn === table('COMPENSATION_ARN') && e.name === waiting,
            )?.status,
          ).toBe('SUCCEEDED'),
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    } finally {
      await outage.up();
    }

    // Discontinued (ADR 0028): its product stream appended, no claim; then an order for it is refused, writing nothing.
    expect((await call('POST', `/products/${sku}/discontinue`, { as: 'admin' })).status).toBe(200);
    await eventually(async () => expect((await call('GET', `/products/${sku}`)).json.discontinued).toBe(true), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });

    // A change whose events cannot be read (its envelope refused, as an upcaster that throws would leave it): each of
    // the saga's consumers parks its stream under its own name (functions/streams/parkUnreadable.ts).
    const handlers = functionHandlers(stack.config);
    for (const [fn, type] of [
      ['startSaga', 'StockReserved'],
      ['compensateCancellation', 'OrderCancelled'],
    ] as const) {
      const streamId = `order-${randomUUID()}`;
      const unreadable = {
        streamId,
        version: 2,
        eventId: randomUUID(),
        type,
        data: {},
        schemaVersion: 0,
        recordedAt: new Date().toISOString(),
        metadata: { correlationId: randomUUID(), causationId: 'grants', commandId: randomUUID(), actor: 'test' },
      };
      expect(
        await invoke(stack.config, fn, await handlers(fn), { Records: [changeRecord('1', unreadable)] }),
        fn,
      ).toEqual({ batchItemFailures: [] });
      // At the version of the change it could not read.
      expect(await dynamoParkingLot({ client, table: table('PROJECTIONS_TABLE') }).list(fn)).toContainEqual(
        expect.objectContaining({ streamId, version: 2 }),
      );
    }

    // The replay worker rebuilds both read models, phase by phase as its state machine runs it (ADR 0009), then
    // replays them in place: every call a rebuild and a replay make.
    const worker = functionHandlers(stack.config);
    const replay = async (payload: Record<string, unknown>) =>
      invoke(stack.config, 'replaySegment', await worker('replaySegment'), payload);
    const parking = dynamoParkingLot({ client, table: table('PROJECTIONS_TABLE') });
    for (const projection of ['orders', 'products']) {
      // What an earlier build of the slot a first rebuild takes left parked: the new build forgets it (DeleteItem).
      const leftOver = `${projection}-left-over-${randomUUID()}`;
      const parkedName = parkedIn(projection, 'green');
      await parking.park({ projection: parkedName, streamId: leftOver, version: 1, error: 'seeded', parkedAt: '' });
      const runId = `grants-${projection}-${randomUUID()}`;
      const begun = (await replay({ action: 'rebuildBegin', projection, runId, totalSegments: 1 })) as {
        slot: string;
      };
      expect(begun.slot).toBe('green');
      expect(await parking.parked(parkedName, [leftOver])).toEqual(new Set());
      let progress: { done?: boolean };
      do {
        progress = (await replay({
          action: 'rebuildSegment',
          projection,
          runId,
          ...begun,
          segment: 0,
          totalSegments: 1,
        })) as {
          done?: boolean;
        };
      } while (!progress.done);
      expect(await replay({ action: 'rebuildCheck', projection, runId, slot: begun.slot, sample: 20 })).toMatchObject({
        mismatches: 0,
      });
      await replay({ action: 'rebuildSwitch', projection });
    }
    await replay({
      action: 'segment',
      runId: `grants-${randomUUID()}`,
      segment: 0,
      totalSegments: 1,
      projections: ['orders', 'products'],
    });

    const { template } = await packaged('prod');
    const tableIds = new Map(
      resourcesOfType(template, 'AWS::DynamoDB::Table').map(([id, t]) => [
        String(t.Properties.TableName).replace('-prod-', '-test-'),
        id,
      ]),
    );
    const roleOf = (fn: string): CfnResource => {
      const lambda = template.Resources[`${fn[0]?.toUpperCase()}${fn.slice(1)}LambdaFunction`];
      const role = lambda?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined;
      const found = role && template.Resources[role['Fn::GetAtt'][0]];
      if (!found) throw new Error(`no role for ${fn}`);
      return found;
    };
    const covers = (statement: Statement, need: Call): boolean => {
      const actions = [statement.Action].flat();
      if (statement.Effect !== 'Allow' || !actions.includes(need.action)) return false;
      const id = tableIds.get(need.table);
      const wanted = need.index ? { 'Fn::Sub': `\${${id}.Arn}/index/${need.index}` } : { 'Fn::GetAtt': [id, 'Arn'] };
      const resources = [statement.Resource].flat();
      if (!resources.some((r) => JSON.stringify(r) === JSON.stringify(wanted))) return false;
      const condition = (statement as Statement & { Condition?: Record<string, Record<string, unknown>> }).Condition;
      const equals = condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'] as unknown[] | undefined;
      // StringLike's `*` matches any run of characters, `?` any one.
      const like = (condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[] | undefined)?.map(
        (pattern) =>
          new RegExp(
            `^${pattern
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replaceAll('*', '.*')
              .replaceAll('?', '.')}$`,
          ),
      );
      return (
        (!equals || need.partitionKeys.every((key) => equals.includes(key))) &&
        (!like || need.partitionKeys.every((key) => like.some((pattern) => pattern.test(String(key)))))
      );
    };

    const functionName = (fn: string) => fn.replace(/^orderflow-test-/, '');
    const byFunction = new Map<string, Call[]>();
    for (const made of calls) {
      const fn = functionName(made.fn);
      const key = `${made.action} ${made.table} ${made.index ?? ''} ${JSON.stringify(made.partitionKeys)}`;
      const seen = byFunction.get(fn) ?? [];
      if (!seen.some((c) => `${c.action} ${c.table} ${c.index ?? ''} ${JSON.stringify(c.partitionKeys)}` === key)) {
        seen.push({ ...made, fn });
      }
      byFunction.set(fn, seen);
    }
    const denied = [...byFunction.values()]
      .flat()
      .filter((need) => !statementsOf(roleOf(need.fn)).some((statement) => covers(statement, need)))
      .map((need) => `${need.fn}: ${need.action} on ${need.table}${need.index ? `/index/${need.index}` : ''}`);
    expect([...new Set(denied)]).toEqual([]);
    // The calls behind the conditioned grants were made, so the key checks above had something to check: the pointers'
    // key of the projections table, by each function that reads a read model, and a product's stream, by getProduct
    // (productsProjection reads one only to fill a gap in its batch, which this run does not make).
    const eventsTable = table('EVENTS_TABLE');
    expect(
      byFunction
        .get('getProduct')
        ?.some(
          (c) =>
            c.action === 'dynamodb:Query' && c.table === eventsTable && /^product-/.test(String(c.partitionKeys[0])),
        ),
    ).toBe(true);
    const projectionsTable = table('PROJECTIONS_TABLE');
    for (const fn of ['getOrder', 'listOrders', 'getProduct', 'listProducts', 'sweepPendingOrders']) {
      expect(
        byFunction.get(fn)?.some((c) => c.action === 'dynamodb:GetItem' && c.table === projectionsTable),
        fn,
      ).toBe(true);
    }
    // Every call was made by a function, and the run went through every function whose role grants DynamoDB actions,
    // read from the template, so a new function's role is checked or this fails. (startSaga's read of an order whose
    // OrderPlaced is not in the same batch is not made here; its parking is.)
    expect(unattributed).toEqual([]);
    const unexercised = new Set<string>();
    const dynamoFunctions = resourcesOfType(template, 'AWS::Lambda::Function')
      .map(([id]) => id.replace(/LambdaFunction$/, ''))
      .map((id) => `${id[0]?.toLowerCase()}${id.slice(1)}`)
      .filter((fn) =>
        statementsOf(roleOf(fn)).some((statement) =>
          [statement.Action].flat().some((action) => action.startsWith('dynamodb:')),
        ),
      );
    expect(dynamoFunctions).toEqual(expect.arrayContaining(['placeOrder', 'replaySegment', ...unexercised]));
    expect([...byFunction.keys()].sort()).toEqual(dynamoFunctions.filter((fn) => !unexercised.has(fn)).sort());
  });
});
