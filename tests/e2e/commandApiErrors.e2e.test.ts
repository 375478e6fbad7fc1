import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { orderIdForKey } from '../../application/orders.js';
import { localIssuer } from '../../local/auth.js';
import {
  admin,
  type Call,
  eventually,
  expectProblem,
  givenOrder,
  givenProduct,
  pointersOf,
  storedEvents,
  uniqueCustomer,
  uniqueSku,
  useTestApi,
} from './http.js';

const { call, api } = useTestApi();

const payment = { token: 'tok_visa' };
const product = (overrides: Record<string, unknown> = {}) => ({
  sku: uniqueSku(),
  name: 'Teapot',
  price: { amount: 2500, currency: 'EUR' },
  stock: 10,
  ...overrides,
});
const order = (overrides: Record<string, unknown> = {}) => ({
  items: [{ sku: 'ANY-1', quantity: 1 }],
  payment,
  ...overrides,
});
/** A JSON body just over the 64 KiB limit, valid in every other respect. */
const oversized = (body: Record<string, unknown>) => JSON.stringify({ ...body, name: 'n'.repeat(64 * 1024) });

describe('bodies that cannot be read', () => {
  it.each([
    ['truncated', '{"items": ['],
    ['a trailing comma', '{"items": [],}'],
    ['single quotes', "{'items': []}"],
    ['not JSON at all', 'items=1'],
  ])('answers 400 malformed-json for %s', async (_, rawBody) => {
    const answer = await call('POST', '/orders', { as: uniqueCustomer(), rawBody });
    expectProblem(answer, 400, 'malformed-json');
  });

  it('answers 400 malformed-json for an escaped lone surrogate, which is no Unicode, and takes an escaped pair', async () => {
    const lone = product({ name: 'Tea' });
    const answer = await call('POST', '/products', {
      as: admin,
      rawBody: JSON.stringify(lone).replace('"Tea"', '"Tea \\ud800"'),
    });
    expectProblem(answer, 400, 'malformed-json');
    expect(answer.json.detail).toMatch(/surrogate/);
    expect((await call('GET', `/products/${lone.sku}`)).status).toBe(404);

    const pair = product({ name: 'Tea' });
    const paired = await call('POST', '/products', {
      as: admin,
      rawBody: JSON.stringify(pair).replace('"Tea"', '"Tea \\ud83c\\udf75"'),
    });
    expect(paired.status).toBe(201);
    expect(paired.json.name).toBe('Tea 🍵');
  });

  it('answers 400 body-required for a POST without a body', async () => {
    const answer = await call('POST', '/products', { as: admin });
    expectProblem(answer, 400, 'body-required');
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const answer = await call('POST', '/products', { as: admin, rawBody: oversized(product()) });
    expectProblem(answer, 413, 'payload-too-large');
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
    'answers 415 for a body sent as %s',
    async (contentType) => {
      const answer = await call('POST', '/orders', {
        as: uniqueCustomer(),
        rawBody: JSON.stringify(order()),
        headers: { 'content-type': contentType },
      });
      expectProblem(answer, 415, 'unsupported-media-type');
    },
  );

  it.each([
    'application/json; charset=ISO-8859-1',
    'application/json; charset="utf-16"',
    // Declared twice: whichever a reader takes, one of them is not UTF-8.
    'application/json; charset=utf-8; charset=iso-8859-1',
  ])(
    'answers 415 for a body declared in another charset than UTF-8, and registers nothing: %s',
    async (contentType) => {
      const body = product({ name: 'Café' });
      const answer = await call('POST', '/products', {
        as: admin,
        rawBody: JSON.stringify(body),
        headers: { 'content-type': contentType },
      });
      expectProblem(answer, 415, 'unsupported-media-type');
      expect(answer.json.detail).toMatch(/UTF-8/);
      expect((await call('GET', `/products/${body.sku}`)).status).toBe(404);
    },
  );

  it.each([
    'application/json; charset=utf-8',
    'application/json;charset="UTF-8"',
    'application/json; charset=utf8',
    'application/json; charset=us-ascii',
  ])('takes a body declared as UTF-8: %s', async (contentType) => {
    const body = product({ name: 'Café' });
    const answer = await call('POST', '/products', {
      as: admin,
      rawBody: JSON.stringify(body),
      headers: { 'content-type': contentType },
    });
    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({ name: 'Café' });
  });

  it('answers 415 for a gzipped body, saying it takes identity, and registers nothing', async () => {
    const body = product();
    const token = await api().issuer.sign(uniqueCustomer(), { admin: true });
    const response = await fetch(`${api().api.url}/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(body)),
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('accept-encoding')).toBe('identity');
    expect(await response.json()).toMatchObject({ detail: expect.stringMatching(/gzip is not decoded/) });
    expect((await call('GET', `/products/${body.sku}`)).status).toBe(404);
  });

  it('answers 415 for a body without a content type', async () => {
    const token = await api().issuer.sign(uniqueCustomer());
    const response = await fetch(`${api().api.url}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: new Blob([JSON.stringify(order())]),
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('x-correlation-id')).toBeTruthy();
    expect(await response.json()).toMatchObject({ status: 415, type: 'urn:orderflow:problem:unsupported-media-type' });
  });
});

describe('bodies that do not match the schema', () => {
  it('names every mistyped field of an order by its JSON pointer', async () => {
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      body: {
        items: [
          { sku: 'OK-1', quantity: 1 },
          { sku: 42, quantity: 'two' },
        ],
        payment: { token: 7 },
      },
    });
    expectProblem(answer, 400, 'validation-failed');
    expect(pointersOf(answer).sort()).toEqual(['#/items/1/quantity', '#/items/1/sku', '#/payment/token']);
    for (const error of answer.json.errors ?? []) {
      expect(error).toEqual({ pointer: expect.any(String), detail: expect.stringMatching(/\S/) });
    }
    expect(answer.json.detail).toBe('The request has 3 invalid field(s) in the body.');
  });

  it('names an invalid header and every invalid field of the body in one answer', async () => {
    const answer = await call('POST', '/orders', {
      as: uniqueCustomer(),
      headers: { 'idempotency-key': 'not a key' },
      body: { items: [{ sku: 'mug', quantity: 0 }], payment: {} },
    });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual(
      expect.arrayContaining([
        { header: 'idempotency-key', detail: expect.any(String) },
        { pointer: '#/items/0/sku', detail: expect.any(String) },
        { pointer: '#/items/0/quantity', detail: expect.any(String) },
        { pointer: '#/payment/token', detail: expect.any(String) },
      ]),
    );
    expect(answer.json.detail).toMatch(
      /^The request has 1 invalid header\(s\) or query parameter\(s\) and \d+ invalid field/,
    );
  });

  it('names every mistyped field of a product by its JSON pointer', async () => {
    const answer = await call('POST', '/products', {
      as: admin,
      body: { sku: uniqueSku(), name: 5, price: { amount: '10', currency: 'eur' }, stock: 'many' },
    });
    expectProblem(answer, 400, 'validation-failed');
    expect(pointersOf(answer).sort()).toEqual(['#/name', '#/price/amount', '#/price/currency', '#/stock']);
  });

  it.each([
    ['POST', '/products', { stock: 2 ** 53 }, '#/stock', /^at most 1,000,000$/],
    ['POST', '/products', { stock: -(2 ** 53) }, '#/stock', /^at least 0$/],
    ['POST', '/products', { price: { amount: -(2 ** 53), currency: 'EUR' } }, '#/price/amount', /^at least 0$/],
    ['POST', '/products', { name: '\u0007' }, '#/name', /control characters/],
    // What would garble a page without being a control character: a line separator, a bidi mark, a noncharacter.
    ['POST', '/products', { name: 'Mug\u2028XL' }, '#/name', /line or paragraph separators/],
    ['POST', '/products', { name: 'Mug \u200fXL' }, '#/name', /bidirectional marks/],
    ['POST', '/products', { name: 'Mug \ufdd0' }, '#/name', /noncharacters/],
    ['POST', '/orders', { payment: { token: 'tok\u0000visa' } }, '#/payment/token', /printable ASCII/],
    ['POST', '/products', { name: 'Mug\u2029XL' }, '#/name', /line or paragraph separators/],
    ['POST', '/products', { name: 'Mug \u200eXL' }, '#/name', /bidirectional marks/],
    ['POST', '/products', { name: 'Mug \u061cXL' }, '#/name', /bidirectional marks/],
    ['POST', '/orders', { payment: { token: 'tok visa' } }, '#/payment/token', /no spaces/],
    ['POST', '/orders', { payment: { token: 'tok\u007fvisa' } }, '#/payment/token', /printable ASCII/],
    ['POST', '/products/X-1/restock', { quantity: 2 ** 53 }, '#/quantity', /^at most 1,000,000$/],
    ['POST', '/orders', { items: [{ sku: 'X-1', quantity: 2 ** 53 }] }, '#/items/0/quantity', /^at most 1,000$/],
  ] as const)('names a field once, with its own bound: %s %s %j', async (method, path, fields, field, detail) => {
    const body =
      path === '/products' ? product({ sku: uniqueSku(), ...fields }) : path === '/orders' ? order(fields) : fields;
    const answer = await call(method, path, { as: admin, body });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual([{ pointer: field, detail: expect.stringMatching(detail) }]);
    expect(answer.json.detail).toBe('The request has 1 invalid field(s) in the body.');
  });

  it('names missing fields and a body that is not an object', async () => {
    const missing = await call('POST', '/orders', { as: uniqueCustomer(), body: { items: [{ sku: 'A-1' }] } });
    expectProblem(missing, 400, 'validation-failed');
    expect(missing.json.errors).toEqual([
      { pointer: '#/items/0/quantity', detail: 'required: a number' },
      { pointer: '#/payment', detail: 'required: an object' },
    ]);

    const array = await call('POST', '/orders', { as: uniqueCustomer(), body: [order()] });
    expectProblem(array, 400, 'validation-failed');
    expect(array.json.errors).toEqual([{ pointer: '#', detail: 'an object, not an array' }]);
  });

  it.each([
    ['POST', '/orders', ['#/coupon'], order({ coupon: 'FREE' })],
    ['POST', '/orders', ['#/items/0/colour'], order({ items: [{ sku: 'A-1', quantity: 1, colour: 'red' }] })],
    ['POST', '/orders', ['#/payment/cvv'], order({ payment: { token: 't', cvv: '123' } })],
    ['POST', '/products', ['#/reserved'], product({ reserved: 3 })],
    ['POST', '/products', ['#/price/vat'], product({ price: { amount: 1, currency: 'EUR', vat: 0 } })],
  ] as const)('%s %s: refuses the unknown field %j (400)', async (method, path, pointers, body) => {
    const answer = await call(method, path, { as: path === '/products' ? admin : uniqueCustomer(), body });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual(pointers.map((pointer) => ({ pointer, detail: 'Unknown field.' })));
  });

  it('lists the first 100 of many invalid fields, and counts them all', async () => {
    const unknown = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`extra${i}`, i]));
    const answer = await call('POST', '/orders', { as: uniqueCustomer(), body: order(unknown) });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.detail).toBe('The request has 150 invalid field(s) in the body; the first 100 are listed.');
    expect(pointersOf(answer)).toEqual(Array.from({ length: 100 }, (_, i) => `#/extra${i}`));
  });

  it('refuses unknown fields on a restock', async () => {
    const sku = await givenProduct(call);
    const answer = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 1, price: 5 } });
    expectProblem(answer, 400, 'validation-failed');
    expect(pointersOf(answer)).toEqual(['#/price']);
  });
});

describe('preconditions on a write', () => {
  it.each([
    ['if-match', '"1"'],
    ['if-none-match', '*'],
    ['if-unmodified-since', 'Wed, 02 Dec 2026 10:00:00 GMT'],
  ])('refuses %s, which it would not evaluate, and restocks nothing', async (header, value) => {
    const sku = await givenProduct(call, { stock: 100 });
    const answer = await call('POST', `/products/${sku}/restock`, {
      as: admin,
      body: { quantity: 1 },
      headers: { [header]: value },
    });
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual([{ header, detail: expect.stringMatching(/^Writes take no precondition/) }]);
    // The next restock's answer reads the store just after its own write: one unit more than registered, no more.
    const next = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 1 } });
    expect(next.status, next.text).toBe(200);
    expect(next.json).toMatchObject({ stock: { available: 101, reserved: 0, sold: 0 } });
  });
});

describe('limits', () => {
  const lines = (count: number) => Array.from({ length: count }, (_, i) => ({ sku: `LINE-${i}`, quantity: 1 }));

  it.each([
    ['no items', '#/items', order({ items: [] })],
    ['51 items', '#/items', order({ items: lines(51) })],
    ['quantity 0', '#/items/0/quantity', order({ items: [{ sku: 'A-1', quantity: 0 }] })],
    ['quantity 1001', '#/items/0/quantity', order({ items: [{ sku: 'A-1', quantity: 1001 }] })],
    ['quantity 1.5', '#/items/0/quantity', order({ items: [{ sku: 'A-1', quantity: 1.5 }] })],
    ['a lower-case SKU', '#/items/0/sku', order({ items: [{ sku: 'abc-1', quantity: 1 }] })],
    ['a SKU starting with a dash', '#/items/0/sku', order({ items: [{ sku: '-ABC', quantity: 1 }] })],
    ['an empty payment token', '#/payment/token', order({ payment: { token: '' } })],
  ])('refuses an order with %s (400 naming %s)', async (_, pointer, body) => {
    const answer = await call('POST', '/orders', { as: uniqueCustomer(), body });
    expectProblem(answer, 400, 'validation-failed');
    expect(pointersOf(answer)).toEqual([pointer]);
  });

  it.each([
    ['a SKU with a space', '#/sku', product({ sku: 'ABC 1' })],
    ['a lower-case SKU', '#/sku', product({ sku: 'abc-1' })],
    ['a SKU of 65 characters', '#/sku', product({ sku: 'A'.repeat(65) })],
    ['a name of 201 characters', '#/name', product({ name: 'n'.repeat(201) })],
    ['a blank name', '#/name', product({ name: '   ' })],
    ['stock -1', '#/stock', product({ stock: -1 })],
    ['stock 1 000 001', '#/stock', product({ stock: 1_000_001 })],
    ['stock 1.5', '#/stock', product({ stock: 1.5 })],
    ['a negative price', '#/price/amount', product({ price: { amount: -1, currency: 'EUR' } })],
    ['a fractional price', '#/price/amount', product({ price: { amount: 9.99, currency: 'EUR' } })],
    ['a currency ISO 4217 does not list', '#/price/currency', product({ price: { amount: 1, currency: 'EUE' } })],
  ])('refuses a product with %s (400 naming %s)', async (_, pointer, body) => {
    const answer = await call('POST', '/products', { as: admin, body });
    expectProblem(answer, 400, 'validation-failed');
    expect(pointersOf(answer)).toEqual([pointer]);
  });

  it('registers nothing for a mistyped currency, so the product can be registered as meant', async () => {
    const sku = uniqueSku();
    const typo = await call('POST', '/products', {
      as: admin,
      body: product({ sku, price: { amount: 1, currency: 'EUE' } }),
    });
    expectProblem(typo, 400, 'validation-failed');
    expect((await call('GET', `/products/${sku}`, { as: admin })).status).toBe(404);
    expect((await call('POST', '/products', { as: admin, body: product({ sku }) })).status).toBe(201);
  });

  it.each([0, -1, 1.5, 1_000_001])('refuses a restock of %s units', async (quantity) => {
    const sku = await givenProduct(call);
    const answer = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity } });
    expectProblem(answer, 400, 'validation-failed');
    expect(pointersOf(answer)).toEqual(['#/quantity']);
  });
});

describe('authentication', () => {
  const targets = [
    ['POST', '/orders', { body: order() }],
    ['GET', `/orders/${randomUUID()}/events`, {}],
    ['POST', `/orders/${randomUUID()}/cancel`, {}],
    ['POST', '/products', { body: product() }],
    ['POST', `/products/${uniqueSku()}/restock`, { body: { quantity: 1 } }],
  ] as const;

  const tokens: [string, () => Promise<string | undefined>][] = [
    ['no token', async () => undefined],
    ['a garbage token', async () => 'not-a-jwt'],
    ['a token three dots long', async () => 'a.b.c'],
    [
      'an expired token',
      async () => {
        const token = await api().issuer.sign(uniqueCustomer(), { admin: true, expiresIn: '-1m' });
        expect(decodeJwt(token).exp).toBeLessThan(Date.now() / 1000);
        return token;
      },
    ],
    // API Gateway wants an exp after now: without one, a token would never expire.
    [
      'a token without exp',
      async () => {
        const token = await api().issuer.sign(uniqueCustomer(), { admin: true, expiresIn: false });
        expect(decodeJwt(token).exp).toBeUndefined();
        return token;
      },
    ],
    [
      'a token signed by another key',
      async () => {
        const { issuer, audience } = api().issuer;
        const impostor = await localIssuer({ issuer, audience });
        const token = await impostor.sign(uniqueCustomer(), { admin: true });
        // Same issuer, audience and claims: only the key is wrong.
        expect(await impostor.verify(token)).toMatchObject({ iss: issuer, aud: audience });
        return token;
      },
    ],
    // Signed by the issuer, valid in every way, but its subject could not be recorded as the order's customer.
    [
      'a token whose subject is longer than a customer id',
      async () => api().issuer.sign('z'.repeat(257), { admin: true }),
    ],
    // DynamoDB would store it as U+FFFD, which another such subject shares.
    [
      'a token whose subject holds a lone surrogate',
      async () => api().issuer.sign(`${uniqueCustomer()}\ud800`, { admin: true }),
    ],
  ];

  it('says why it refused a signed token that names no subject: that it names none', async () => {
    const token = await api().issuer.sign('');
    const answer = await call('GET', '/orders', { as: null, headers: { authorization: `Bearer ${token}` } });
    expectProblem(answer, 401, 'unauthorized');
    expect(answer.json.detail).toContain('names no subject');
    expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('says why it refused a token: an expired one, that it has expired', async () => {
    const token = await api().issuer.sign(uniqueCustomer(), { expiresIn: '-1m' });
    const answer = await call('GET', '/orders', { as: null, headers: { authorization: `Bearer ${token}` } });
    expectProblem(answer, 401, 'unauthorized');
    expect(answer.json).toMatchObject({ detail: 'The bearer token was refused: it has expired.' });
  });

  it('checks the audience serverless.yml gives the stage (jwtAudience), not a letter of it', () => {
    expect(api().issuer.audience).toBe('orderflow-local');
  });

  describe.each(tokens)('with %s', (_, token) => {
    it.each(targets)('%s %s answers 401', async (method, path, options) => {
      const bearer = await token();
      const answer = await call(method, path, {
        as: null,
        ...options,
        headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
      });
      expectProblem(answer, 401, 'unauthorized');
      // RFC 6750 §3.1: a token sent and refused is an invalid_token; no token, the scheme alone.
      expect(answer.headers.get('www-authenticate')).toBe(bearer ? 'Bearer error="invalid_token"' : 'Bearer');
    });
  });

  it('counts a subject’s length in characters, as the contract counts a customer id: 256 emoji are one, 257 are not', async () => {
    const asSubject = async (sub: string) =>
      call('GET', '/orders', { as: null, headers: { authorization: `Bearer ${await api().issuer.sign(sub)}` } });
    // 512 UTF-16 code units, 256 characters.
    const longest = await asSubject('\u{1F600}'.repeat(256));
    expect(longest.status, longest.text).toBe(200);
    expectProblem(await asSubject('\u{1F600}'.repeat(257)), 401, 'unauthorized');
  });

  it('answers 401 for a token sent under another scheme', async () => {
    const token = await api().issuer.sign(uniqueCustomer());
    const answer = await call('POST', '/orders', {
      as: null,
      body: order(),
      headers: { authorization: `Basic ${token}` },
    });
    expectProblem(answer, 401, 'unauthorized');
  });
});

describe('authorization', () => {
  it.each([
    ['POST', '/products', { body: product() }],
    ['POST', `/products/${uniqueSku()}/restock`, { body: { quantity: 1 } }],
  ] as const)('answers 403 to a customer calling %s %s', async (method, path, options) => {
    const answer = await call(method, path, { as: uniqueCustomer(), ...options });
    expectProblem(answer, 403, 'forbidden');
    expect(answer.json.detail).toContain('orderflow/admin');
    // Named by its path, as every problem a function answers is (the local gateway answers this one itself).
    expect(answer.json.instance).toBe(path);
  });

  it.each(['openid,orderflow/admin', 'openid\torderflow/admin', 'openid\u00a0orderflow/admin', '[orderflow/admin]'])(
    'reads scopes as the gateway does, split on spaces: %j makes no admin',
    async (scope) => {
      const owner = uniqueCustomer();
      const orderId = await givenOrder(call, owner, await givenProduct(call));
      const bearer = await api().issuer.sign(uniqueCustomer(), { scopes: [scope] });
      const headers = { authorization: `Bearer ${bearer}` };
      expectProblem(await call('GET', `/orders/${orderId}/events`, { as: null, headers }), 404, 'not-found');
      expectProblem(await call('POST', '/products', { as: null, headers, body: product() }), 403, 'forbidden');
    },
  );

  it.each([
    [['orderflow/admin']],
    [['openid', 'orderflow/admin']],
    [['openid', 'orderflow/admin', 'email']],
    [['openid', 'email', 'orderflow/admin', 'phone']],
  ])('grants no admin for a scope sent as a list, %j: the gateway renders it "[a b c]"', async (scope) => {
    const owner = uniqueCustomer();
    const orderId = await givenOrder(call, owner, await givenProduct(call));
    const bearer = await api().issuer.sign(uniqueCustomer(), { scope });
    // Signed as a list, as such a provider sends it.
    expect(decodeJwt(bearer).scope).toEqual(scope);
    const headers = { authorization: `Bearer ${bearer}` };
    expectProblem(await call('GET', `/orders/${orderId}`, { as: null, headers }), 404, 'not-found');
    expectProblem(await call('GET', `/orders/${orderId}/events`, { as: null, headers }), 404, 'not-found');
    expectProblem(await call('POST', `/orders/${orderId}/cancel`, { as: null, headers }), 404, 'not-found');
    expectProblem(await call('POST', '/products', { as: null, headers, body: product() }), 403, 'forbidden');
    const events = await call('GET', `/orders/${orderId}/events`, { as: owner });
    expect(JSON.stringify(events.json.events)).not.toContain('OrderCancelled');
  });

  it.each([[{ x: 'a orderflow/admin b' }], [{ 'orderflow/admin': 'orderflow/admin' }]])(
    'grants no admin for a scope sent as an object, %j, whose rendering holds the admin scope between spaces',
    async (scope) => {
      const owner = uniqueCustomer();
      const orderId = await givenOrder(call, owner, await givenProduct(call));
      const bearer = await api().issuer.sign(uniqueCustomer(), { scope });
      expect(decodeJwt(bearer).scope).toEqual(scope);
      const headers = { authorization: `Bearer ${bearer}` };
      // Admin only: another customer's orders, and another's order by its id.
      expectProblem(
        await call('GET', `/orders?customerId=${encodeURIComponent(owner)}`, { as: null, headers }),
        403,
        'forbidden',
      );
      expectProblem(await call('GET', `/orders/${orderId}`, { as: null, headers }), 404, 'not-found');
      expectProblem(await call('POST', `/orders/${orderId}/cancel`, { as: null, headers }), 404, 'not-found');
    },
  );

  it('takes the admin scope among others, space-separated, as Cognito sends it', async () => {
    const owner = uniqueCustomer();
    const orderId = await givenOrder(call, owner, await givenProduct(call));
    const admin = await api().issuer.sign(uniqueCustomer(), { scopes: ['openid', 'orderflow/admin'] });
    const events = await call('GET', `/orders/${orderId}/events`, {
      as: null,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(events.status, events.text).toBe(200);
  });
});

describe('routing', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/nope'],
    ['POST', '/order'],
    ['GET', '/orders/x/y/z'],
    ['POST', '/products/A-1/restock/now'],
    // The `.` of /openapi.json is a dot, not any character.
    ['GET', '/openapiXjson'],
    ['POST', '/openapi/json'],
  ])('answers 404 for %s %s', async (method, path) => {
    const answer = await call(method, path, { as: uniqueCustomer() });
    expectProblem(answer, 404, 'not-found');
  });

  it.each([
    ['an order id that is not one', 'GET', '/orders/not-an-id/events'],
    ['an upper-case order id', 'POST', `/orders/${randomUUID().toUpperCase()}/cancel`],
    ['a SKU that is not one', 'POST', '/products/lower-case/restock'],
  ])('answers 404 for %s', async (_, method, path) => {
    const answer = await call(method, path, {
      as: method === 'POST' && path.startsWith('/products') ? admin : uniqueCustomer(),
      ...(path.startsWith('/products') ? { body: { quantity: 1 } } : {}),
    });
    expectProblem(answer, 404, 'not-found');
  });

  it.each([
    ['DELETE', '/orders', 'POST, GET, HEAD, OPTIONS'],
    ['PUT', '/orders', 'POST, GET, HEAD, OPTIONS'],
    ['PATCH', '/products', 'POST, GET, HEAD, OPTIONS'],
    ['DELETE', '/products', 'POST, GET, HEAD, OPTIONS'],
    ['GET', `/orders/${randomUUID()}/cancel`, 'POST, OPTIONS'],
    ['POST', `/orders/${randomUUID()}/events`, 'GET, HEAD, OPTIONS'],
    ['DELETE', '/products/A-1/restock', 'POST, OPTIONS'],
    ['POST', '/openapi.json', 'GET, HEAD, OPTIONS'],
  ])('answers 405 for %s %s, allowing %s', async (method, path, allowed) => {
    const answer = await call(method, path, { as: uniqueCustomer() });
    expectProblem(answer, 405, 'method-not-allowed');
    expect(answer.headers.get('allow')).toBe(allowed);
  });
});

describe('HEAD', () => {
  it('answers as GET does, status and headers, without a body: an order, its events, the list, a product, the contract', async () => {
    const owner = uniqueCustomer();
    const sku = await givenProduct(call);
    const orderId = await givenOrder(call, owner, sku);
    // Settled first: while its saga runs, the views, the events and the stock change between a GET and a HEAD.
    await eventually(
      () => call('GET', '/orders', { as: owner }),
      (answer) => expect(answer.json).toMatchObject({ orders: [{ orderId, status: 'CONFIRMED' }] }),
    );
    for (const [path, as] of [
      [`/orders/${orderId}/events`, owner],
      ['/orders', owner],
      [`/products/${sku}`, owner],
      ['/openapi.json', null],
    ] as const) {
      const get = await call('GET', path, { as });
      const head = await api().call('HEAD', path, { as });
      expect(head.status, path).toBe(get.status);
      expect(head.text, path).toBe('');
      expect(head.headers.get('content-type'), path).toBe(get.headers.get('content-type'));
      expect(head.headers.get('etag'), path).toBe(get.headers.get('etag'));
      expect(head.headers.get('content-length'), path).toBe(String(Buffer.byteLength(get.text)));
    }
    // Not modified: no body to measure, so no length, on either.
    for (const path of [`/orders/${orderId}/events`, `/products/${sku}`]) {
      const headers = { 'if-none-match': (await call('GET', path, { as: owner })).headers.get('etag') ?? '' };
      const get = await api().call('GET', path, { as: owner, headers });
      const head = await api().call('HEAD', path, { as: owner, headers });
      expect([get.status, head.status], path).toEqual([304, 304]);
      expect(head.headers.get('etag'), path).toBe(headers['if-none-match']);
      expect([get.headers.get('content-length'), head.headers.get('content-length')], path).toEqual([null, null]);
    }
  });

  // Unchecked calls: the checked one reads every error's body as a problem document, and these have none.
  it('answers an error without its body too: another customer’s order is a 404, a HEAD on a POST route a 405', async () => {
    const orderId = await givenOrder(call, uniqueCustomer(), await givenProduct(call));
    const notYours = await api().call('HEAD', `/orders/${orderId}`, { as: uniqueCustomer() });
    expect(notYours.status).toBe(404);
    expect(notYours.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(notYours.text).toBe('');
    const cancel = await api().call('HEAD', `/orders/${orderId}/cancel`, { as: uniqueCustomer() });
    expect(cancel.status).toBe(405);
    expect(cancel.headers.get('allow')).toBe('POST, OPTIONS');
    expect(cancel.text).toBe('');
    // Refused by the gateway itself (no token): the GET's length as well.
    const [get, head] = [
      await api().call('GET', '/products', { as: null }),
      await api().call('HEAD', '/products', { as: null }),
    ];
    expect([get.status, head.status]).toEqual([401, 401]);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(get.text)));
  });
});

describe('the Host header', () => {
  /** A GET with the Host header set, which fetch will not send as given. */
  const getWithHost = (path: string, host: string, token: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { port } = new URL(api().api.url);
      const req = request(
        { host: '127.0.0.1', port, path, headers: { host, authorization: `Bearer ${token}` } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it.each(['bad host', '[::1', 'exa%mple', 'x/orders?limit=1#', 'x/y'])(
    'chooses neither the route nor the answer: %s',
    async (host) => {
      const answer = await getWithHost('/openapi.json', host, await api().issuer.sign(uniqueCustomer()));
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ openapi: expect.any(String) });
    },
  );
});

describe('headers as API Gateway reads them', () => {
  /** A request whose headers may repeat (fetch joins a repeated one into one line with ", "). */
  const send = (method: string, path: string, headers: Record<string, string | string[]>, body?: unknown) =>
    new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const { port } = new URL(api().api.url);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  it('takes the token alone, without Bearer, as the JWT authorizer does', async () => {
    const customer = uniqueCustomer();
    const answer = await send('GET', '/orders', { authorization: await api().issuer.sign(customer) });
    expect(answer.status).toBe(200);
  });

  it('refuses two Authorization headers: joined, they are no token', async () => {
    const [alice, bob] = await Promise.all([api().issuer.sign(uniqueCustomer()), api().issuer.sign(uniqueCustomer())]);
    const answer = await send('GET', '/orders', { authorization: [`Bearer ${alice}`, `Bearer ${bob}`] });
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ type: 'urn:orderflow:problem:unauthorized' });
  });

  it('refuses an Idempotency-Key sent twice (joined with a bare comma, as API Gateway joins it): a key neither named', async () => {
    const customer = uniqueCustomer();
    const sku = await givenProduct(call);
    const keys = [randomUUID(), randomUUID()];
    const answer = await send(
      'POST',
      '/orders',
      { authorization: `Bearer ${await api().issuer.sign(customer)}`, 'idempotency-key': keys },
      { items: [{ sku, quantity: 1 }], payment },
    );
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({
      type: 'urn:orderflow:problem:validation-failed',
      errors: [expect.objectContaining({ header: 'idempotency-key', detail: expect.stringContaining('no comma') })],
    });
    // Nothing placed, under the joined key or either of its parts.
    for (const key of [keys.join(','), ...keys]) {
      const placed = await call('GET', `/orders/${orderIdForKey(customer, key)}`, { as: customer });
      expect(placed.status, key).toBe(404);
    }
  });
});

describe('what the HTTP parser refuses, locally', () => {
  /** The raw answer to `bytes` sent on a fresh connection. */
  const rawAnswer = (bytes: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(api().api.url).port), '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.write(bytes);
    });

  it.each([
    ['an authority, which no method takes here', 'localhost:443', 405, ''],
    ['a path', '/orders', 405, 'POST, GET, HEAD, OPTIONS'],
    ['a path no route has', '/nowhere', 404, undefined],
    // Resolved as a URL, `//[` names a host that is not one: the server must read it as a path, not fall over.
    ['a path of two slashes', '//[', 404, undefined],
  ])('answers a CONNECT to %s as the API answers a method no route takes', async (_, target, status, allow) => {
    const answer = await rawAnswer(`CONNECT ${target} HTTP/1.1\r\nhost: localhost:443\r\n\r\n`);
    const head = answer.slice(0, answer.indexOf('\r\n\r\n')).split('\r\n');
    expect(head[0]).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    // A 405 must say what the target takes (RFC 9110 §15.5.6), even when that is nothing.
    expect(head.find((line) => line.startsWith('allow:'))).toBe(allow === undefined ? undefined : `allow: ${allow}`);
  });

  it('outlives a client that resets its connection once a CONNECT is answered', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(api().api.url).port), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.resetAndDestroy();
        resolve();
      });
      socket.once('close', () => resolve());
      socket.write('CONNECT /orders HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Still serving: an unhandled reset would have ended the process, and this file with it.
    expect((await call('GET', '/openapi.json')).status).toBe(200);
  });

  it.each([
    ['headers over 16 KB', `GET /openapi.json HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(17_000)}\r\n\r\n`, 431],
    ['a malformed chunk', 'POST /orders HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', 400],
    // Node hands a CONNECT to a listener of its own, and drops the connection when there is none.
    ['a CONNECT', 'CONNECT localhost:443 HTTP/1.1\r\nhost: localhost:443\r\n\r\n', 405],
  ])('answers %s as a problem document', async (_, bytes, status) => {
    const answer = await rawAnswer(bytes);
    expect(answer.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(answer).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status });
  });
});

describe('the request target, locally', () => {
  it('takes an absolute-form target (RFC 9112 §3.2.2) for its path, and a path of two slashes for a path', async () => {
    const rawStatus = (target: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(api().api.url).port), '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
        socket.on('error', reject);
        socket.write(`GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      });
    expect(await rawStatus('http://127.0.0.1/openapi.json')).toBe('HTTP/1.1 200 OK');
    // Its query is the route's to judge: refused (400), where a target read wrongly would match no route (404).
    expect(await rawStatus('HTTP://elsewhere.example:8080/openapi.json?x')).toBe('HTTP/1.1 400 Bad Request');
    expect(await rawStatus('//127.0.0.1/openapi.json')).toBe('HTTP/1.1 404 Not Found');
    expect(await rawStatus('https://127.0.0.1/openapi.json')).toBe('HTTP/1.1 200 OK');
    expect(await rawStatus('//openapi.json')).toBe('HTTP/1.1 404 Not Found');
    // A URL further on is a query's, not the target's authority.
    expect(await rawStatus('/openapi.json?next=http://elsewhere.example/')).toBe('HTTP/1.1 400 Bad Request');
  });
});

describe('a rejected request appends nothing', () => {
  /** Asserts the stream is empty after `reject`, then that a valid request does write to it: the check looks in the right place. */
  const nothingThenSomething = async (
    streamId: string,
    reject: () => Promise<unknown>,
    accept: () => Promise<unknown>,
  ) => {
    await reject();
    expect(await storedEvents(streamId)).toEqual([]);
    await accept();
    expect((await storedEvents(streamId)).length).toBeGreaterThan(0);
  };

  describe('POST /products', () => {
    const register = async (sku: string) => {
      const answer = await call('POST', '/products', { as: admin, body: product({ sku }) });
      expect(answer.status).toBe(201);
    };

    it.each([
      [400, (sku: string) => call('POST', '/products', { as: admin, body: product({ sku, stock: -1 }) })],
      [400, (sku: string) => call('POST', '/products', { as: admin, body: product({ sku, extra: true }) })],
      [401, (sku: string) => call('POST', '/products', { as: null, body: product({ sku }) })],
      [403, (sku: string) => call('POST', '/products', { as: uniqueCustomer(), body: product({ sku }) })],
      [413, (sku: string) => call('POST', '/products', { as: admin, rawBody: oversized(product({ sku })) })],
      [
        415,
        (sku: string) =>
          call('POST', '/products', {
            as: admin,
            rawBody: JSON.stringify(product({ sku })),
            headers: { 'content-type': 'text/plain' },
          }),
      ],
    ])('writes no event for a %s', async (status, send) => {
      const sku = uniqueSku();
      await nothingThenSomething(
        `product-${sku}`,
        async () => expect((await send(sku)).status).toBe(status),
        () => register(sku),
      );
    });

    it('writes no event for a 409 (the SKU exists) and keeps the first registration', async () => {
      const sku = uniqueSku();
      await register(sku);
      const again = await call('POST', '/products', { as: admin, body: product({ sku, name: 'Impostor' }) });
      expectProblem(again, 409, 'product-already-registered');
      const stored = await storedEvents(`product-${sku}`);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ type: 'ProductRegistered', data: { name: 'Teapot' } });
    });
  });

  describe('POST /products/{sku}/restock', () => {
    it('writes no event for a 404 (unknown SKU)', async () => {
      const sku = uniqueSku();
      const answer = await call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 3 } });
      expectProblem(answer, 404, 'not-found');
      expect(await storedEvents(`product-${sku}`)).toEqual([]);
    });

    it.each([
      [400, (sku: string) => call('POST', `/products/${sku}/restock`, { as: admin, body: { quantity: 0 } })],
      [403, (sku: string) => call('POST', `/products/${sku}/restock`, { as: uniqueCustomer(), body: { quantity: 3 } })],
      [401, (sku: string) => call('POST', `/products/${sku}/restock`, { as: null, body: { quantity: 3 } })],
    ])('writes no event for a %s on a registered product', async (status, send) => {
      const sku = await givenProduct(call);
      expect((await send(sku)).status).toBe(status);
      expect(await storedEvents(`product-${sku}`)).toHaveLength(1);
    });
  });

  describe('POST /orders with an Idempotency-Key', () => {
    type Send = (customer: string, key: string, sku: string) => ReturnType<Call>;
    const place =
      (body: (sku: string) => unknown, options: { token?: (customer: string) => Promise<string> } = {}): Send =>
      async (customer, key, sku) =>
        call('POST', '/orders', {
          as: options.token ? null : customer,
          body: body(sku),
          headers: {
            'idempotency-key': key,
            ...(options.token ? { authorization: `Bearer ${await options.token(customer)}` } : {}),
          },
        });

    it.each<[string, number, Send]>([
      ['a 400 (validation)', 400, place((sku) => ({ items: [{ sku, quantity: 0 }], payment }))],
      [
        'a 400 (malformed JSON)',
        400,
        (customer, key) =>
          call('POST', '/orders', { as: customer, rawBody: '{"items":', headers: { 'idempotency-key': key } }),
      ],
      [
        'a 401 (expired token)',
        401,
        place((sku) => ({ items: [{ sku, quantity: 1 }], payment }), {
          token: (customer) => api().issuer.sign(customer, { expiresIn: '-1m' }),
        }),
      ],
      [
        'a 413',
        413,
        (customer, key, sku) =>
          call('POST', '/orders', {
            as: customer,
            rawBody: JSON.stringify({ items: [{ sku, quantity: 1 }], payment: { token: 't'.repeat(65 * 1024) } }),
            headers: { 'idempotency-key': key },
          }),
      ],
      [
        'a 415',
        415,
        (customer, key, sku) =>
          call('POST', '/orders', {
            as: customer,
            rawBody: JSON.stringify({ items: [{ sku, quantity: 1 }], payment }),
            headers: { 'idempotency-key': key, 'content-type': 'text/plain' },
          }),
      ],
      [
        'a 422 (unknown SKU)',
        422,
        place((sku) => ({
          items: [
            { sku, quantity: 1 },
            { sku: uniqueSku(), quantity: 1 },
          ],
          payment,
        })),
      ],
    ])('writes no order for %s, and the key still places the order afterwards', async (_, status, send) => {
      const customer = uniqueCustomer();
      const key = `key-${randomUUID()}`;
      const sku = await givenProduct(call);
      const orderId = orderIdForKey(customer, key);
      await nothingThenSomething(
        `order-${orderId}`,
        async () => expect((await send(customer, key, sku)).status).toBe(status),
        async () => {
          const answer = await call('POST', '/orders', {
            as: customer,
            body: { items: [{ sku, quantity: 1 }], payment },
            headers: { 'idempotency-key': key },
          });
          expect(answer.json).toMatchObject({ orderId, status: 'PENDING', lines: [{ sku, quantity: 1 }] });
        },
      );
    });

    it('writes no order for a 422 (mixed currencies)', async () => {
      const customer = uniqueCustomer();
      const key = `key-${randomUUID()}`;
      const euros = await givenProduct(call, { price: { amount: 1, currency: 'EUR' } });
      const pounds = await givenProduct(call, { price: { amount: 1, currency: 'GBP' } });
      const answer = await call('POST', '/orders', {
        as: customer,
        body: {
          items: [
            { sku: euros, quantity: 1 },
            { sku: pounds, quantity: 1 },
          ],
          payment,
        },
        headers: { 'idempotency-key': key },
      });
      expectProblem(answer, 422, 'mixed-currencies');
      expect(await storedEvents(`order-${orderIdForKey(customer, key)}`)).toEqual([]);
    });

    it('writes no order for a 422 (a total past the largest exact amount)', async () => {
      const customer = uniqueCustomer();
      const key = `key-${randomUUID()}`;
      const sku = await givenProduct(call, { price: { amount: Number.MAX_SAFE_INTEGER, currency: 'EUR' } });
      const answer = await call('POST', '/orders', {
        as: customer,
        body: { items: [{ sku, quantity: 2 }], payment },
        headers: { 'idempotency-key': key },
      });
      expectProblem(answer, 422, 'order-total-too-large');
      expect(await storedEvents(`order-${orderIdForKey(customer, key)}`)).toEqual([]);
    });

    it('writes nothing to the products an order names when it is refused', async () => {
      const sku = await givenProduct(call);
      const answer = await call('POST', '/orders', {
        as: uniqueCustomer(),
        body: {
          items: [
            { sku, quantity: 1 },
            { sku: uniqueSku(), quantity: 1 },
          ],
          payment,
        },
      });
      expectProblem(answer, 422, 'unknown-sku');
      expect(await storedEvents(`product-${sku}`)).toHaveLength(1);
    });
  });

  describe('POST /orders/{orderId}/cancel', () => {
    it.each([
      [
        'another customer (404)',
        404,
        (orderId: string) => call('POST', `/orders/${orderId}/cancel`, { as: uniqueCustomer() }),
      ],
      ['no token (401)', 401, (orderId: string) => call('POST', `/orders/${orderId}/cancel`, { as: null })],
    ])('writes no event for %s', async (_, status, send) => {
      const orderId = await givenOrder(call, uniqueCustomer(), await givenProduct(call));
      expect((await send(orderId)).status).toBe(status);
      const types = (await storedEvents(`order-${orderId}`)).map((e) => e.type);
      expect(types.slice(0, 2)).toEqual(['OrderPlaced', 'StockReserved']);
      expect(types).not.toContain('OrderCancelled');
    });

    it('writes no stream for a missing order', async () => {
      const orderId = randomUUID();
      expectProblem(await call('POST', `/orders/${orderId}/cancel`, { as: admin }), 404, 'not-found');
      expect(await storedEvents(`order-${orderId}`)).toEqual([]);
    });
  });
});
