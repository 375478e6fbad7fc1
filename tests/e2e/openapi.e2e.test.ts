import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../api/openapi.js';
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

  it('describes every route of the contract, with problem documents for errors', () => {
    const document = openApiDocument(version);
    expect(document.openapi).toBe('3.1.0');
    for (const route of routes) {
      const operation = document.paths?.[route.path]?.[route.method.toLowerCase() as 'get' | 'post'];
      expect(operation?.operationId).toBe(route.operationId);
      const errors = Object.entries(operation?.responses ?? {}).filter(([status]) => Number(status) >= 400);
      expect(errors.length).toBeGreaterThan(0);
      for (const [, response] of errors) {
        expect(Object.keys((response as { content?: object }).content ?? {})).toEqual(['application/problem+json']);
      }
    }
    expect(document.components?.schemas).toHaveProperty('PlaceOrderRequest');
    expect(document.components?.schemas).toHaveProperty('Problem');
  });
});
