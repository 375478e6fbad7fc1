import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
// Written by `npm run openapi` from api/openapi.ts (a unit test fails when it is stale), and inlined by the bundler:
// the document is the same for the whole deployment, so it is not built from the zod schemas at every cold start.
import document from '../../docs/openapi.json' with { type: 'json' };
import { baseLogger } from '../observability/log.js';
import { telemetry } from '../observability/telemetry.js';
import { digestEtag, ifNoneMatch } from './etags.js';
import { accessLog, correlationId, headersOnly, type HttpContext, noQuery, problemErrors } from './middlewares.js';

const body = JSON.stringify(document);
// The document changes only with a deployment: a client that kept it asks again with If-None-Match, for a 304.
const etag = digestEtag(body);
/** Its version, and that anyone's cache may keep it, checking it again by its ETag before each use. */
const cacheHeaders = { etag, 'cache-control': 'no-cache' };

/**
 * `GET /openapi.json`: public, the same answer for every request, and no input but a query parameter to refuse. The HTTP stack without its
 * route-table parts (auth claims, body, zod validation), so this function loads neither zod nor the route table.
 */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, HttpContext>()
  .use(headersOnly())
  .use(telemetry())
  .use(correlationId(baseLogger))
  .use(accessLog())
  .use(problemErrors())
  .use(noQuery())
  .handler(async (event): Promise<APIGatewayProxyResultV2> =>
    ifNoneMatch(event.headers?.['if-none-match'], etag)
      ? { statusCode: 304, headers: cacheHeaders }
      : { statusCode: 200, headers: { 'content-type': 'application/json', ...cacheHeaders }, body },
  );
