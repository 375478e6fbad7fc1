import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
// Written by `npm run openapi` from api/openapi.ts (a unit test fails when it is stale), and inlined by the bundler:
// the document is the same for the whole deployment, so it is not built from the zod schemas at every cold start.
import document from '../../docs/openapi.json' with { type: 'json' };
import { baseLogger } from '../observability/log.js';
import { telemetry } from '../observability/telemetry.js';
import { accessLog, correlationId, headersOnly, type HttpContext, noQuery, problemErrors } from './middlewares.js';

const body = JSON.stringify(document);

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
  .handler(async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body }));
