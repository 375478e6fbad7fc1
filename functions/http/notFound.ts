import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { allowedMethods, notAllowed } from '../../api/allowedMethods.js';
import { baseLogger } from '../observability/log.js';
import { accessLog, correlationId, headersOnly, type HttpContext, notFound, problemErrors } from './middlewares.js';
import { ProblemError } from './problem.js';

/**
 * API Gateway's `$default` route: whatever no other route matched. A known path with another method is a 405 with
 * the methods it allows, and `OPTIONS` on it a 204 that names them; anything else is a 404. Errors as problem
 * documents, like every other error.
 */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, HttpContext>()
  .use(headersOnly())
  .use(correlationId(baseLogger))
  .use(accessLog())
  .use(problemErrors())
  .handler(async (event) => {
    const allowed = allowedMethods(event.rawPath);
    if (allowed.length === 0) throw notFound();
    const { allow, detail } = notAllowed(event.requestContext.http.method, allowed);
    // What a path takes (RFC 9110 §9.3.7). A stage with CORS has the gateway answer a browser's preflight, but
    // `$default` takes every request no route names, so a preflight that reaches it finds a 2xx too, not a 405.
    if (event.requestContext.http.method === 'OPTIONS') return { statusCode: 204, headers: { allow } };
    throw new ProblemError(405, 'method-not-allowed', 'Method Not Allowed', detail, { headers: { allow } });
  });
