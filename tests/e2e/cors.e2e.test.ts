import { describe, expect, it } from 'vitest';
import type { oas31 } from 'zod-openapi';
import { openApiDocument } from '../../api/openapi.js';
import { version } from '../../api/version.js';
import { expectProblem, givenProduct, uniqueCustomer, useTestApi } from './http.js';

// The test stage serves one web app, https://shop.example.com, as docs/operations.md sets a stage's CORS
// (serverless.yml, params.test.httpApiCors); the local gateway reads the same setting the template is built from.
const { call, api } = useTestApi();
const shop = 'https://shop.example.com';

const preflight = (path: string, origin: string, method: string, headers: string) =>
  api().call('OPTIONS', path, {
    as: null,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

describe('CORS, on a stage that names its web app’s origin', () => {
  it('answers the app’s preflight in the gateway, without a token, with what the stage allows', async () => {
    const answer = await preflight('/orders', shop, 'POST', 'authorization,content-type,idempotency-key');
    expect(answer.status).toBe(204);
    expect(answer.text).toBe('');
    expect(Object.fromEntries([...answer.headers].filter(([name]) => name.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': shop,
      // The routes' methods, not the PUT, PATCH and DELETE the $default route's `*` would add.
      'access-control-allow-methods': 'GET,HEAD,POST,OPTIONS',
      'access-control-allow-headers': 'Content-Type,Authorization,Idempotency-Key,If-None-Match,X-Correlation-Id',
      'access-control-max-age': '300',
    });
    expect(answer.headers.get('vary')).toBe('origin');
  });

  it('allows nothing to another origin, or to a header the stage does not name', async () => {
    for (const answer of [
      await preflight('/orders', 'https://evil.example', 'POST', 'authorization'),
      await preflight('/orders', shop, 'POST', 'authorization,x-debug'),
    ]) {
      expect(answer.status).toBe(204);
      expect([...answer.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('names the app’s origin and the headers it may read on every answer: the functions’ and the gateway’s own', async () => {
    const sku = await givenProduct(call);
    const customer = uniqueCustomer();
    const placed = await call('POST', '/orders', {
      as: customer,
      body: { items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } },
      headers: { origin: shop },
    });
    expect(placed.status).toBe(202);
    expect(placed.headers.get('access-control-allow-origin')).toBe(shop);
    const exposed = placed.headers.get('access-control-expose-headers') ?? '';
    expect(exposed).toBe('ETag,Location,Retry-After,X-Correlation-Id,Allow,WWW-Authenticate,Accept-Encoding');
    // Every response header the contract names but those a browser lets any page read (Cache-Control).
    const named = Object.values(openApiDocument(version).paths ?? {}).flatMap((item) =>
      Object.values(item ?? {}).flatMap((operation) =>
        Object.values((operation as oas31.OperationObject).responses ?? {}).flatMap((response) =>
          Object.keys((response as oas31.ResponseObject).headers ?? {}),
        ),
      ),
    );
    const readable = new Set([...exposed.split(','), 'Cache-Control'].map((name) => name.toLowerCase()));
    expect([...new Set(named)].filter((name) => !readable.has(name.toLowerCase()))).toEqual([]);
    // Refused by the gateway (no token): the app can still read why.
    const refused = await call('GET', '/orders', { as: null, headers: { origin: shop } });
    expectProblem(refused, 401, 'unauthorized');
    expect(refused.headers.get('access-control-allow-origin')).toBe(shop);
    // Another origin, or none (a server, curl): no CORS headers, and the same answer otherwise.
    for (const headers of [{ origin: 'https://evil.example' }, {}] as Record<string, string>[]) {
      const product = await call('GET', `/products/${sku}`, { as: customer, headers });
      expect(product.status).toBe(200);
      expect([...product.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('answers a plain OPTIONS with what the path allows, and a path that is not there with a 404', async () => {
    const known = await api().call('OPTIONS', '/orders', { as: null });
    expect(known.status).toBe(204);
    expect(known.headers.get('allow')).toBe('POST, GET, HEAD, OPTIONS');
    expectProblem(await api().call('OPTIONS', '/nowhere', { as: null }), 404, 'not-found');
  });
});
