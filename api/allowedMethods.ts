// Written by `npm run openapi` from api/routes.ts (a unit test fails when it is stale): the route table's methods and
// paths without the zod schemas, which the `$default` function would otherwise build at every cold start.
import routeTable from './routeTable.json' with { type: 'json' };
import { routePattern } from './routePattern.js';

const templates = routeTable.map((r) => ({ method: r.method, pattern: routePattern(r.path).pattern }));

/**
 * The methods the routes take on a path, `HEAD` with each `GET` (serverless.yml gives each GET route a HEAD route);
 * none for a path no route has. Zod-free, for the `$default` function and the local server alike.
 */
export const allowedMethods = (path: string): string[] =>
  templates.filter((t) => t.pattern.test(path)).flatMap((t) => (t.method === 'GET' ? ['GET', 'HEAD'] : [t.method]));

/** What a 405 on a path some route has says: its `Allow` (what `OPTIONS` on it answers too) and its detail. */
export const notAllowed = (method: string, allowed: string[]): { allow: string; detail: string } => ({
  allow: [...allowed, 'OPTIONS'].join(', '),
  detail: `${method} is not allowed here; use ${allowed.join(', ')}.`,
});
