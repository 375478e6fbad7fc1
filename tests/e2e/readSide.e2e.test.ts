import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { dynamoReadModels } from '../../adapters/readModels.js';
import { localStack } from '../support/stack.js';
import { OrderAccepted, OrderHistory, OrderPage, Product, ProductPage } from '../../api/responses.js';
import {
  admin,
  type Answer,
  eventually,
  expectProblem,
  givenOrder,
  givenProduct,
  type Money,
  uniqueCustomer,
  uniqueSku,
  useTestApi,
} from './http.js';

const { call } = useTestApi();

type Caller = string | { admin: string };

const get = (path: string, as: Caller, headers: Record<string, string> = {}) => call('GET', path, { as, headers });

const expectOk = (answer: Answer): void => expect(answer.status, answer.text).toBe(200);

/** GETs `path` until the read model answers 200 and `expectation` holds. */
const readEventually = (path: string, as: Caller, expectation: (answer: Answer) => void = () => undefined) =>
  eventually(
    () => get(path, as),
    (answer) => {
      expectOk(answer);
      expectation(answer);
    },
  );

const historyOf = async (orderId: string, as: Caller) => {
  const answer = await get(`/orders/${orderId}/events`, as);
  expectOk(answer);
  return OrderHistory.parse(answer.json).events;
};

/** The `recordedAt` of the order's event at `version`, as the event store holds it. */
const recordedAt = async (orderId: string, as: Caller, version: number): Promise<string> => {
  const event = (await historyOf(orderId, as)).find((e) => e.version === version);
  if (!event) throw new Error(`order ${orderId} has no event at version ${version}`);
  return event.recordedAt;
};

const cancel = async (orderId: string, as: Caller): Promise<void> => {
  const answer = await call('POST', `/orders/${orderId}/cancel`, { as });
  expect(answer.status, answer.text).toBe(202);
};

const orderIdsOf = (answer: Answer): string[] => OrderPage.parse(answer.json).orders.map((order) => order.orderId);

const withQuery = (path: string, query: Record<string, string | number>): string =>
  `${path}?${new URLSearchParams(Object.entries(query).map(([key, value]): [string, string] => [key, String(value)])).toString()}`;

/** The parts of a 404 a caller could tell two resources apart by. */
const shapeOf = (json: Record<string, unknown>) => ({
  type: json.type,
  title: json.title,
  status: json.status,
  detail: json.detail,
  keys: Object.keys(json)
    .filter((key) => key !== 'instance' && key !== 'correlationId')
    .sort(),
});

const expectParameterError = (answer: Answer, parameter: string): void => {
  expectProblem(answer, 400, 'validation-failed');
  expect(answer.json.errors).toEqual([{ parameter, detail: expect.any(String) }]);
};

describe('GET /orders/{orderId} and GET /orders: an order as it moves', () => {
  it('shows a placed order, priced from the product, as the saga settles it, in the order and its customer’s list', async () => {
    const price: Money = { amount: 1250, currency: 'EUR' };
    const sku = await givenProduct(call, { price });
    const customer = uniqueCustomer();
    const token = `tok_secret_${randomUUID()}`;
    const placed = await call('POST', '/orders', {
      as: customer,
      body: { items: [{ sku, quantity: 3 }], payment: { token } },
    });
    expect(placed.status, placed.text).toBe(202);
    const { orderId } = OrderAccepted.parse(placed.json);
    const placedAt = await recordedAt(orderId, customer, 1);

    // An unknown test token is declined by the simulated gateway: the saga reserves the stock (version 2), then
    // rejects the order (version 3).
    const answer = await readEventually(`/orders/${orderId}`, customer, (a) => expect(a.json.version).toBe(3));
    const rejectedAt = await recordedAt(orderId, customer, 3);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const expected = {
      orderId,
      customerId: customer,
      status: 'REJECTED',
      rejectionReason: 'PAYMENT_DECLINED',
      lines: [{ sku, name: `Product ${sku}`, quantity: 3, unitPrice: price }],
      total: { amount: 3 * 1250, currency: 'EUR' },
      placedAt,
      rejectedAt,
      updatedAt: rejectedAt,
      version: 3,
    };
    expect(answer.json).toEqual(expected);
    expect(answer.text).not.toContain(token);
    expect(answer.text).not.toContain('paymentToken');

    // The order answered above may come from its stream (ADR 0020); the list is the read model's alone, a moment later.
    const list = await readEventually('/orders', customer, (page) => expect(page.json).toEqual({ orders: [expected] }));
    expect(list.text).not.toContain(token);
    expect(list.text).not.toContain('paymentToken');
  });

  it('answers the Location a 202 hands out at once, from the order’s stream until the read model has it', async () => {
    const sku = await givenProduct(call);
    const customer = uniqueCustomer();
    const placed = await call('POST', '/orders', {
      as: customer,
      body: { items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } },
    });
    expect(placed.status, placed.text).toBe(202);
    const { orderId } = OrderAccepted.parse(placed.json);
    // No waiting: the projections gather records for up to a second before they write the view.
    const answer = await get(placed.headers.get('location') ?? '', customer);
    expectOk(answer);
    expect(answer.json).toMatchObject({ orderId, customerId: customer, lines: [{ sku, quantity: 1 }] });
    expect(answer.json.version).toBeGreaterThanOrEqual(2);
    expect(answer.text).not.toContain('paymentToken');
    // Another customer still finds nothing there.
    expectProblem(await get(`/orders/${orderId}`, uniqueCustomer()), 404, 'not-found');
  });

  it('shows a cancelled order CANCELLED, with cancelledAt, once the read model follows', async () => {
    const customer = uniqueCustomer();
    const orderId = await givenOrder(call, customer, await givenProduct(call));
    // Let the saga settle it first (tok_visa: stock reserved at version 2, CONFIRMED at 3), so the cancellation is 4.
    await readEventually(`/orders/${orderId}`, customer, (a) => expect(a.json.status).toBe('CONFIRMED'));

    await cancel(orderId, customer);
    const [placedAt, confirmedAt, cancelledAt] = [
      await recordedAt(orderId, customer, 1),
      await recordedAt(orderId, customer, 3),
      await recordedAt(orderId, customer, 4),
    ];

    const answer = await readEventually(`/orders/${orderId}`, customer, (a) => expect(a.json.version).toBe(4));
    expect(answer.json).toMatchObject({
      orderId,
      status: 'CANCELLED',
      placedAt,
      confirmedAt,
      cancelledAt,
      updatedAt: cancelledAt,
    });
    expect(answer.json).not.toHaveProperty('rejectedAt');

    const list = await readEventually('/orders', customer, (page) =>
      expect(OrderPage.parse(page.json).orders.map(({ status, version }) => [status, version])).toEqual([
        ['CANCELLED', 4],
      ]),
    );
    expect(OrderPage.parse(list.json).orders[0]).toEqual(answer.json);
  });

  it('lists nothing, and hands out no cursor, for a customer without orders', async () => {
    const answer = await get('/orders', uniqueCustomer());
    expectOk(answer);
    expect(answer.json).toEqual({ orders: [] });
  });
});

describe('GET /products/{sku}', () => {
  it('serves a registered product with its stock figures to any customer, and follows a restock', async () => {
    const price: Money = { amount: 899, currency: 'EUR' };
    const sku = await givenProduct(call, { price, stock: 10 });
    const [someone, someoneElse] = [uniqueCustomer(), uniqueCustomer()];

    const first = await readEventually(`/products/${sku}`, someone);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(first.json).toEqual({
      sku,
      name: `Product ${sku}`,
      price,
      stock: { available: 10, reserved: 0, sold: 0 },
      version: 1,
      discontinued: false,
    });
    const byAnother = await get(`/products/${sku}`, someoneElse);
    expectOk(byAnother);
    expect(byAnother.json).toEqual(first.json);

    const restocked = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 5 } });
    expect(restocked.status, restocked.text).toBe(200);

    const after = await readEventually(`/products/${sku}`, someoneElse, (a) => expect(a.json.version).toBe(2));
    expect(Product.parse(after.json)).toEqual({
      sku,
      name: `Product ${sku}`,
      price,
      stock: { available: 15, reserved: 0, sold: 0 },
      version: 2,
      discontinued: false,
    });
  });

  it('answers 404 for an unknown SKU, and for a path that cannot be a SKU', async () => {
    expectProblem(await get(`/products/${uniqueSku()}`, uniqueCustomer()), 404, 'not-found');
    expectProblem(await get('/products/not-a-sku', uniqueCustomer()), 404, 'not-found');
  });

  it('answers 401 without a token, for a product that exists', async () => {
    const sku = await givenProduct(call);
    await readEventually(`/products/${sku}`, uniqueCustomer());

    const answer = await call('GET', `/products/${sku}`, { as: null });
    expectProblem(answer, 401, 'unauthorized');
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect(answer.text).not.toContain('Product ');
  });
});

describe('GET /products', () => {
  /** Every product the listing holds, `limit` at a time, and the pages' sizes. */
  const everyProduct = async (limit: number) => {
    const products: Product[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const answer = await get(withQuery('/products', { limit, ...(cursor ? { cursor } : {}) }), uniqueCustomer());
      expectOk(answer);
      const page = ProductPage.parse(answer.json);
      products.push(...page.products);
      sizes.push(page.products.length);
      cursor = page.nextCursor;
    } while (cursor);
    return { products, sizes };
  };

  it('lists every product once, in SKU order, a page at a time, each with the figures GET /products/{sku} answers', async () => {
    const skus = [await givenProduct(call, { stock: 3 }), await givenProduct(call, { stock: 4 })];
    const [ordered, restocked] = skus as [string, string];
    await givenOrder(call, uniqueCustomer(), ordered);
    const restock = await call('POST', `/products/${restocked}/restock`, { as: admin, body: { quantity: 2 } });
    expect(restock.status, restock.text).toBe(200);
    // Once the order's saga has sold its unit, neither product's figures move again.
    const settled = (a: Answer) => expect(a.json).toMatchObject({ stock: { reserved: 0 } });
    const singles = await Promise.all(
      skus.map((sku) =>
        readEventually(`/products/${sku}`, uniqueCustomer(), settled).then((a) => Product.parse(a.json)),
      ),
    );
    expect(singles.map((p) => p.stock)).toEqual([
      { available: 2, reserved: 0, sold: 1 },
      { available: 6, reserved: 0, sold: 0 },
    ]);

    // Listed once the read model has them.
    await eventually(
      () => everyProduct(100),
      ({ products }) => expect(products.map((p) => p.sku)).toEqual(expect.arrayContaining(skus)),
    );
    const { products, sizes } = await everyProduct(3);
    expect(new Set(products.map((p) => p.sku)).size).toBe(products.length);
    // In SKU order across pages (SKUs are ASCII, so code-unit order is DynamoDB's byte order): a product another suite
    // registers meanwhile shows in its place, or not at all if the walk has passed it.
    const listed = products.map((p) => p.sku);
    expect(listed).toEqual([...listed].sort());
    expect(sizes.slice(0, -1).every((size) => size === 3)).toBe(true);
    expect(sizes.at(-1)).toBeGreaterThan(0);
    for (const single of singles) expect(products.find((p) => p.sku === single.sku)).toEqual(single);
  });

  it('answers a page’s ETag with 304, refuses a cursor it did not hand out (422) and a bad limit or parameter (400)', async () => {
    await givenProduct(call);
    const customer = uniqueCustomer();
    const first = await readEventually(withQuery('/products', { limit: 1 }), customer);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"/);
    const again = await get(withQuery('/products', { limit: 1 }), customer, { 'if-none-match': etag ?? '' });
    expect(again.status).toBe(304);
    // Its stock moved by a unit, the page's product has new figures: the old ETag no longer matches. Whichever product
    // comes first in SKU order: one another suite supplied up to the limit takes no restock, so a unit is written off
    // where one is available, and restocked where none is.
    const [listed] = ProductPage.parse(first.json).products;
    if (!listed) throw new Error(`no product in ${first.text}`);
    const delta = listed.stock.available > 0 ? -1 : 1;
    const move = delta < 0 ? 'write-off' : 'restock';
    const moved = await call('POST', `/products/${listed.sku}/${move}`, { as: admin, body: { quantity: 1 } });
    expect(moved.status, moved.text).toBe(200);
    const changed = await get(withQuery('/products', { limit: 1 }), customer, { 'if-none-match': etag ?? '' });
    expect(changed.status).toBe(200);
    // Other suites register products on this stack meanwhile, and one may now come first in SKU order.
    const [now] = ProductPage.parse(changed.json).products;
    if (now?.sku === listed.sku) expect(now.stock.available).toBe(listed.stock.available + delta);

    const { nextCursor } = ProductPage.parse(first.json);
    if (!nextCursor) throw new Error(`no cursor in ${first.text}`);
    const position = JSON.parse(Buffer.from(nextCursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const crafted = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');
    // One of another version of the read model: a switch between versions may add or drop products before it.
    const spaced = Buffer.from(JSON.stringify(position, null, 1)).toString('base64url');
    const keyTwice = Buffer.from(
      `{"sku":"A-1","sku":${JSON.stringify(position.sku)},"v":${String(position.v)},"by":"sku"}`,
    ).toString('base64url');
    // The unsorted listing's cursor, which named no order, and one naming another order.
    const unsorted = crafted({ sku: position.sku, v: position.v });
    const byName = crafted({ ...position, by: 'name' });
    for (const cursor of [
      crafted({ sku: position.sku }),
      crafted({ ...position, extra: 1 }),
      'x',
      spaced,
      keyTwice,
      unsorted,
      byName,
    ]) {
      expectProblem(await get(withQuery('/products', { cursor }), customer), 422, 'invalid-cursor');
    }
    const otherVersion = await get(
      withQuery('/products', { cursor: crafted({ ...position, v: Number(position.v) + 1 }) }),
      customer,
    );
    expectProblem(otherVersion, 422, 'invalid-cursor');
    expect(otherVersion.json.detail).toContain('start again');
    expectOk(await get(withQuery('/products', { cursor: nextCursor }), customer));
    expectParameterError(await get('/products?limit=0', customer), 'limit');
    expectParameterError(await get('/products?sku=MUG-1', customer), 'sku');
    expectProblem(await call('GET', '/products', { as: null }), 401, 'unauthorized');
  });
});

describe('ETag and If-None-Match', () => {
  /**
   * The 304 rules for one resource whose current ETag is `etag`: the tag itself, its weak form, a list naming it and
   * `*` each give 304 without a body and with the same ETag; a list of other tags gives the 200 again.
   */
  const expectConditionalGets = async (path: string, as: Caller, current: Answer): Promise<void> => {
    const etag = current.headers.get('etag');
    expect(etag, `${path} has an ETag`).toMatch(/^"[^"]+"$/);
    if (!etag) return;

    for (const ifNoneMatch of [etag, `W/${etag}`, `"no-such-tag", ${etag}`, `W/"other",W/${etag}`, '*']) {
      const answer = await get(path, as, { 'if-none-match': ifNoneMatch });
      expect(answer.status, `If-None-Match: ${ifNoneMatch}`).toBe(304);
      expect(answer.text).toBe('');
      expect(answer.headers.get('etag')).toBe(etag);
      expect(answer.headers.get('content-type')).toBeNull();
      expect(answer.headers.get('cache-control')).toBe('private, no-cache');
    }

    const otherTags = await get(path, as, { 'if-none-match': `"no-such-tag", W/"neither"` });
    expectOk(otherTags);
    expect(otherTags.headers.get('etag')).toBe(etag);
    // One caller's answer: no shared cache keeps it, and the caller's own checks it again by its ETag.
    expect(otherTags.headers.get('cache-control')).toBe('private, no-cache');
    expect(otherTags.json).toEqual(current.json);
  };

  /** How far the products view of the SKU has applied its product's stream, in whichever table holds it (blue, green). */
  const viewVersion = async (sku: string) => {
    const { client } = localStack();
    const environment = inject('environment');
    const versions = await Promise.all(
      ['PRODUCTS_TABLE', 'PRODUCTS_GREEN_TABLE'].map(async (name) => {
        const productsTable = environment[name] ?? '';
        const reads = dynamoReadModels({ client, ordersTable: environment.ORDERS_TABLE ?? '', productsTable });
        return (await reads.product(sku))?.version ?? 0;
      }),
    );
    return Math.max(...versions);
  };

  /** After a change, the old ETag gets the new representation (200) with a new ETag, which then gives 304. */
  const expectStale = async (path: string, as: Caller, old: string, changed: (answer: Answer) => void) => {
    const answer = await eventually(
      () => get(path, as, { 'if-none-match': old }),
      (a) => {
        expectOk(a);
        changed(a);
      },
    );
    const fresh = answer.headers.get('etag');
    expect(fresh).toMatch(/^"[^"]+"$/);
    expect(fresh).not.toBe(old);
    const again = await get(path, as, { 'if-none-match': fresh ?? '' });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(fresh);
    return answer;
  };

  it('GET /orders/{orderId}: 304 while unchanged, 200 with a new ETag after a cancel', async () => {
    const customer = uniqueCustomer();
    const orderId = await givenOrder(call, customer, await givenProduct(call));
    const path = `/orders/${orderId}`;
    // Once the saga has settled it (tok_visa: CONFIRMED), the order is unchanged until the cancel.
    const current = await readEventually(path, customer, (a) => expect(a.json.status).toBe('CONFIRMED'));
    await expectConditionalGets(path, customer, current);

    await cancel(orderId, customer);
    const after = await expectStale(path, customer, current.headers.get('etag') ?? '', (a) =>
      expect(a.json.status).toBe('CANCELLED'),
    );
    expect(after.json.version).toBe(4);
  });

  it('GET /orders/{orderId}/events: 304 while unchanged, 200 with a new ETag after a cancel', async () => {
    const customer = uniqueCustomer();
    const orderId = await givenOrder(call, customer, await givenProduct(call));
    const path = `/orders/${orderId}/events`;
    // Settled (tok_visa: CONFIRMED, its third event), the history is unchanged until the cancel.
    const current = await readEventually(path, customer, (a) => expect(a.json.events).toHaveLength(3));
    expect(current.headers.get('etag')).toBe('"3"');
    await expectConditionalGets(path, customer, current);

    await cancel(orderId, customer);
    const after = await expectStale(path, customer, '"3"', (a) =>
      expect(OrderHistory.parse(a.json).events.at(-1)).toMatchObject({ type: 'OrderCancelled', version: 4 }),
    );
    expect(after.headers.get('etag')).toBe('"4"');
  });

  it('GET /products/{sku}: 304 while unchanged, 200 with a new ETag after a restock', async () => {
    const sku = await givenProduct(call, { stock: 3 });
    const reader = uniqueCustomer();
    const path = `/products/${sku}`;
    const current = await readEventually(path, reader);
    await expectConditionalGets(path, reader, current);

    const restocked = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 4 } });
    expect(restocked.status, restocked.text).toBe(200);
    const after = await expectStale(path, reader, current.headers.get('etag') ?? '', (a) =>
      expect(a.json.version).toBe(2),
    );
    expect(Product.parse(after.json).stock).toEqual({ available: 7, reserved: 0, sold: 0 });

    // The stock is read from its balance at once, the name and price from the products view, which applies the
    // restock a batching window later: the answer does not change then, and neither does its tag.
    await eventually(
      () => viewVersion(sku),
      (version) => expect(version).toBe(2),
    );
    const later = await get(path, reader, { 'if-none-match': after.headers.get('etag') ?? '' });
    expect(later.status, later.text).toBe(304);
  });

  it('GET /orders: 304 while unchanged, 200 with a new ETag after another order or a cancel', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    const first = await givenOrder(call, customer, sku);
    // The saga settles each order (tok_visa: CONFIRMED); the page is unchanged only from then on.
    const current = await readEventually('/orders', customer, (a) => {
      expect(orderIdsOf(a)).toEqual([first]);
      expect(OrderPage.parse(a.json).orders.map((order) => order.status)).toEqual(['CONFIRMED']);
    });
    await expectConditionalGets('/orders', customer, current);

    const second = await givenOrder(call, customer, sku);
    const afterPlacing = await expectStale('/orders', customer, current.headers.get('etag') ?? '', (a) => {
      expect(orderIdsOf(a)).toEqual([second, first]);
      expect(OrderPage.parse(a.json).orders.map((order) => order.status)).toEqual(['CONFIRMED', 'CONFIRMED']);
    });

    // The same orders with a changed one is a changed page too.
    await cancel(first, customer);
    await expectStale('/orders', customer, afterPlacing.headers.get('etag') ?? '', (a) =>
      expect(OrderPage.parse(a.json).orders.map((order) => order.status)).toEqual(['CONFIRMED', 'CANCELLED']),
    );
  });

  it('GET /orders/{orderId}?at=: carries an ETag and honours If-None-Match too', async () => {
    const customer = uniqueCustomer();
    const orderId = await givenOrder(call, customer, await givenProduct(call));
    const path = withQuery(`/orders/${orderId}`, { at: new Date().toISOString() });
    const current = await get(path, customer);
    expectOk(current);
    await expectConditionalGets(path, customer, current);
  });
});

describe("someone else's order", () => {
  it('is the same 404 as an order that never existed, even with an If-None-Match or `at`; an admin reads it', async () => {
    const [owner, intruder] = [uniqueCustomer(), uniqueCustomer()];
    const orderId = await givenOrder(call, owner, await givenProduct(call));
    // The view exists: the 404 below is about who asks, not about the read model lagging. Settled by the saga
    // (tok_visa: CONFIRMED) first, so the admin's reads below compare with a view that no longer changes.
    const owners = await readEventually(`/orders/${orderId}`, owner, (a) => expect(a.json.status).toBe('CONFIRMED'));
    const etag = owners.headers.get('etag') ?? '';
    const missingId = randomUUID();

    const theirs = await get(`/orders/${orderId}`, intruder);
    const missing = await get(`/orders/${missingId}`, intruder);
    expectProblem(theirs, 404, 'not-found');
    expectProblem(missing, 404, 'not-found');
    expect(shapeOf(theirs.json)).toEqual(shapeOf(missing.json));
    expect(theirs.text).not.toContain(owner);

    // Guessing the ETag must not confirm that the order exists.
    for (const ifNoneMatch of [etag, '*']) {
      expectProblem(await get(`/orders/${orderId}`, intruder, { 'if-none-match': ifNoneMatch }), 404, 'not-found');
    }

    const at = new Date().toISOString();
    const theirsThen = await get(withQuery(`/orders/${orderId}`, { at }), intruder);
    const missingThen = await get(withQuery(`/orders/${missingId}`, { at }), intruder);
    expectProblem(theirsThen, 404, 'not-found');
    expectProblem(missingThen, 404, 'not-found');
    expect(shapeOf(theirsThen.json)).toEqual(shapeOf(theirs.json));

    const byAdmin = await get(`/orders/${orderId}`, admin);
    expectOk(byAdmin);
    expect(byAdmin.json).toEqual(owners.json);
    const byAdminThen = await get(withQuery(`/orders/${orderId}`, { at }), admin);
    expectOk(byAdminThen);
    expect(byAdminThen.json).toEqual(owners.json);
  });

  it('never appears in GET /orders: each customer lists exactly their own orders', async () => {
    const [alice, bob] = [uniqueCustomer(), uniqueCustomer()];
    const sku = await givenProduct(call);
    const alices = [await givenOrder(call, alice, sku), await givenOrder(call, alice, sku)];
    const bobs = [await givenOrder(call, bob, sku)];

    // Both lists are complete (so neither is empty merely because the read model lags) and hold nothing else.
    const alicesList = await readEventually('/orders', alice, (a) => expect(orderIdsOf(a)).toHaveLength(2));
    const bobsList = await readEventually('/orders', bob, (a) => expect(orderIdsOf(a)).toHaveLength(1));
    expect(new Set(orderIdsOf(alicesList))).toEqual(new Set(alices));
    expect(orderIdsOf(bobsList)).toEqual(bobs);
    expect(OrderPage.parse(alicesList.json).orders.every((order) => order.customerId === alice)).toBe(true);
    expect(bobsList.text).not.toContain(alice);
  });
});

describe('GET /orders: pagination', () => {
  it('pages through 7 orders 3 at a time, newest first, each exactly once', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    const placed: string[] = [];
    for (let i = 0; i < 7; i += 1) placed.push(await givenOrder(call, customer, sku));
    await readEventually(withQuery('/orders', { limit: 100 }), customer, (a) => expect(orderIdsOf(a)).toHaveLength(7));

    const pages: OrderPage[] = [];
    let cursor: string | undefined;
    do {
      const answer = await get(withQuery('/orders', { limit: 3, ...(cursor ? { cursor } : {}) }), customer);
      expectOk(answer);
      const page = OrderPage.parse(answer.json);
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 5);

    expect(pages.map((page) => page.orders.length)).toEqual([3, 3, 1]);
    expect(pages.map((page) => page.nextCursor !== undefined)).toEqual([true, true, false]);
    const orders = pages.flatMap((page) => page.orders);
    expect(orders.map((order) => order.orderId)).toEqual([...placed].reverse());
    expect(new Set(orders.map((order) => order.orderId)).size).toBe(7);
    const placedAts = orders.map((order) => order.placedAt);
    expect(placedAts).toEqual([...placedAts].sort().reverse());
    expect(new Set(placedAts).size).toBe(7);
  });

  // `1&limit=2`: sent twice, API Gateway hands the function `1,2`, and so does the local gateway.
  it.each([['0'], ['101'], ['abc'], ['1.5'], [''], ['1e1'], ['0x10'], [' 10'], ['-1'], ['010'], ['0100']])(
    'refuses limit=%j with 400 naming `limit`, each saying the same',
    async (limit) => {
      const answer = await get(`/orders?limit=${limit}`, uniqueCustomer());
      expectParameterError(answer, 'limit');
      expect(answer.json.errors).toEqual([{ parameter: 'limit', detail: 'a whole number from 1 to 100' }]);
    },
  );

  it.each([
    ['/orders?limt=1', 'limt'],
    ['/orders?limit=5&page=2', 'page'],
    ['/orders/00000000-0000-4000-8000-000000000000?at=2026-01-01T00:00:00Z&a=1', 'a'],
    ['/orders/00000000-0000-4000-8000-000000000000/events?at=now', 'at'],
  ])(
    'refuses %s with 400 naming the parameter it does not know, rather than answering as if it were not there',
    async (path, parameter) => {
      const answer = await get(path, uniqueCustomer());
      expectParameterError(answer, parameter);
      expect(answer.json.errors).toEqual([{ parameter, detail: 'Unknown parameter.' }]);
    },
  );

  it.each([
    ['/orders?limit=1&limit=2', 'limit'],
    ['/orders?limit=1&%6Cimit=1', 'limit'],
    ['/orders?customerId=a&customerId=b', 'customerId'],
    ['/products?limit=5&cursor=x&limit=5', 'limit'],
  ])(
    'refuses %s with 400 naming the parameter given twice, rather than reading its values joined by a comma',
    async (path, parameter) => {
      const answer = await get(path, admin);
      expectProblem(answer, 400, 'validation-failed');
      // Named once, for the repetition only: "1,2" is not a number, but that is no value the client sent.
      expect(answer.json.errors).toEqual([{ parameter, detail: 'Given more than once; give it once.' }]);
    },
  );

  it.each([
    ['/orders?customerId=%FF', 'customerId'],
    ['/orders?limit=5&customerId=%ED%A0%80', 'customerId'],
    ['/products?cursor=%E2%82', 'cursor'],
  ])(
    'refuses %s with 400 naming the parameter that is not UTF-8, rather than reading its bytes as U+FFFD',
    async (path, parameter) => {
      const answer = await get(path, admin);
      expectProblem(answer, 400, 'validation-failed');
      expect(answer.json.errors).toEqual([
        { parameter, detail: 'Not UTF-8 once percent-decoded: percent-encode the UTF-8 bytes of each character.' },
      ]);
    },
  );

  it('accepts limit=1 and limit=100, its edges', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    const placed = [await givenOrder(call, customer, sku), await givenOrder(call, customer, sku)];
    await readEventually('/orders', customer, (a) => expect(orderIdsOf(a)).toHaveLength(2));

    const one = await get('/orders?limit=1', customer);
    expectOk(one);
    expect(orderIdsOf(one)).toEqual([placed[1]]);
    expect(OrderPage.parse(one.json).nextCursor).toEqual(expect.any(String));
    const hundred = await get('/orders?limit=100', customer);
    expectOk(hundred);
    expect(orderIdsOf(hundred)).toEqual([...placed].reverse());
  });

  it('refuses a cursor over 2048 characters with 400 naming `cursor`', async () => {
    expectParameterError(await get(withQuery('/orders', { cursor: 'a'.repeat(2049) }), uniqueCustomer()), 'cursor');
  });

  it.each([
    ['not base64url JSON', 'garbage!'],
    ['JSON that is no cursor', Buffer.from('{"hello":"world"}').toString('base64url')],
    ['a JSON array', Buffer.from('[1,2,3]').toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
  ])('answers 422 invalid-cursor for %s', async (_, cursor) => {
    const answer = await get(withQuery('/orders', { cursor }), uniqueCustomer());
    expectProblem(answer, 422, 'invalid-cursor');
  });

  /** The cursor of `customer`'s first page of one order, after two orders. */
  const handedOut = async (customer: string, sku: string) => {
    const placed = [await givenOrder(call, customer, sku), await givenOrder(call, customer, sku)];
    await readEventually('/orders', customer, (a) => expect(orderIdsOf(a)).toHaveLength(2));
    const first = await get('/orders?limit=1', customer);
    expectOk(first);
    const { nextCursor } = OrderPage.parse(first.json);
    if (!nextCursor) throw new Error(`no cursor in ${first.text}`);
    return { placed, cursor: nextCursor };
  };

  it('answers 422 invalid-cursor to a cursor handed out, with its position altered or its encoding changed', async () => {
    const customer = uniqueCustomer();
    const { cursor } = await handedOut(customer, await givenProduct(call));
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const crafted = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const placedAt = new Date().toISOString();

    for (const altered of [
      crafted({ ...position, orderId: '' }),
      crafted({ ...position, placedAt: '' }),
      crafted({ ...position, placedAt: 'yesterday' }),
      crafted({ ...position, orderId: 'x'.repeat(65), placedAt }),
      // A valid instant whose fraction runs to 1,300 digits: past the 1,024 bytes DynamoDB takes in a sort key.
      crafted({ ...position, placedAt: `${placedAt.slice(0, 19)}.${'1'.repeat(1300)}Z` }),
      crafted({ orderId: position.orderId, customer: position.customer }),
      crafted({ ...position, extra: 1 }),
      // Encodings Node's decoder reads as the same bytes, but the listing never hands out.
      `${cursor}@@@`,
      Buffer.from(cursor, 'base64url').toString('base64'),
      `${cursor}=`,
    ]) {
      expectProblem(await get(withQuery('/orders', { cursor: altered }), customer), 422, 'invalid-cursor');
    }
    expectOk(await get(withQuery('/orders', { cursor }), customer));
  });

  it('hands out cursors that fit the limit whatever the subject: 256 characters, each 6 in JSON', async () => {
    const customer = '\u0001'.repeat(256);
    const { placed, cursor } = await handedOut(customer, await givenProduct(call));
    expect(cursor.length).toBeLessThanOrEqual(2048);
    const next = await get(withQuery('/orders', { limit: 1, cursor }), customer);
    expectOk(next);
    expect(orderIdsOf(next)).toEqual([placed[0]]);
  });

  it('answers 422 invalid-cursor to a cursor handed to another customer, which still works for its owner', async () => {
    const [owner, stranger] = [uniqueCustomer(), uniqueCustomer()];
    const sku = await givenProduct(call);
    await givenOrder(call, stranger, sku);
    const { placed, cursor: nextCursor } = await handedOut(owner, sku);

    const forOwner = await get(withQuery('/orders', { limit: 1, cursor: nextCursor }), owner);
    expectOk(forOwner);
    expect(orderIdsOf(forOwner)).toEqual([placed[0]]);

    const forStranger = await get(withQuery('/orders', { limit: 1, cursor: nextCursor }), stranger);
    expectProblem(forStranger, 422, 'invalid-cursor');
    expect(forStranger.text).not.toContain(owner);
  });

  it('lists any customer’s orders to an admin with customerId, page by page; a customer only their own (403 otherwise)', async () => {
    const [owner, stranger] = [uniqueCustomer(), uniqueCustomer()];
    const sku = await givenProduct(call);
    await givenOrder(call, stranger, sku);
    const { placed, cursor } = await handedOut(owner, sku);

    // Support's view: the owner's orders, the same pages and cursors the owner gets.
    const first = await get(withQuery('/orders', { limit: 1, customerId: owner }), admin);
    expectOk(first);
    expect(orderIdsOf(first)).toEqual([placed[1]]);
    expect(OrderPage.parse(first.json).nextCursor).toBe(cursor);
    const second = await get(withQuery('/orders', { limit: 1, customerId: owner, cursor }), admin);
    expectOk(second);
    expect(orderIdsOf(second)).toEqual([placed[0]]);
    expect(OrderPage.parse(second.json).nextCursor).toBeUndefined();
    // The owner's cursor is for the owner's listing only.
    expectProblem(await get(withQuery('/orders', { customerId: stranger, cursor }), admin), 422, 'invalid-cursor');

    // A customer naming themselves lists their own; naming anyone else is refused, and says nothing of them.
    const own = await get(withQuery('/orders', { customerId: owner }), owner);
    expectOk(own);
    expect(orderIdsOf(own)).toEqual([...placed].reverse());
    const refused = await get(withQuery('/orders', { customerId: owner }), stranger);
    expectProblem(refused, 403, 'forbidden');
    expect(refused.text).not.toContain(owner);
    expectParameterError(await get(withQuery('/orders', { customerId: '' }), admin), 'customerId');
  });
});

describe('GET /orders?status=&placedFrom=&placedBefore=: some of a customer’s orders', () => {
  const statusOf = (answer: Answer) => OrderPage.parse(answer.json).orders.map((o) => [o.orderId, o.status]);

  it('lists only the orders in the statuses asked for, newest first, page by page, to the customer and to support', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call, { stock: 2 });
    const [first, second, third] = [
      await givenOrder(call, customer, sku),
      await givenOrder(call, customer, sku),
      // The third finds the two units taken: rejected in its POST.
      await givenOrder(call, customer, sku),
    ];
    await readEventually(`/orders/${second}`, customer, (a) => expect(a.json.status).toBe('CONFIRMED'));
    await cancel(second as string, customer);
    const all = await readEventually('/orders?limit=100', customer, (a) =>
      expect(statusOf(a)).toEqual([
        [third, 'REJECTED'],
        [second, 'CANCELLED'],
        [first, 'CONFIRMED'],
      ]),
    );

    const rejected = await get('/orders?status=REJECTED', customer);
    expectOk(rejected);
    expect(statusOf(rejected)).toEqual([[third, 'REJECTED']]);
    expect(OrderPage.parse(rejected.json).nextCursor).toBeUndefined();
    // A repeated status counts once; the list is in any order.
    const settled = await get(withQuery('/orders', { status: 'CONFIRMED,CANCELLED,CONFIRMED' }), customer);
    expectOk(settled);
    expect(statusOf(settled)).toEqual([
      [second, 'CANCELLED'],
      [first, 'CONFIRMED'],
    ]);
    const pending = await get('/orders?status=PENDING', customer);
    expectOk(pending);
    expect(OrderPage.parse(pending.json)).toEqual({ orders: [] });
    // Another status, another answer: the ETag names what the page holds.
    expect(settled.headers.get('etag')).not.toBe(all.headers.get('etag'));

    // A page at a time: each page's cursor carries on among the same statuses.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const query = { limit: 1, status: 'REJECTED,CONFIRMED', customerId: customer, ...(cursor ? { cursor } : {}) };
      const page = await get(withQuery('/orders', query), admin);
      expectOk(page);
      const parsed = OrderPage.parse(page.json);
      seen.push(...parsed.orders.map((o) => o.orderId));
      cursor = parsed.nextCursor;
    } while (cursor && seen.length < 5);
    expect(seen).toEqual([third, first]);
  });

  it.each([['SHIPPED'], ['confirmed'], [''], ['CONFIRMED,'], [',PENDING'], ['PENDING CONFIRMED']])(
    'refuses status=%j with 400 naming `status` and the statuses there are',
    async (status) => {
      const answer = await get(withQuery('/orders', { status }), uniqueCustomer());
      expectProblem(answer, 400, 'validation-failed');
      expect(answer.json.errors).toEqual([
        { parameter: 'status', detail: 'one or more of PENDING, CONFIRMED, REJECTED, CANCELLED, separated by commas' },
      ]);
    },
  );

  it('lists the orders placed from placedFrom and before placedBefore, whatever offset names them', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    const placed: string[] = [];
    for (let i = 0; i < 3; i += 1) placed.push(await givenOrder(call, customer, sku));
    const all = await readEventually('/orders', customer, (a) => expect(orderIdsOf(a)).toHaveLength(3));
    const [third, second, first] = OrderPage.parse(all.json).orders;
    if (!first || !second || !third) throw new Error(all.text);
    expect([first.orderId, second.orderId, third.orderId]).toEqual(placed);
    // The same instant at +02:00.
    const shifted = (iso: string) => {
      const at = new Date(Date.parse(iso) + 2 * 3600_000).toISOString();
      return `${at.slice(0, 23)}+02:00`;
    };

    const from = await get(withQuery('/orders', { placedFrom: shifted(second.placedAt) }), customer);
    expectOk(from);
    expect(orderIdsOf(from)).toEqual([third.orderId, second.orderId]);
    const before = await get(withQuery('/orders', { placedBefore: second.placedAt }), customer);
    expectOk(before);
    expect(orderIdsOf(before)).toEqual([first.orderId]);
    const between = await get(
      withQuery('/orders', { placedFrom: second.placedAt, placedBefore: third.placedAt, status: 'PENDING,CONFIRMED' }),
      customer,
    );
    expectOk(between);
    expect(orderIdsOf(between)).toEqual([second.orderId]);

    // Page by page within the dates; a cursor naming an order outside them is not this listing's.
    const range = { placedFrom: first.placedAt, placedBefore: third.placedAt, limit: 1 };
    const page = await get(withQuery('/orders', range), customer);
    expectOk(page);
    expect(orderIdsOf(page)).toEqual([second.orderId]);
    const cursor = OrderPage.parse(page.json).nextCursor;
    if (!cursor) throw new Error(page.text);
    const next = await get(withQuery('/orders', { ...range, cursor }), customer);
    expectOk(next);
    expect(orderIdsOf(next)).toEqual([first.orderId]);
    expect(OrderPage.parse(next.json).nextCursor).toBeUndefined();
    const outside = await get(withQuery('/orders', { placedFrom: third.placedAt, cursor }), customer);
    expectProblem(outside, 422, 'invalid-cursor');
  });

  it.each([
    [{ placedFrom: 'yesterday' }, 'placedFrom'],
    [{ placedBefore: '2026-12-01' }, 'placedBefore'],
    [{ placedFrom: '2026-12-01T00:00:00Z', placedBefore: '2026-12-01T00:00:00Z' }, 'placedBefore'],
    [{ placedFrom: '2026-12-02T00:00:00Z', placedBefore: '2026-12-02T01:00:00+02:00' }, 'placedBefore'],
  ])('refuses %j with 400 naming %s', async (query, parameter) => {
    const answer = await get(withQuery('/orders', query), uniqueCustomer());
    expectParameterError(answer, parameter);
  });
});

describe('GET /orders/{orderId}?at=: time travel', () => {
  /** `iso` (a UTC instant) written with a +02:00 offset: the same moment. */
  const inPlusTwo = (iso: string): string =>
    new Date(Date.parse(iso) + 2 * 3_600_000).toISOString().replace('Z', '+02:00');

  const at = (orderId: string, when: string, as: Caller) => get(withQuery(`/orders/${orderId}`, { at: when }), as);

  it('answers the order as it was: PENDING when placed, CONFIRMED before the cancel, CANCELLED after, 404 before it existed', async () => {
    const customer = uniqueCustomer();
    const orderId = await givenOrder(call, customer, await givenProduct(call));
    const placedAt = await recordedAt(orderId, customer, 1);
    // Placement reserves its stock (version 2, at the same instant); the saga confirms it (version 3) before the
    // cancel (version 4).
    await readEventually(`/orders/${orderId}`, customer, (a) => expect(a.json.status).toBe('CONFIRMED'));
    await cancel(orderId, customer);
    const cancelledAt = await recordedAt(orderId, customer, 4);
    expect(Date.parse(cancelledAt)).toBeGreaterThan(Date.parse(placedAt));

    // The event store is read directly: no waiting for the read model.
    const then = await at(orderId, placedAt, customer);
    expectOk(then);
    expect(then.json).toMatchObject({ orderId, status: 'PENDING', placedAt, updatedAt: placedAt, version: 2 });
    expect(then.json).not.toHaveProperty('cancelledAt');

    const justBeforeCancel = await at(orderId, new Date(Date.parse(cancelledAt) - 1).toISOString(), customer);
    expectOk(justBeforeCancel);
    expect(justBeforeCancel.json).toMatchObject({ orderId, status: 'CONFIRMED', placedAt, version: 3 });

    const withOffset = await at(orderId, inPlusTwo(placedAt), customer);
    expectOk(withOffset);
    expect(withOffset.json).toEqual(then.json);

    const now = await at(orderId, new Date().toISOString(), customer);
    expectOk(now);
    expect(now.json).toMatchObject({ orderId, status: 'CANCELLED', cancelledAt, updatedAt: cancelledAt, version: 4 });

    // Time travel and the read model fold the same events the same way.
    const current = await readEventually(`/orders/${orderId}`, customer, (a) => expect(a.json.version).toBe(4));
    expect(now.json).toEqual(current.json);

    const before = await at(orderId, new Date(Date.parse(placedAt) - 1).toISOString(), customer);
    expectProblem(before, 404, 'not-found');
  });

  it.each([['not-a-date'], ['2024-13-01T00:00:00Z'], ['2024-01-01'], ['2024-01-01T15:00:00'], ['']])(
    'refuses at=%j with 400 naming `at` and the form it takes',
    async (when) => {
      const answer = await get(`/orders/${randomUUID()}?at=${encodeURIComponent(when)}`, uniqueCustomer());
      expectParameterError(answer, 'at');
      expect(JSON.stringify(answer.json.errors)).toContain('date and time with Z or an offset');
      expect(JSON.stringify(answer.json.errors)).not.toContain('%2B');
    },
  );

  it('says so when an offset’s + came as a space, as a query string reads a + sent unencoded', async () => {
    const answer = await get(`/orders/${randomUUID()}?at=2026-12-01T15:00:00+01:00`, uniqueCustomer());
    expectParameterError(answer, 'at');
    expect(JSON.stringify(answer.json.errors)).toContain('an offset’s + arrives as a space unless it is sent as %2B');
  });
});
