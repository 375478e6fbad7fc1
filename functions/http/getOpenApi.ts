// Written by `npm run openapi` from api/openapi.ts (a unit test fails when it is stale), and inlined by the bundler:
// the document is the same for the whole deployment, so it is not built from the zod schemas at every cold start.
import document from '../../docs/openapi.json' with { type: 'json' };
import { route } from '../../api/routes.js';
import { httpHandler, ok } from './httpHandler.js';

export const handler = httpHandler(route('getOpenApi'), async () => ok(document));
