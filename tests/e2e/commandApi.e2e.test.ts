import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { routes } from '../../api/routes.js';
import { OrderAccepted, OrderHistory, Product } from '../../api/responses.js';
import { orderIdForKey } from '../../application/orders.js';
import { confirmOrder } from '../../application/saga.js';
import { CATALOGUE_FRESH_MS, registerProduct } from '../../application/products.js';
import { eventually } from '../support/eventually.js';
import { localStack, testMetadata } from '../support/stack.js';
import {
  admin,
  expectProblem,
  givenOrder,
  givenProduct,
  storedEvents,
  uniqueCustomer,
  uniqueSku,
  useTestApi,
} from './http.js';

const { call, api } = useTestApi();

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const payment = { token: 'tok_visa' };

/**
 * The path of the catalogue's page that lists `sku`, or undefined when no page does. The listing is in SKU order and
 * holds every product the suite registered, so another test's products may fill the pages before it.
 */
const pageListing = async (sku: string): Promise<string | undefined> => {
  for (let path: string | undefined = '/products?limit=100'; path;) {
    const page = await call('GET', path, { as: admin });
    if ((page.json as { products: { sku: string }[] }).products.some((product) => product.sku === sku)) return path;
    const next = (page.json as { nextCursor?: string }).nextCursor;
    path = next === undefined ? undefined : `/products?limit=100&cursor=${encodeURIComponent(next)}`;
  }
  return undefined;
};

const historyOf = async (orderId: string, as: string | { admin: string }) => {
  const answer = await call('GET', `/orders/${orderId}/events`, { as });
  expect(answer.status, answer.text).toBe(200);
  return OrderHistory.parse(answer.json).events;
};

/** An order's OrderPlaced events: the saga may append what follows them while a test reads. */
const placedEvents = async (orderId: string) =>
  (await storedEvents(`order-${orderId}`)).filter((event) => event.type === 'OrderPlaced');

describe('POST /products', () => {
  it('registers a product for an admin: 201 with the product and its Location', async () => {
    const sku = uniqueSku();
    const answer = await call('POST', '/products', {
      as: admin,
      body: { sku, name: 'Espresso cup', price: { amount: 1250, currency: 'EUR' }, stock: 7 },
    });

    expect(answer.status).toBe(201);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('location')).toBe(`/products/${sku}`);
    expect(Product.parse(answer.json)).toEqual({
      sku,
      name: 'Espresso cup',
      price: { amount: 1250, currency: 'EUR' },
      stock: { available: 7, reserved: 0, sold: 0 },
      version: 1,
      discontinued: false,
    });
    // Its Location answers at once, before the products projection (a batching window behind) has its view.
    const read = await call('GET', `/products/${sku}`, { as: admin });
    expect(read.status, read.text).toBe(200);
    expect(Product.parse(read.json)).toEqual(Product.parse(answer.json));
  });

  it('refuses a SKU that is already registered with 409', async () => {
    const sku = await givenProduct(call);
    const answer = await call('POST', '/products', {
      as: admin,
      body: { sku, name: 'Another', price: { amount: 1, currency: 'EUR' }, stock: 1 },
    });
    expectProblem(answer, 409, 'product-already-registered');
    expect(answer.json.detail).toContain(sku);
  });

  it('answers a late retry sent with its Idempotency-Key with the product as it is now, and refuses the key for another registration (ADR 0026)', async () => {
    const sku = uniqueSku();
    const key = `catalogue-${randomUUID()}`;
    const eur = (amount: number) => ({ amount, currency: 'EUR' });
    const body = { sku, name: 'Espresso cup', price: eur(1250), stock: 7 };
    const register = (sent: object, idempotencyKey = key) =>
      call('POST', '/products', { as: admin, body: sent, headers: { 'idempotency-key': idempotencyKey } });
    expect((await register(body)).status).toBe(201);
    // Its answer lost, the registration is sent again after another admin gave the product a new price.
    expect((await call('POST', `/products/${sku}/reprice`, { as: admin, body: { price: eur(990) } })).status).toBe(200);
    const retry = await register(body);
    expect(retry.status, retry.text).toBe(201);
    expect(retry.headers.get('location')).toBe(`/products/${sku}`);
    expect(Product.parse(retry.json)).toEqual({
      sku,
      name: 'Espresso cup',
      price: eur(990),
      stock: { available: 7, reserved: 0, sold: 0 },
      version: 1,
      discontinued: false,
    });
    const reused = await register({ ...body, stock: 8 });
    expectProblem(reused, 422, 'registration-key-reused');
    expect(reused.json.detail).toContain(sku);
    expectProblem(await register(body, `catalogue-${randomUUID()}`), 409, 'product-already-registered');
    expectProblem(await register(body, 'a key with spaces'), 400, 'validation-failed');
    // Sent several times at once, a new SKU's keyed registration is recorded once, and each copy answered as it.
    const raced = { ...body, sku: uniqueSku() };
    const answers = await Promise.all(Array.from({ length: 6 }, () => register(raced)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(201));
    expect((await storedEvents(`product-${raced.sku}`)).map((event) => event.type)).toEqual(['ProductRegistered']);
    expect((await storedEvents(`product-${sku}`)).map((event) => [event.type, event.data])).toEqual([
      ['ProductRegistered', { sku, name: 'Espresso cup', unitPrice: eur(1250), initialStock: 7, registrationId: key }],
      ['ProductRepriced', { sku, unitPrice: eur(990) }],
    ]);
  });
});

describe('POST /products/{sku}/restock', () => {
  it('adds units and answers 200 with the new stock figures', async () => {
    const sku = await givenProduct(call, { stock: 10 });

    const first = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 5 } });
    expect(first.status, first.text).toBe(200);
    expect(first.json).toEqual({ sku, stock: { available: 15, reserved: 0, sold: 0 }, version: 2 });

    const second = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 1 } });
    expect(second.json).toEqual({ sku, stock: { available: 16, reserved: 0, sold: 0 }, version: 3 });
  });

  it('adds the units once for a restock sent again with its Idempotency-Key, and refuses the key for another quantity', async () => {
    const sku = await givenProduct(call, { stock: 10 });
    const restock = (quantity: number, key: string) =>
      call('POST', `/products/${sku}/restock`, {
        as: admin,
        body: { quantity },
        headers: { 'idempotency-key': key },
      });
    const key = `restock-${randomUUID()}`;
    const first = await restock(5, key);
    expect(first.json).toEqual({ sku, stock: { available: 15, reserved: 0, sold: 0 }, version: 2 });
    // The answer to the first was lost, say: the retry adds nothing and answers the figures as they are now.
    const retry = await restock(5, key);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.json).toEqual(first.json);
    expectProblem(await restock(6, key), 422, 'restock-key-reused');
    expect((await restock(5, `restock-${randomUUID()}`)).json).toMatchObject({ stock: { available: 20 }, version: 3 });
    expect((await storedEvents(`product-${sku}`)).map((item) => item.type)).toEqual([
      'ProductRegistered',
      'ProductRestocked',
      'ProductRestocked',
    ]);
    expectProblem(await restock(5, 'a key with spaces'), 400, 'validation-failed');
  });

  it('answers 404 for a SKU that was never registered', async () => {
    const answer = await call('POST', `/products/${uniqueSku()}/restock`, { as: admin, body: { quantity: 5 } });
    expectProblem(answer, 404, 'not-found');
  });

  it('answers 422 for a restock past the most units a product is ever supplied, and the product still reads', async () => {
    // Registered through the application, since the API takes at most 1,000,000 units a call: a catalogue that long
    // supplied would take a thousand restocks.
    const sku = uniqueSku();
    const price = { amount: 100, currency: 'EUR' };
    await registerProduct(
      { sku, name: 'Long supplied', price, stock: 999_999_999 },
      { store: localStack().store(), metadata: testMetadata() },
    );
    const answer = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 2 } });
    expectProblem(answer, 422, 'stock-limit-exceeded');
    expect(answer.json.detail).toContain(sku);
    const last = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 1 } });
    expect(last.json).toMatchObject({ sku, stock: { available: 1_000_000_000 } });
    // The products view holds what was supplied, at the limit now: the product still reads.
    await eventually(async () => {
      const read = await call('GET', `/products/${sku}`, { as: admin });
      expect(read.status, read.text).toBe(200);
      expect(Product.parse(read.json)).toMatchObject({ stock: { available: 1_000_000_000 }, version: 2 });
    });
  });
});

describe('POST /products/{sku}/write-off', () => {
  it('takes units out of the available stock for good, and none an order holds', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const held = await givenOrder(call, uniqueCustomer(), sku);
    const answer = await call('POST', `/products/${sku}/write-off`, { as: admin, body: { quantity: 2 } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ sku, stock: { available: 2 } });
    // The order's unit is held (reserved, or sold by now): of 3 available, 3 more cannot go.
    const tooMany = await call('POST', `/products/${sku}/write-off`, { as: admin, body: { quantity: 3 } });
    expectProblem(tooMany, 422, 'write-off-exceeds-available');
    expect(tooMany.json.detail).toContain('2 units available');
    expect((await storedEvents(`product-${sku}`)).map((event) => event.type)).toEqual([
      'ProductRegistered',
      'StockWrittenOff',
    ]);
    // The order it could not touch goes on: confirmed, with its unit sold.
    await eventually(async () => {
      const read = await call('GET', `/products/${sku}`, { as: admin });
      expect(Product.parse(read.json).stock).toEqual({ available: 2, reserved: 0, sold: 1 });
    });
    expect((await call('GET', `/orders/${held}`, { as: admin })).json).toMatchObject({ status: 'CONFIRMED' });
  });

  it('takes the units once for a write-off sent again with its Idempotency-Key, and refuses the key for another quantity', async () => {
    const sku = await givenProduct(call, { stock: 10 });
    const headers = { 'idempotency-key': `count-${randomUUID()}` };
    const first = await call('POST', `/products/${sku}/write-off`, { as: admin, headers, body: { quantity: 4 } });
    const again = await call('POST', `/products/${sku}/write-off`, { as: admin, headers, body: { quantity: 4 } });
    expect(first.json).toEqual({ sku, stock: { available: 6, reserved: 0, sold: 0 }, version: 2 });
    expect(again.json).toEqual(first.json);
    const other = await call('POST', `/products/${sku}/write-off`, { as: admin, headers, body: { quantity: 5 } });
    expectProblem(other, 422, 'write-off-key-reused');
    expect(await storedEvents(`product-${sku}`)).toHaveLength(2);
  });

  it('answers 404 for a SKU never registered, 400 for a quantity that is not one, and 403 to a customer', async () => {
    const body = { quantity: 1 };
    expectProblem(await call('POST', `/products/${uniqueSku()}/write-off`, { as: admin, body }), 404, 'not-found');
    const sku = await givenProduct(call);
    for (const quantity of [0, -1, 1.5, 1_000_001]) {
      const answer = await call('POST', `/products/${sku}/write-off`, { as: admin, body: { quantity } });
      expectProblem(answer, 400, 'validation-failed');
    }
    expectProblem(await call('POST', `/products/${sku}/write-off`, { as: uniqueCustomer(), body }), 403, 'forbidden');
    expect(await storedEvents(`product-${sku}`)).toHaveLength(1);
  });
});

describe('POST /products/{sku}/reprice', () => {
  const eur = (amount: number) => ({ amount, currency: 'EUR' });
  const placedLine = async (orderId: string) => (await placedEvents(orderId))[0]?.data;

  it('prices the orders placed from then on at the new price; an order placed before keeps its own', async () => {
    const sku = await givenProduct(call, { price: eur(1000) });
    const before = await givenOrder(call, uniqueCustomer(), sku);

    const answer = await call('POST', `/products/${sku}/reprice`, { as: admin, body: { price: eur(1500) } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({ sku, name: `Product ${sku}`, price: eur(1500), discontinued: false });
    // A placement prices from what its function read of the product less than a second ago (ADR 0022).
    await new Promise((resolve) => setTimeout(resolve, CATALOGUE_FRESH_MS + 100));
    const after = await givenOrder(call, uniqueCustomer(), sku);

    expect(await placedLine(after)).toMatchObject({
      lines: [{ sku, quantity: 1, unitPrice: eur(1500) }],
      total: eur(1500),
    });
    expect(await placedLine(before)).toMatchObject({
      lines: [{ sku, quantity: 1, unitPrice: eur(1000) }],
      total: eur(1000),
    });
    await eventually(async () => {
      const read = await call('GET', `/products/${sku}`, { as: admin });
      expect(Product.parse(read.json)).toMatchObject({ price: eur(1500), stock: { available: 98 } });
    });
  });

  it('tells a client holding the old price that it changed: the product’s ETag and its page’s move', async () => {
    const sku = await givenProduct(call, { price: eur(1000) });
    const read = (path: string, etag = '') => call('GET', path, { as: admin, headers: { 'if-none-match': etag } });
    // What a client holds of the product and of a page listing it, checked current (other products may move).
    const held = await eventually(async () => {
      const pagePath = await pageListing(sku);
      if (pagePath === undefined) throw new Error(`${sku} is not listed yet`);
      const [one, page] = [await read(`/products/${sku}`), await read(pagePath)];
      const etags = { one: one.headers.get('etag') ?? '', page: page.headers.get('etag') ?? '', pagePath };
      expect([(await read(`/products/${sku}`, etags.one)).status, (await read(pagePath, etags.page)).status]).toEqual([
        304, 304,
      ]);
      return etags;
    });

    // The same amount in another currency: a new price all the same.
    const dollars = { amount: 1000, currency: 'USD' };
    await call('POST', `/products/${sku}/reprice`, { as: admin, body: { price: dollars } });

    // No stock moved: only the price tells the representations apart.
    const again = await eventually(async () => {
      const answer = await read(`/products/${sku}`, held.one);
      expect(answer.status).toBe(200);
      expect(Product.parse(answer.json)).toMatchObject({ price: dollars, version: 1 });
      return answer;
    });
    expect(again.headers.get('etag')).not.toBe(held.one);
    expect((await read(held.pagePath, held.page)).status).toBe(200);
  });

  it('records nothing for the price the product has already, and answers the same', async () => {
    const sku = await givenProduct(call, { price: eur(1000) });
    for (const price of [eur(1000), eur(700), eur(700)]) {
      const answer = await call('POST', `/products/${sku}/reprice`, { as: admin, body: { price } });
      expect(answer.json, answer.text).toEqual({ sku, name: `Product ${sku}`, price, discontinued: false });
    }
    expect((await storedEvents(`product-${sku}`)).map((event) => event.type)).toEqual([
      'ProductRegistered',
      'ProductRepriced',
    ]);
  });

  it('keeps a later price from a late retry sent with its Idempotency-Key, and refuses the key for another price', async () => {
    const sku = await givenProduct(call, { price: eur(1000) });
    const reprice = (price: { amount: number; currency: string }, key?: string) =>
      call('POST', `/products/${sku}/reprice`, {
        as: admin,
        body: { price },
        ...(key ? { headers: { 'idempotency-key': key } } : {}),
      });
    const key = `price-list-${randomUUID()}`;
    expect((await reprice(eur(1200), key)).json).toEqual({
      sku,
      name: `Product ${sku}`,
      price: eur(1200),
      discontinued: false,
    });
    // Another admin's price lands; then the first call's answer, lost, is sent again: the later price stays.
    expect((await reprice(eur(900))).status).toBe(200);
    const retry = await reprice(eur(1200), key);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.json).toEqual({ sku, name: `Product ${sku}`, price: eur(900), discontinued: false });
    expectProblem(await reprice(eur(1300), key), 422, 'reprice-key-reused');
    // Keyed at the price it has: recorded all the same, so that its own late retry cannot undo a later price.
    const same = `price-same-${randomUUID()}`;
    expect((await reprice(eur(900), same)).json).toMatchObject({ price: eur(900) });
    expect((await reprice(eur(800))).status).toBe(200);
    expect((await reprice(eur(900), same)).json).toMatchObject({ price: eur(800) });
    const recorded = await storedEvents(`product-${sku}`);
    expect(recorded.map((event) => [event.type, (event.data as { unitPrice: unknown }).unitPrice])).toEqual([
      ['ProductRegistered', eur(1000)],
      ['ProductRepriced', eur(1200)],
      ['ProductRepriced', eur(900)],
      ['ProductRepriced', eur(900)],
      ['ProductRepriced', eur(800)],
    ]);
    expectProblem(await reprice(eur(100), 'a key with spaces'), 400, 'validation-failed');
  });

  it.each([
    ['a price with no currency', { price: { amount: 100 } }, '#/price/currency'],
    ['a currency ISO 4217 does not list', { price: { amount: 100, currency: 'EUE' } }, '#/price/currency'],
    ['a negative amount', { price: { amount: -1, currency: 'EUR' } }, '#/price/amount'],
    ['a quantity instead', { quantity: 5 }, '#/quantity'],
  ])('refuses %s with 400 naming the field, and records nothing', async (_, body, pointer) => {
    const sku = await givenProduct(call);
    const answer = await call('POST', `/products/${sku}/reprice`, { as: admin, body });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer })]));
    expect(await storedEvents(`product-${sku}`)).toHaveLength(1);
  });

  it('answers 404 for a SKU never registered, and 403 to a customer', async () => {
    const body = { price: eur(100) };
    expectProblem(await call('POST', `/products/${uniqueSku()}/reprice`, { as: admin, body }), 404, 'not-found');
    const sku = await givenProduct(call);
    expectProblem(await call('POST', `/products/${sku}/reprice`, { as: uniqueCustomer(), body }), 403, 'forbidden');
    expect(await storedEvents(`product-${sku}`)).toHaveLength(1);
  });
});

describe('POST /products/{sku}/rename', () => {
  const rename = (sku: string, name: string, key?: string) =>
    call('POST', `/products/${sku}/rename`, {
      as: admin,
      body: { name },
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });

  it('renames the product as GET and the listing show it, and tells a client holding the old name that it changed', async () => {
    const sku = await givenProduct(call);
    const read = (path: string, etag = '') => call('GET', path, { as: admin, headers: { 'if-none-match': etag } });
    const pageOf = await eventually(async () => {
      const path = await pageListing(sku);
      if (path === undefined) throw new Error(`${sku} is not listed yet`);
      return path;
    });
    const held = await eventually(async () => {
      const [one, page] = [await read(`/products/${sku}`), await read(pageOf)];
      expect(page.text).toContain(sku);
      return { one: one.headers.get('etag') ?? '', page: page.headers.get('etag') ?? '' };
    });

    const answer = await rename(sku, '  Cobalt mug, 350 ml ');
    expect(answer.status, answer.text).toBe(200);
    // Trimmed, as a registration's name is.
    expect(answer.json).toEqual({
      sku,
      name: 'Cobalt mug, 350 ml',
      price: { amount: 1000, currency: 'EUR' },
      discontinued: false,
    });
    await eventually(async () => {
      const one = await read(`/products/${sku}`, held.one);
      expect(one.status).toBe(200);
      expect(Product.parse(one.json)).toMatchObject({ name: 'Cobalt mug, 350 ml', stock: { available: 100 } });
      // The listing reads the bySku index, which holds the name: it moves with the view.
      const page = await read(pageOf);
      expect(page.json).toMatchObject({ products: expect.arrayContaining([expect.objectContaining({ sku })]) });
      const listed = (page.json as { products: { sku: string; name: string }[] }).products.find((p) => p.sku === sku);
      expect(listed?.name).toBe('Cobalt mug, 350 ml');
    });
    // A page that held the old name is not answered 304, however little else moved on it.
    expect((await read(pageOf, held.page)).status).toBe(200);
    expect((await storedEvents(`product-${sku}`)).map((event) => event.type)).toEqual([
      'ProductRegistered',
      'ProductRenamed',
    ]);
  });

  it('names the orders placed from then on by the new name; an order placed before keeps the name it was sold by', async () => {
    const sku = await givenProduct(call);
    const customer = uniqueCustomer();
    const before = await givenOrder(call, customer, sku);
    expect((await rename(sku, 'Cobalt mug')).status).toBe(200);
    // A placement names its lines from what its function read of the product less than a second ago (ADR 0030).
    await new Promise((resolve) => setTimeout(resolve, CATALOGUE_FRESH_MS + 100));
    const after = await givenOrder(call, customer, sku);

    const namesOf = async (orderId: string) => {
      const answer = await call('GET', `/orders/${orderId}`, { as: customer });
      expect(answer.status, answer.text).toBe(200);
      return (answer.json as { lines: { name?: string }[] }).lines.map((line) => line.name);
    };
    expect(await namesOf(before)).toEqual([`Product ${sku}`]);
    expect(await namesOf(after)).toEqual(['Cobalt mug']);
    // And the read model, once it has both: the listing shows each line by the name it was sold by.
    await eventually(async () => {
      const page = await call('GET', '/orders', { as: customer });
      const orders = (page.json as { orders: { orderId: string; lines: { name?: string }[] }[] }).orders;
      expect(orders.map((o) => [o.orderId, o.lines.map((line) => line.name)])).toEqual([
        [after, ['Cobalt mug']],
        [before, [`Product ${sku}`]],
      ]);
    });
  });

  it('keeps a later name from a late retry sent with its Idempotency-Key, and refuses the key for another name', async () => {
    const sku = await givenProduct(call);
    const key = `names-${randomUUID()}`;
    expect((await rename(sku, 'Cobalt mug', key)).json).toMatchObject({ name: 'Cobalt mug' });
    expect((await rename(sku, 'Navy mug')).status).toBe(200);
    // Unkeyed, the name it has already records nothing.
    expect((await rename(sku, 'Navy mug')).status).toBe(200);
    const retry = await rename(sku, 'Cobalt mug', key);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.json).toMatchObject({ name: 'Navy mug' });
    expectProblem(await rename(sku, 'Teal mug', key), 422, 'rename-key-reused');
    expect(
      (await storedEvents(`product-${sku}`)).map((event) => [event.type, (event.data as { name: string }).name]),
    ).toEqual([
      ['ProductRegistered', `Product ${sku}`],
      ['ProductRenamed', 'Cobalt mug'],
      ['ProductRenamed', 'Navy mug'],
    ]);
  });

  it.each([
    ['an empty name', { name: '' }, '#/name'],
    ['a name of spaces', { name: '   ' }, '#/name'],
    ['a name of 201 characters', { name: 'x'.repeat(201) }, '#/name'],
    ['a name with a line break inside', { name: 'Blue\nmug' }, '#/name'],
    ['a price instead', { price: { amount: 100, currency: 'EUR' } }, '#/price'],
  ])('refuses %s with 400 naming the field, and records nothing', async (_, body, pointer) => {
    const sku = await givenProduct(call);
    const answer = await call('POST', `/products/${sku}/rename`, { as: admin, body });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer })]));
    expect(await storedEvents(`product-${sku}`)).toHaveLength(1);
  });

  it('answers 404 for a SKU never registered, and 403 to a customer', async () => {
    const body = { name: 'Mug' };
    expectProblem(await call('POST', `/products/${uniqueSku()}/rename`, { as: admin, body }), 404, 'not-found');
    const sku = await givenProduct(call);
    expectProblem(await call('POST', `/products/${sku}/rename`, { as: uniqueCustomer(), body }), 403, 'forbidden');
    expect(await storedEvents(`product-${sku}`)).toHaveLength(1);
  });
});

describe('POST /products/{sku}/discontinue', () => {
  const discontinue = (sku: string, as: string | { admin: string } = admin) =>
    call('POST', `/products/${sku}/discontinue`, { as });
  const order = (sku: string, key?: string) =>
    call('POST', '/orders', {
      as: 'customer-discontinued',
      body: { items: [{ sku, quantity: 1 }], payment },
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });

  it('sells the product no more: new orders and restocks refused, orders before it settle, the listing leaves it out', async () => {
    const sku = await givenProduct(call);
    const key = `before-${randomUUID()}`;
    const before = await order(sku, key);
    expect(before.status, before.text).toBe(202);
    await eventually(async () => expect(await pageListing(sku)).toBeDefined());

    const answer = await discontinue(sku);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({
      sku,
      name: `Product ${sku}`,
      price: { amount: 1000, currency: 'EUR' },
      discontinued: true,
    });
    // Again, however late: the same answer, and nothing more recorded.
    expect((await discontinue(sku)).json).toEqual(answer.json);

    // From about a second on (what placement caches of the catalogue), a new order is refused and writes nothing.
    await new Promise((resolve) => setTimeout(resolve, CATALOGUE_FRESH_MS + 100));
    const refused = await order(sku);
    expectProblem(refused, 422, 'product-discontinued');
    expect(refused.json.detail).toContain(sku);
    // The order placed before it, sent again under its key, is answered as it stands; it settles as it would have.
    const retried = await order(sku, key);
    expect(retried.status, retried.text).toBe(202);
    expect(retried.json.orderId).toBe(before.json.orderId);
    await eventually(async () =>
      expect((await call('GET', `/orders/${String(before.json.orderId)}`, { as: admin })).json.status).toBe(
        'CONFIRMED',
      ),
    );
    expectProblem(
      await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 5 } }),
      422,
      'product-discontinued',
    );
    // What is left is written off.
    const writtenOff = await call('POST', `/products/${sku}/write-off`, { as: admin, body: { quantity: 99 } });
    expect(writtenOff.json).toMatchObject({ stock: { available: 0, reserved: 0, sold: 1 } });

    await eventually(async () => {
      const one = await call('GET', `/products/${sku}`, { as: admin });
      expect(Product.parse(one.json)).toMatchObject({ sku, discontinued: true, stock: { available: 0, sold: 1 } });
      expect(await pageListing(sku)).toBeUndefined();
    });
    const types = (await storedEvents(`product-${sku}`)).map((event) => event.type);
    expect(types).toEqual(['ProductRegistered', 'ProductDiscontinued', 'StockWrittenOff']);
  });

  it('answers 404 for a SKU never registered, and 403 to a customer', async () => {
    expectProblem(await discontinue(uniqueSku()), 404, 'not-found');
    const sku = await givenProduct(call);
    expectProblem(await discontinue(sku, uniqueCustomer()), 403, 'forbidden');
    expect(await storedEvents(`product-${sku}`)).toHaveLength(1);
  });
});

describe('POST /orders', () => {
  it('accepts an order: 202 with its id, PENDING, and Location /orders/{orderId}', async () => {
    const sku = await givenProduct(call);
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: { items: [{ sku, quantity: 2 }], payment },
    });

    expect(answer.status, answer.text).toBe(202);
    const accepted = OrderAccepted.parse(answer.json);
    expect(accepted).toEqual({
      orderId: expect.stringMatching(uuid),
      status: 'PENDING',
      lines: [{ sku, name: `Product ${sku}`, quantity: 2, unitPrice: { amount: 1000, currency: 'EUR' } }],
      total: { amount: 2000, currency: 'EUR' },
    });
    expect(answer.headers.get('location')).toBe(`/orders/${accepted.orderId}`);
  });

  it('prices and names the order from the products, never from the request', async () => {
    const cup = await givenProduct(call, { price: { amount: 1250, currency: 'EUR' } });
    const saucer = await givenProduct(call, { price: { amount: 399, currency: 'EUR' } });
    const customer = uniqueCustomer();
    const orderId = await (async () => {
      const answer = await call('POST', '/orders', {
        as: customer,
        body: {
          items: [
            { sku: cup, quantity: 2 },
            { sku: saucer, quantity: 3 },
          ],
          payment,
        },
      });
      expect(answer.status, answer.text).toBe(202);
      // The answer says what the order costs, as priced here.
      expect(OrderAccepted.parse(answer.json)).toMatchObject({
        status: 'PENDING',
        lines: [
          { sku: cup, name: `Product ${cup}`, quantity: 2, unitPrice: { amount: 1250, currency: 'EUR' } },
          { sku: saucer, name: `Product ${saucer}`, quantity: 3, unitPrice: { amount: 399, currency: 'EUR' } },
        ],
        total: { amount: 2 * 1250 + 3 * 399, currency: 'EUR' },
      });
      return OrderAccepted.parse(answer.json).orderId;
    })();

    const [placed, reserved] = await historyOf(orderId, customer);
    expect(placed).toMatchObject({ type: 'OrderPlaced', version: 1 });
    // Placement reserved the stock in the same write (ADR 0014).
    expect(reserved).toMatchObject({ type: 'StockReserved', version: 2 });
    expect(placed?.data).toEqual({
      orderId,
      customerId: customer,
      lines: [
        { sku: cup, name: `Product ${cup}`, quantity: 2, unitPrice: { amount: 1250, currency: 'EUR' } },
        { sku: saucer, name: `Product ${saucer}`, quantity: 3, unitPrice: { amount: 399, currency: 'EUR' } },
      ],
      total: { amount: 2 * 1250 + 3 * 399, currency: 'EUR' },
    });
    // The gateway needs the token; the history never shows it.
    expect(JSON.stringify(placed)).not.toContain('tok_visa');
  });

  it('refuses a client-sent price as an unknown field (400)', async () => {
    const sku = await givenProduct(call);
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: {
        items: [{ sku, quantity: 1, unitPrice: { amount: 1, currency: 'EUR' } }],
        payment,
        total: { amount: 1, currency: 'EUR' },
      },
    });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual(
      expect.arrayContaining([
        { pointer: '#/items/0/unitPrice', detail: 'Unknown field.' },
        { pointer: '#/total', detail: 'Unknown field.' },
      ]),
    );
  });

  it('answers 422 for an unknown SKU, naming it', async () => {
    const known = await givenProduct(call);
    const unknown = uniqueSku();
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: {
        items: [
          { sku: known, quantity: 1 },
          { sku: unknown, quantity: 1 },
        ],
        payment,
      },
    });
    expectProblem(answer, 422, 'unknown-sku');
    expect(answer.json.detail).toContain(unknown);
    expect(answer.json.detail).not.toContain(known);
  });

  it('answers 422 for products priced in different currencies', async () => {
    const euros = await givenProduct(call, { price: { amount: 100, currency: 'EUR' } });
    const dollars = await givenProduct(call, { price: { amount: 100, currency: 'USD' } });
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: {
        items: [
          { sku: euros, quantity: 1 },
          { sku: dollars, quantity: 1 },
        ],
        payment,
      },
    });
    expectProblem(answer, 422, 'mixed-currencies');
  });
});

describe('POST /orders: one line per product', () => {
  it('answers 422 for an order that lists the same SKU twice', async () => {
    const sku = await givenProduct(call);
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: {
        items: [
          { sku, quantity: 1 },
          { sku, quantity: 2 },
        ],
        payment,
      },
    });
    expectProblem(answer, 422, 'duplicate-order-line');
    expect(answer.json.detail).toContain(sku);
  });

  it('answers duplicate-order-line for a SKU listed twice even when it names no product', async () => {
    const sku = uniqueSku();
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: {
        items: [
          { sku, quantity: 1 },
          { sku, quantity: 1 },
        ],
        payment,
      },
    });
    expectProblem(answer, 422, 'duplicate-order-line');
  });
});

describe('POST /orders/{orderId}/cancel', () => {
  it('refuses a customer a confirmed order past the cancellation window (409), and lets support cancel it', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    // Confirmed two days ago, as the saga would have (its own steps then find the order settled, and stop). Should
    // the saga confirm it first, on a busy machine, a new order is taken.
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    let orderId = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      orderId = await givenOrder(call, customer, sku);
      await confirmOrder(orderId, { store: localStack().store(), metadata: testMetadata(), now: twoDaysAgo });
      const confirmation = (await storedEvents(`order-${orderId}`)).find(({ type }) => type === 'OrderConfirmed');
      if ((confirmation?.data as { confirmedAt?: string } | undefined)?.confirmedAt === twoDaysAgo.toISOString()) break;
    }
    // The order says until when it could be cancelled: a day after its confirmation, gone by.
    const closedAt = new Date(twoDaysAgo.getTime() + 24 * 3600_000).toISOString();
    await eventually(async () => {
      const read = await call('GET', `/orders/${orderId}`, { as: customer });
      expect(read.json).toMatchObject({ status: 'CONFIRMED', cancellableUntil: closedAt });
      const page = await call('GET', '/orders?limit=100', { as: customer });
      expect(page.json).toMatchObject({
        orders: expect.arrayContaining([expect.objectContaining({ orderId, cancellableUntil: closedAt })]),
      });
    });
    const refused = await call('POST', `/orders/${orderId}/cancel`, { as: customer });
    expectProblem(refused, 409, 'cancellation-window-closed');
    expect(refused.json.detail).toContain(closedAt);
    expect((await historyOf(orderId, customer)).map(({ type }) => type)).not.toContain('OrderCancelled');
    const bySupport = await call('POST', `/orders/${orderId}/cancel`, { as: admin });
    expect(bySupport.status, bySupport.text).toBe(202);
    expect(bySupport.json).toMatchObject({ status: 'CANCELLED' });
  });

  it('cancels a PENDING order (202), then refuses to cancel it again (409)', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    // The saga races the cancel and, on a busy machine, may confirm the order first: then that order is cancelled
    // CONFIRMED, which another test covers, and this one takes a new order, until a cancel finds one PENDING.
    let orderId = '';
    let cancelled: Awaited<ReturnType<typeof call>> | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      orderId = await givenOrder(call, customer, sku);
      cancelled = await call('POST', `/orders/${orderId}/cancel`, { as: customer });
      const [, , third] = await historyOf(orderId, customer);
      if (third?.type === 'OrderCancelled' && third.data.previousStatus === 'PENDING') break;
    }
    if (!cancelled) throw new Error('no order was cancelled');
    expect(cancelled.status, cancelled.text).toBe(202);
    expect(OrderAccepted.parse(cancelled.json)).toMatchObject({
      orderId,
      status: 'CANCELLED',
      lines: [{ quantity: 1 }],
    });
    expect(cancelled.headers.get('location')).toBe(`/orders/${orderId}`);

    const history = await historyOf(orderId, customer);
    expect(history.map(({ type, version }) => [type, version])).toEqual([
      ['OrderPlaced', 1],
      ['StockReserved', 2],
      ['OrderCancelled', 3],
    ]);
    expect(history[2]?.data).toEqual({ orderId, previousStatus: 'PENDING' });

    // Sent again, as a client does when the first answer was lost: the same answer, nothing appended.
    const again = await call('POST', `/orders/${orderId}/cancel`, { as: customer });
    expect(again.status, again.text).toBe(202);
    expect(OrderAccepted.parse(again.json)).toEqual(OrderAccepted.parse(cancelled.json));
    expect(await storedEvents(`order-${orderId}`)).toHaveLength(3);
  });
});

describe('GET /orders/{orderId}/events', () => {
  it('answers 200 with the stored events: type, version, data, recordedAt and correlationId', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    const before = Date.now();
    const placed = await call('POST', '/orders', { as: customer, body: { items: [{ sku, quantity: 1 }], payment } });
    const { orderId } = OrderAccepted.parse(placed.json);

    const answer = await call('GET', `/orders/${orderId}/events`, { as: customer });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const { events } = OrderHistory.parse(answer.json);
    // Placed with its stock reserved; the saga may have appended more since.
    expect(events.slice(0, 2).map((e) => e.type)).toEqual(['OrderPlaced', 'StockReserved']);
    const [event] = events;
    expect(event).toMatchObject({
      type: 'OrderPlaced',
      version: 1,
      data: { orderId, customerId: customer },
      correlationId: placed.headers.get('x-correlation-id'),
    });
    // The payment token is the gateway's: the history never shows it.
    expect(answer.text).not.toContain(payment.token);
    const recordedAt = Date.parse(event?.recordedAt ?? '');
    expect(new Date(recordedAt).toISOString()).toBe(event?.recordedAt);
    expect(recordedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(recordedAt).toBeLessThanOrEqual(Date.now() + 1000);
  });
});

describe('GET /openapi.json', () => {
  it('is public and documents every route of the contract as OpenAPI 3.1.0', async () => {
    const answer = await call('GET', '/openapi.json', { as: null });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.json.openapi).toBe('3.1.0');

    const paths = answer.json.paths as Record<string, Record<string, { operationId?: string }>>;
    expect(Object.keys(paths).sort()).toEqual([...new Set(routes.map((r) => r.path))].sort());
    for (const route of routes) {
      expect(paths[route.path]?.[route.method.toLowerCase()]?.operationId, `${route.method} ${route.path}`).toBe(
        route.operationId,
      );
    }
  });

  it('answers its ETag, and 304 to a client that has the document already', async () => {
    const answer = await call('GET', '/openapi.json', { as: null });
    const etag = answer.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    const unchanged = await api().call('GET', '/openapi.json', { as: null, headers: { 'if-none-match': etag ?? '' } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('etag')).toBe(etag);
    expect(unchanged.text).toBe('');
    const other = await call('GET', '/openapi.json', { as: null, headers: { 'if-none-match': '"another"' } });
    expect(other.status).toBe(200);
  });
});

describe("someone else's order", () => {
  /** The parts of a 404 a caller could tell two orders apart by. */
  const shapeOf = (json: Record<string, unknown>) => ({
    type: json.type,
    title: json.title,
    status: json.status,
    detail: json.detail,
    keys: Object.keys(json)
      .filter((key) => key !== 'instance' && key !== 'correlationId')
      .sort(),
  });

  it('does not exist for another customer: the same 404 as a missing order, for reading and cancelling', async () => {
    const owner = uniqueCustomer();
    const intruder = uniqueCustomer();
    const orderId = await givenOrder(call, owner, await givenProduct(call));
    const missingId = randomUUID();

    const theirs = await call('GET', `/orders/${orderId}/events`, { as: intruder });
    const missing = await call('GET', `/orders/${missingId}/events`, { as: intruder });
    expectProblem(theirs, 404, 'not-found');
    expectProblem(missing, 404, 'not-found');
    expect(shapeOf(theirs.json)).toEqual(shapeOf(missing.json));

    const cancelTheirs = await call('POST', `/orders/${orderId}/cancel`, { as: intruder });
    const cancelMissing = await call('POST', `/orders/${missingId}/cancel`, { as: intruder });
    expectProblem(cancelTheirs, 404, 'not-found');
    expectProblem(cancelMissing, 404, 'not-found');
    expect(shapeOf(cancelTheirs.json)).toEqual(shapeOf(cancelMissing.json));
    expect(shapeOf(cancelTheirs.json)).toEqual(shapeOf(theirs.json));
    expect(cancelTheirs.json.detail).not.toContain(orderId);

    // The failed cancel changed nothing, and the owner still sees the order (which the saga may have confirmed).
    expect((await storedEvents(`order-${orderId}`)).map((e) => e.type)).not.toContain('OrderCancelled');
    const history = (await historyOf(orderId, owner)).map((e) => e.type);
    expect(history[0]).toBe('OrderPlaced');
    expect(history).not.toContain('OrderCancelled');
  });

  it('is visible to an admin, who may cancel it', async () => {
    const owner = uniqueCustomer();
    const orderId = await givenOrder(call, owner, await givenProduct(call));

    expect((await historyOf(orderId, admin)).map((e) => e.type)).toEqual(['OrderPlaced', 'StockReserved']);

    const cancelled = await call('POST', `/orders/${orderId}/cancel`, { as: admin });
    expect(cancelled.status, cancelled.text).toBe(202);
    expect(cancelled.json).toMatchObject({ orderId, status: 'CANCELLED', lines: [{ quantity: 1 }] });

    expect((await historyOf(orderId, owner)).map((e) => e.type)).toEqual([
      'OrderPlaced',
      'StockReserved',
      'OrderCancelled',
    ]);
    const [placed, , stored] = await storedEvents(`order-${orderId}`);
    expect(stored?.metadata).toMatchObject({ actor: `admin:${admin.admin}` });
    // Each kind of actor has its prefix: a customer whose subject is `admin:…` cannot pass for an admin.
    expect(placed?.metadata).toMatchObject({ actor: `customer:${owner}` });
  });
});

describe('Idempotency-Key', () => {
  it('places one order for ten concurrent requests with the same key from the same customer', async () => {
    const customer = uniqueCustomer();
    const key = `key-${randomUUID()}`;
    const sku = await givenProduct(call);
    const body = { items: [{ sku, quantity: 2 }], payment };

    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        call('POST', '/orders', { as: customer, body, headers: { 'idempotency-key': key } }),
      ),
    );
    const orderId = orderIdForKey(customer, key);
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(202);
      // A request that finds the order placed answers its status now: the saga may have confirmed it meanwhile.
      expect(answer.json).toMatchObject({ orderId, status: expect.stringMatching(/^(PENDING|CONFIRMED)$/) });
      expect(answer.headers.get('location')).toBe(`/orders/${orderId}`);
    }
    // The one request that placed it answers PENDING.
    expect(answers.some((answer) => answer.json.status === 'PENDING')).toBe(true);

    // One OrderPlaced, at version 1; the saga may have appended what follows it (OrderConfirmed) meanwhile.
    const placed = await placedEvents(orderId);
    expect(placed).toHaveLength(1);
    expect(placed[0]).toMatchObject({ version: 1, type: 'OrderPlaced', data: { orderId, customerId: customer } });
  });

  it('keeps keys apart per customer: the same key from another customer is another order', async () => {
    const key = `key-${randomUUID()}`;
    const sku = await givenProduct(call);
    const body = { items: [{ sku, quantity: 1 }], payment };
    const [alice, bob] = [uniqueCustomer(), uniqueCustomer()];

    const first = await call('POST', '/orders', { as: alice, body, headers: { 'idempotency-key': key } });
    const second = await call('POST', '/orders', { as: bob, body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(first.json.orderId).toBe(orderIdForKey(alice, key));
    expect(second.json.orderId).toBe(orderIdForKey(bob, key));
    expect(second.json.orderId).not.toBe(first.json.orderId);
    expect(await placedEvents(orderIdForKey(alice, key))).toHaveLength(1);
    expect(await placedEvents(orderIdForKey(bob, key))).toHaveLength(1);
  });

  it('refuses the same key with a different body (422) and leaves the first order as it was', async () => {
    const customer = uniqueCustomer();
    const key = `key-${randomUUID()}`;
    const sku = await givenProduct(call);
    const headers = { 'idempotency-key': key };

    const first = await call('POST', '/orders', {
      as: customer,
      body: { items: [{ sku, quantity: 1 }], payment },
      headers,
    });
    expect(first.status).toBe(202);
    const other = await call('POST', '/orders', {
      as: customer,
      body: { items: [{ sku, quantity: 3 }], payment },
      headers,
    });
    expectProblem(other, 422, 'order-already-placed');

    const stored = await placedEvents(orderIdForKey(customer, key));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ data: { lines: [{ sku, quantity: 1 }] } });
  });

  it('refuses a key that is not 1 to 255 visible ASCII characters (400, naming the header)', async () => {
    const sku = await givenProduct(call);
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: { items: [{ sku, quantity: 1 }], payment },
      headers: { 'idempotency-key': 'k'.repeat(256) },
    });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual([expect.objectContaining({ header: 'idempotency-key' })]);
  });

  it('refuses a key with a comma (400), as a header sent twice arrives (API Gateway joins them), and writes nothing', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    const key = `e2e-twice-${randomUUID()}`;
    const headers = { 'idempotency-key': `${key},${key}-b` };
    const twice = await call('POST', '/orders', {
      as: customer,
      body: { items: [{ sku, quantity: 1 }], payment },
      headers,
    });
    expectProblem(twice, 400, 'validation-failed');
    expect(twice.json.errors).toEqual([
      expect.objectContaining({ header: 'idempotency-key', detail: expect.stringContaining('no comma') }),
    ]);
    for (const path of [`/products/${sku}/restock`, `/products/${sku}/write-off`]) {
      const admin = await call('POST', path, { as: { admin: 'ops' }, body: { quantity: 1 }, headers });
      expectProblem(admin, 400, 'validation-failed');
      expect(admin.json.errors).toEqual([expect.objectContaining({ header: 'idempotency-key' })]);
    }
    expect(await placedEvents(orderIdForKey(customer, `${key},${key}-b`))).toHaveLength(0);
  });
});

describe('correlation ids', () => {
  it('mints a fresh one for every answer when the caller sends none', async () => {
    const first = await call('GET', '/openapi.json', { as: null });
    const second = await call('GET', '/openapi.json', { as: null });
    expect(first.headers.get('x-correlation-id')).toMatch(uuid);
    expect(second.headers.get('x-correlation-id')).toMatch(uuid);
    expect(first.headers.get('x-correlation-id')).not.toBe(second.headers.get('x-correlation-id'));
  });

  it("echoes the caller's id and records it on the events that request appended", async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    const placeId = `e2e-place-${randomUUID()}`;
    const cancelId = `e2e-cancel-${randomUUID()}`;

    const placed = await call('POST', '/orders', {
      as: customer,
      body: { items: [{ sku, quantity: 1 }], payment },
      headers: { 'x-correlation-id': placeId },
    });
    expect(placed.headers.get('x-correlation-id')).toBe(placeId);
    const { orderId } = OrderAccepted.parse(placed.json);

    const cancelled = await call('POST', `/orders/${orderId}/cancel`, {
      as: customer,
      headers: { 'x-correlation-id': cancelId },
    });
    expect(cancelled.headers.get('x-correlation-id')).toBe(cancelId);

    expect((await historyOf(orderId, customer)).map((e) => [e.type, e.correlationId])).toEqual([
      ['OrderPlaced', placeId],
      ['StockReserved', placeId],
      ['OrderCancelled', cancelId],
    ]);
    const stored = await storedEvents(`order-${orderId}`);
    expect(stored.map((item) => (item.metadata as { correlationId?: unknown }).correlationId)).toEqual([
      placeId,
      placeId,
      cancelId,
    ]);
  });

  it('records it on a product registration and restock too', async () => {
    const sku = uniqueSku();
    const registerId = `e2e-register-${randomUUID()}`;
    const restockId = `e2e-restock-${randomUUID()}`;
    const registered = await call('POST', '/products', {
      as: admin,
      body: { sku, name: 'Mug', price: { amount: 800, currency: 'EUR' }, stock: 1 },
      headers: { 'x-correlation-id': registerId },
    });
    expect(registered.headers.get('x-correlation-id')).toBe(registerId);
    const restocked = await call('POST', `/products/${sku}/restock`, {
      as: admin,
      body: { quantity: 2 },
      headers: { 'x-correlation-id': restockId },
    });
    expect(restocked.headers.get('x-correlation-id')).toBe(restockId);

    const stored = await storedEvents(`product-${sku}`);
    expect(stored.map((item) => [item.type, (item.metadata as { correlationId?: unknown }).correlationId])).toEqual([
      ['ProductRegistered', registerId],
      ['ProductRestocked', restockId],
    ]);
  });

  it.each([
    ['a 400', 'POST', '/orders', { rawBody: '{"items": [' }],
    ['a 404 (no route)', 'GET', '/no-such-thing', {}],
    ['a 404 (no order)', 'GET', `/orders/${randomUUID()}/events`, {}],
    ['a 405', 'DELETE', '/orders', {}],
    ['a 401', 'POST', '/orders', { as: null, body: { items: [{ sku: 'A-1', quantity: 1 }], payment } }],
    [
      'a 403',
      'POST',
      '/products',
      { body: { sku: 'A-1', name: 'x', price: { amount: 1, currency: 'EUR' }, stock: 1 } },
    ],
  ] as const)("echoes the caller's id on %s, in the header and the problem", async (_, method, path, options) => {
    const id = `e2e-${randomUUID()}`;
    const answer = await call(method, path, { as: uniqueCustomer(), ...options, headers: { 'x-correlation-id': id } });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.headers.get('x-correlation-id')).toBe(id);
    expect(answer.json.correlationId).toBe(id);
  });

  it('replaces an id it cannot safely log with a fresh one', async () => {
    for (const sent of ['has spaces in it', 'x'.repeat(129), 'quote"and<angle>']) {
      const answer = await call('GET', '/openapi.json', { as: null, headers: { 'x-correlation-id': sent } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-correlation-id')).toMatch(uuid);
    }
  });
});

describe('limits at their edges are accepted', () => {
  it('takes a 200-character name, stock 0 and stock 1 000 000', async () => {
    for (const [name, stock] of [
      ['n'.repeat(200), 0],
      ['Bulk', 1_000_000],
    ] as const) {
      const sku = uniqueSku();
      const answer = await call('POST', '/products', {
        as: admin,
        body: { sku, name, price: { amount: 0, currency: 'EUR' }, stock },
      });
      expect(answer.status, answer.text).toBe(201);
      expect(answer.json).toMatchObject({ name, stock: { available: stock } });
    }
  });

  it('takes an order of 50 lines and a quantity of 1000', async () => {
    const skus = await Promise.all(Array.from({ length: 50 }, () => givenProduct(call, { stock: 2000 })));
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: { items: skus.map((sku, i) => ({ sku, quantity: i === 0 ? 1000 : 1 })), payment },
    });
    expect(answer.status, answer.text).toBe(202);
    const [placed] = await storedEvents(`order-${OrderAccepted.parse(answer.json).orderId}`);
    expect((placed?.data as { lines: unknown[] }).lines).toHaveLength(50);
  });
});
