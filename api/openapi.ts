import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { Problem } from './schemas.js';
import { type Route, routes } from './routes.js';

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

/** Errors any route can answer, besides the ones it lists. */
const commonErrors = (route: Route) => ({
  ...(route.access === 'public' ? {} : { 401: problemResponse('Missing, expired or invalid bearer token.') }),
  ...(route.access === 'admin' ? { 403: problemResponse('The token lacks the orderflow/admin scope.') } : {}),
  ...(route.query ? { 400: problemResponse('A query parameter is invalid (see `errors`).') } : {}),
  ...(route.body
    ? {
        400: problemResponse('Malformed JSON, or a body that does not match the schema (see `errors`).'),
        413: problemResponse('The body is over 64 KiB.'),
        415: problemResponse('The body is not application/json.'),
      }
    : {}),
  500: problemResponse('An unexpected failure; the correlation id finds it in the logs.'),
});

const operation = (route: Route): ZodOpenApiOperationObject => ({
  operationId: route.operationId,
  summary: route.summary,
  ...(route.access === 'public' ? { security: [] } : {}),
  ...(route.params || route.query || route.headers
    ? {
        requestParams: {
          ...(route.params ? { path: route.params } : {}),
          ...(route.query ? { query: route.query } : {}),
          ...(route.headers ? { header: route.headers } : {}),
        },
      }
    : {}),
  ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
  responses: {
    ...Object.fromEntries(
      Object.entries(route.responses).map(([status, { description, schema }]) => [
        status,
        Number(status) >= 400
          ? problemResponse(description)
          : {
              description,
              ...(schema ? { content: { 'application/json': { schema } } } : {}),
              ...(Number(status) === 200 && route.method === 'GET' && route.access !== 'public'
                ? { headers: { ETag: { description: 'The representation’s version.', schema: { type: 'string' } } } }
                : {}),
            },
      ]),
    ),
    ...commonErrors(route),
  },
});

/** The OpenAPI 3.1 document of the contract in routes.ts. */
export const openApiDocument = (version: string) => {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'orderflow',
      version,
      description:
        'Event-sourced order backend. Money is integer minor units with an ISO 4217 currency. Errors are RFC 9457 problem documents. Every answer carries x-correlation-id.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  });
};
