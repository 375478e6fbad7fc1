import { describe, expect, it } from 'vitest';
import { departuresFromContract } from '../../support/documented.js';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers({
    'content-type': 'application/json',
    'x-correlation-id': 'c-1',
    // A read's: what its 200 and 304 carry, and nothing else does.
    ...(status === 200 || status === 304 ? { etag: 'W/"1"', 'cache-control': 'private, no-cache' } : {}),
    ...headers,
  }),
  text: body === undefined ? '' : JSON.stringify(body),
});
const product = {
  sku: 'SKU-1',
  name: 'A product',
  price: { amount: 1999, currency: 'EUR' },
  stock: { available: 3, reserved: 1, sold: 2 },
  version: 4,
  discontinued: false,
};

/** A 409's problem document of type `slug`. */
const conflictProblem = (slug: string) => ({
  type: `urn:orderflow:problem:${slug}`,
  title: 'Conflict',
  status: 409,
  detail: 'x',
  correlationId: 'c-1',
});

// The e2e harness holds every answer to docs/openapi.json with this; here, that it can tell one apart at all.
describe('holding an answer to the published contract', () => {
  it('lets through an answer the contract documents', () => {
    expect(departuresFromContract('GET', '/products/SKU-1', answer(200, product))).toEqual([]);
    expect(departuresFromContract('HEAD', '/products/SKU-1?x=1', answer(200, undefined))).toEqual([]);
    expect(departuresFromContract('GET', '/products/SKU-1', answer(304, undefined))).toEqual([]);
  });

  it('names a status, a content type or a header the route does not document', () => {
    expect(departuresFromContract('GET', '/products/SKU-1', answer(418, product))).toEqual([
      'GET /products/{sku} → 418: status not documented',
    ]);
    expect(
      departuresFromContract('GET', '/products/SKU-1', answer(200, product, { 'content-type': 'text/plain' })),
    ).toEqual(['GET /products/{sku} → 200: content type text/plain not documented']);
    const { status, text } = answer(200, product);
    expect(departuresFromContract('GET', '/products/SKU-1', { status, text, headers: new Headers() })).toEqual(
      expect.arrayContaining([
        'GET /products/{sku} → 200: header x-correlation-id missing',
        'GET /products/{sku} → 200: header ETag missing',
      ]),
    );
    expect(departuresFromContract('GET', '/products/SKU-1', answer(304, product))).toEqual([
      'GET /products/{sku} → 304: a body where none is documented',
    ]);
  });

  it('names a field missing, mistyped, or one the contract does not name', () => {
    const { stock: _, ...withoutStock } = product;
    expect(departuresFromContract('GET', '/products/SKU-1', answer(200, withoutStock))).toEqual([
      expect.stringMatching(/→ 200: body must have required property 'stock'/),
    ]);
    expect(departuresFromContract('GET', '/products/SKU-1', answer(200, { ...product, version: '4' }))).toEqual([
      expect.stringMatching(/→ 200: body\/version must be integer/),
    ]);
    expect(
      departuresFromContract('GET', '/products/SKU-1', answer(200, { ...product, stock: { ...product.stock, x: 1 } })),
    ).toEqual([expect.stringMatching(/→ 200: body\/stock must NOT have (additional|unevaluated) properties/)]);
  });

  it('names a problem type the route does not list for that status, and a field a problem does not have', () => {
    const conflict = (body: unknown) =>
      answer(409, body, { 'content-type': 'application/problem+json', 'retry-after': '1' });
    const cancel = '/orders/00000000-0000-4000-8000-000000000000/cancel';
    expect(departuresFromContract('POST', cancel, conflict(conflictProblem('concurrent-modification')))).toEqual([]);
    expect(departuresFromContract('POST', cancel, conflict(conflictProblem('product-already-registered')))).toEqual([
      expect.stringMatching(/→ 409: body\/type must be equal to one of the allowed values/),
      expect.stringMatching(/→ 409: a Retry-After with urn:orderflow:problem:product-already-registered$/),
    ]);
    expect(
      departuresFromContract('POST', cancel, conflict({ ...conflictProblem('concurrent-modification'), x: 1 })),
    ).toEqual([expect.stringMatching(/→ 409: body must NOT have (additional|unevaluated) properties/)]);
  });

  it('names a header the contract lists elsewhere but not for this answer', () => {
    const problem = conflictProblem('product-already-registered');
    const taken = (headers: Record<string, string>) =>
      answer(409, problem, { 'content-type': 'application/problem+json', ...headers });
    // A SKU taken stays taken: no Retry-After, where a concurrent-modification carries one.
    expect(departuresFromContract('POST', '/products', taken({}))).toEqual([]);
    expect(departuresFromContract('POST', '/products', taken({ 'retry-after': '1' }))).toEqual([
      expect.stringMatching(/POST \/products → 409: header retry-after not documented/),
      expect.stringMatching(/→ 409: a Retry-After with urn:orderflow:problem:product-already-registered$/),
    ]);
  });

  it('names a Retry-After on a 409 that time does not cure, where the route lists one for another type', () => {
    const cancel = '/orders/00000000-0000-4000-8000-000000000000/cancel';
    const conflict = (slug: string, headers: Record<string, string>) =>
      answer(409, conflictProblem(slug), { 'content-type': 'application/problem+json', ...headers });
    expect(departuresFromContract('POST', cancel, conflict('invalid-order-transition', {}))).toEqual([]);
    expect(
      departuresFromContract('POST', cancel, conflict('invalid-order-transition', { 'retry-after': '1' })),
    ).toEqual([expect.stringMatching(/→ 409: a Retry-After with urn:orderflow:problem:invalid-order-transition$/)]);
    expect(departuresFromContract('POST', cancel, conflict('concurrent-modification', {}))).toEqual([
      expect.stringMatching(/→ 409: no Retry-After with urn:orderflow:problem:concurrent-modification$/),
    ]);
  });

  it('holds nothing to a route the contract does not have, and escapes its paths’ dots', () => {
    expect(departuresFromContract('GET', '/nowhere', answer(404, {}))).toEqual([]);
    expect(departuresFromContract('GET', '/openapiXjson', answer(404, {}))).toEqual([]);
  });
});
