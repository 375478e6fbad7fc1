import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openApiDocument } from '../api/openapi.js';
import { routeTable } from '../api/routes.js';
import { version } from '../api/version.js';
import { projectRoot } from './paths.js';

/**
 * `npm run openapi`: writes docs/openapi.json, the published copy of what GET /openapi.json serves, and
 * api/routeTable.json, the routes' methods and paths. The getOpenApi and notFound functions serve these precomputed
 * answers, so neither builds them from the zod schemas at cold start; a unit test fails when either is stale.
 */
const write = (path: string, value: unknown) =>
  writeFile(join(projectRoot, path), `${JSON.stringify(value, null, 2)}\n`);
await mkdir(join(projectRoot, 'docs'), { recursive: true });
await write('docs/openapi.json', openApiDocument(version));
await write('api/routeTable.json', routeTable());
console.log('wrote docs/openapi.json and api/routeTable.json');
