import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../api/openapi.js';
import routeTableJson from '../../../api/routeTable.json' with { type: 'json' };
import { routeTable } from '../../../api/routes.js';
import { version } from '../../../api/version.js';
import openApiJson from '../../../docs/openapi.json' with { type: 'json' };

// getOpenApi and notFound serve these files instead of computing them at cold start; here they may not drift.
describe('the precomputed answers (run `npm run openapi` after changing the contract)', () => {
  it('docs/openapi.json is the document api/openapi.ts builds', () => {
    expect(openApiJson).toStrictEqual(JSON.parse(JSON.stringify(openApiDocument(version))));
  });

  it('api/routeTable.json is every route’s method and path, in the contract’s order', () => {
    expect(routeTableJson).toStrictEqual(routeTable());
  });
});
