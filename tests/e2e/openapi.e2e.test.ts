import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../api/openapi.js';
import { type ProblemSlug, problemStatus } from '../../api/problems.js';
import { routes } from '../../api/routes.js';
import { version } from '../../api/version.js';
import { projectRoot } from '../../local/paths.js';
import { startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.api.close());

describe('the published OpenAPI document', () => {
  it('is what GET /openapi.json serves, to the byte (run `npm run openapi` after changing the contract)', async () => {
    const published = JSON.parse(await readFile(join(projectRoot, 'docs', 'openapi.json'), 'utf8')) as unknown;
    const served = await api.call('GET', '/openapi.json', { as: null });
    expect(served.status).toBe(200);
    expect(served.json).toEqual(published);
    expect(published).toEqual(openApiDocument(version));
  });

  it('describes every route of the contract, with problem documents for errors, each narrowed to its types', () => {
    const document = openApiDocument(version);
    expect(document.openapi).toBe('3.1.0');
    for (const route of routes) {
      const operation = document.paths?.[route.path]?.[route.method.toLowerCase() as 'get' | 'post'];
      expect(operation?.operationId).toBe(route.operationId);
      const errors = Object.entries(operation?.responses ?? {}).filter(([status]) => Number(status) >= 400);
      expect(errors.length).toBeGreaterThan(0);
      for (const [status, response] of errors) {
        const content = (response as { content?: Record<string, { schema?: unknown }> }).content ?? {};
        // API Gateway's own answers (a refused token, a missing scope, a body past its 10 MB, throttling) are its
        // `{"message": …}`.
        const byGatewayToo =
          (status === '401' && route.access !== 'public') ||
          (status === '403' && route.access === 'admin') ||
          status === '413';
        expect(Object.keys(content), `${route.operationId} ${status}`).toEqual(
          status === '429'
            ? ['application/json']
            : ['application/problem+json', ...(byGatewayToo ? ['application/json'] : [])],
        );
        if (status === '429') continue;
        // Every problem's `type` is one the contract lists for that status.
        const { allOf } = content['application/problem+json']?.schema as { allOf: [unknown, { properties: object }] };
        const { enum: types } = (allOf[1].properties as { type: { enum: string[] } }).type;
        expect(types.length, `${route.operationId} ${status}`).toBeGreaterThan(0);
        for (const type of types) {
          const slug = type.replace('urn:orderflow:problem:', '');
          expect(problemStatus[slug as ProblemSlug], `${route.operationId} ${status} ${slug}`).toBe(Number(status));
        }
      }
    }
    // Every GET answers HEAD: the same statuses, headers and parameters, without a body.
    for (const route of routes.filter((r) => r.method === 'GET')) {
      const [get, head] = (['get', 'head'] as const).map((method) => document.paths?.[route.path]?.[method]);
      expect(head?.operationId).toBe(`${route.operationId}Head`);
      expect(head?.parameters).toEqual(get?.parameters);
      expect(Object.keys(head?.responses ?? {})).toEqual(Object.keys(get?.responses ?? {}));
      for (const [status, response] of Object.entries(head?.responses ?? {})) {
        const { content: _, ...headers } = (get?.responses as Record<string, { content?: unknown }>)[status] ?? {};
        expect(response, `${route.path} ${status}`).toEqual(headers);
        expect(response, `${route.path} ${status}`).not.toHaveProperty('content');
      }
    }
    expect(document.components?.schemas).toHaveProperty('PlaceOrderRequest');
    expect(document.components?.schemas).toHaveProperty('Problem');
  });

  it('documents the 400 that every route answers to a query parameter it does not take', async () => {
    const document = openApiDocument(version);
    const id = '00000000-0000-4000-8000-000000000000';
    for (const route of routes) {
      const path = route.path.replace('{orderId}', id).replace('{sku}', 'NO-SUCH-SKU');
      const answer = await api.call(route.method, `${path}?unknownParameter=1`, {
        as: route.access === 'admin' ? { admin: 'ops' } : route.access === 'public' ? null : 'customer-1',
        // A route that takes a body is asked with an empty one: its fields are named beside the parameter.
        ...('body' in route ? { body: {} } : {}),
      });
      expect(answer.status, `${route.method} ${route.path}: ${answer.text}`).toBe(400);
      expect(answer.json.errors, `${route.method} ${route.path}: ${answer.text}`).toContainEqual({
        parameter: 'unknownParameter',
        detail: 'Unknown parameter.',
      });
      const operation = document.paths?.[route.path]?.[route.method.toLowerCase() as 'get' | 'post'];
      const documented = (operation?.responses as Record<string, { description?: string }> | undefined)?.[400];
      expect(documented?.description, `${route.method} ${route.path}`).toMatch(/query parameter/);
      expect(answer.json).toMatchObject({ type: 'urn:orderflow:problem:validation-failed', status: 400 });
    }
  });
});
