import * as z from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import { acceptableCorrelationId } from './correlation.js';
import { exampleOf } from './examples.js';
import { type ProblemSlug, problemStatus, problemType } from './problems.js';
import { GatewayMessage, Problem, responseSchemas } from './responses.js';
import { ADMIN_SCOPE, type Route, routes } from './routes.js';

const text = { type: 'string' } as const;
/**
 * The headers an answer of `status` carries, `required` where every such answer has it. The correlation id is on
 * every answer but a 401 or 403, which on AWS API Gateway's authorizer gives itself, without one.
 */
const headersOf = (status: number, route: Route, slugs: readonly ProblemSlug[]) => ({
  'x-correlation-id': {
    description: 'The request’s correlation id: the caller’s, if it sent an acceptable one, else a fresh one.',
    ...(status !== 401 && status !== 403 ? { required: true } : {}),
    schema: text,
  },
  ...(status === 201 || status === 202
    ? { Location: { description: 'The resource it created or acted on.', required: true, schema: text } }
    : {}),
  // A 409 says when to retry only for `concurrent-modification`: the others (a SKU taken, an order rejected) do not
  // pass with time.
  ...(status === 503 || (status === 409 && slugs.includes('concurrent-modification'))
    ? {
        'Retry-After': {
          description:
            status === 409 && slugs.length > 1
              ? 'Seconds to wait before retrying, with a `concurrent-modification` (the resource kept changing).'
              : 'Seconds to wait before retrying.',
          ...(status === 503 || slugs.length === 1 ? { required: true } : {}),
          schema: text,
        },
      }
    : {}),
  ...(status === 415
    ? {
        'Accept-Encoding': {
          description: '`identity`, when the body came in a content coding (gzip, say): send it uncompressed.',
          schema: text,
        },
      }
    : {}),
  ...(status === 401 ? { 'WWW-Authenticate': { description: 'The bearer scheme, and why.', schema: text } } : {}),
  ...((status === 200 || status === 304) && route.method === 'GET'
    ? {
        ETag: { description: 'The representation’s version, for If-None-Match.', required: true, schema: text },
        'Cache-Control': {
          description:
            route.access === 'public'
              ? '`no-cache`: any cache may keep it, and asks again with the ETag before reusing it.'
              : '`private, no-cache`: it answers one caller, who asks again with the ETag before reusing it.',
          required: true,
          schema: text,
        },
      }
    : {}),
});

/** Each problem type of a status, for an answer that lists none of its own. */
const slugsOf = (status: number) =>
  (Object.keys(problemStatus) as ProblemSlug[]).filter((slug) => problemStatus[slug] === status);

/** A problem answer, its `type` narrowed to the slugs it may be: a client branches on them, not on the prose. */
const problemResponse = (
  description: string,
  status: number,
  route: Route,
  {
    slugs = slugsOf(status),
    alsoByGateway = false,
  }: {
    slugs?: readonly ProblemSlug[] | undefined;
    /** API Gateway may give this status itself, as its `{"message": …}`. */
    alsoByGateway?: boolean;
  } = {},
) => ({
  description,
  headers: headersOf(status, route, slugs),
  content: {
    'application/problem+json': {
      schema: z.intersection(Problem, z.looseObject({ type: z.enum(slugs.map(problemType)) })),
    },
    ...(alsoByGateway ? { 'application/json': { schema: GatewayMessage } } : {}),
  },
});

/** A header's description on the parameter, where a generated client shows it, not only on its schema. */
const described = (schema: z.ZodType) =>
  schema.meta({ description: (schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema).description });

/** The request headers every route reads, besides its own. */
const requestHeaders = (route: Route) =>
  z.object({
    ...Object.fromEntries(
      Object.entries(route.headers?.shape ?? {}).map(([name, schema]) => [name, described(schema)]),
    ),
    'x-correlation-id': z.string().regex(acceptableCorrelationId).optional().meta({
      description: 'A correlation id to carry into logs and events; one not of this shape is replaced by a fresh one.',
    }),
    ...(route.responses[304]
      ? { 'if-none-match': z.string().optional().meta({ description: 'An ETag held: 304 while it still matches.' }) }
      : {}),
  });

/** Errors any route can answer, besides the ones it lists. */
// On AWS, API Gateway's JWT authorizer answers these two itself: `{"message": …}`, without a correlation id.
const byGateway = ' (on AWS, API Gateway answers this itself: `{"message": …}`, without x-correlation-id).';
const commonErrors = (route: Route) => ({
  ...(route.access === 'public'
    ? {}
    : {
        401: problemResponse(`Missing, expired or invalid bearer token${byGateway}`, 401, route, {
          alsoByGateway: true,
        }),
      }),
  ...(route.access === 'admin'
    ? {
        403: problemResponse(`The token lacks the orderflow/admin scope${byGateway}`, 403, route, {
          alsoByGateway: true,
        }),
      }
    : {}),
  // Every route refuses a query parameter it does not take.
  400: problemResponse(
    route.body
      ? 'Malformed JSON, a body (or header) that does not match the schema, or an unknown query parameter (see `errors`).'
      : route.query || route.headers
        ? 'A query parameter or a header is invalid, or unknown (see `errors`).'
        : 'The route takes no query parameter (see `errors`).',
    400,
    route,
    { slugs: route.body ? ['validation-failed', 'malformed-json', 'body-required'] : ['validation-failed'] },
  ),
  ...(route.body
    ? {
        413: problemResponse(`The body is over 64 KiB. Past 10 MB, API Gateway's limit${byGateway}`, 413, route, {
          alsoByGateway: true,
        }),
        415: problemResponse('The body is not JSON (application/json, or an application/*+json type).', 415, route),
      }
    : {
        // The route reads no body, but the gateway still takes it in first, up to its own limit.
        413: problemResponse(
          `A body over 10 MB, API Gateway's limit; a smaller one is ignored${byGateway}`,
          413,
          route,
          {
            alsoByGateway: true,
          },
        ),
      }),
  500: problemResponse('An unexpected failure; the correlation id finds it in the logs.', 500, route),
  503: problemResponse(
    'A service the call depends on failed or did not answer in time' +
      (route.method === 'GET'
        ? '. Retry after `Retry-After`.'
        : route.headers?.shape['idempotency-key']
          ? '; it may or may not have taken effect. Retry after `Retry-After` with the same `Idempotency-Key`: it ' +
            'takes effect once.'
          : route.safeToResend
            ? `; it may or may not have taken effect. Retry after \`Retry-After\`: ${route.safeToResend}.`
            : // No key, and nothing else, makes a retry safe.
              '; it may or may not have taken effect. Look before sending it again after `Retry-After`: this route ' +
              'takes no `Idempotency-Key`.'),
    503,
    route,
  ),
  429: {
    description:
      'Over the stage’s throttling limits (on AWS, API Gateway answers this itself; the local stack throttles nothing): ' +
      'retry later.',
    content: { 'application/json': { schema: GatewayMessage } },
  },
});

/** Each route's tag: the first segment of its path. */
const tagOf = (route: Route) => route.path.split('/')[1] ?? '';

/** What each tag holds. A route under a new first segment needs one here: the document is not made without it. */
const tagDescriptions: Record<string, string> = {
  products: 'The catalogue and each product’s stock; changing them takes the admin scope.',
  orders: 'A customer’s orders: placing, cancelling, reading and listing them.',
  'openapi.json': 'This document.',
};

const tags = () =>
  [...new Set(routes.map(tagOf))].map((name) => {
    const description = tagDescriptions[name];
    if (description === undefined) throw new Error(`No description of the tag ${name} (api/openapi.ts)`);
    return { name, description };
  });

const operation = (route: Route): ZodOpenApiOperationObject => {
  const example = exampleOf(route.operationId);
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [tagOf(route)],
    ...(route.access === 'public' ? { security: [] } : {}),
    // OpenAPI 3.1 lets a bearer scheme name the roles a call needs: the admin scope, in the token's `scope` claim.
    ...(route.access === 'admin' ? { security: [{ bearer: [ADMIN_SCOPE] }] } : {}),
    requestParams: {
      ...(route.params ? { path: route.params } : {}),
      ...(route.query ? { query: route.query } : {}),
      header: requestHeaders(route),
    },
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: route.body,
                ...(example?.request === undefined ? {} : { example: example.request }),
              },
            },
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(route.responses).map(([status, { description, schema, problems }]) => [
          status,
          Number(status) >= 400
            ? problemResponse(description, Number(status), route, { slugs: problems })
            : {
                description,
                headers: headersOf(Number(status), route, []),
                ...(schema
                  ? {
                      content: {
                        'application/json': {
                          schema: responseSchemas[schema],
                          ...(example?.response.status === Number(status) ? { example: example.response.value } : {}),
                        },
                      },
                    }
                  : {}),
              },
        ]),
      ),
      ...commonErrors(route),
    },
  };
};

/** A GET route's HEAD, which every one answers: the GET's parameters, statuses and headers, without a body (RFC 9110). */
const headOperation = (route: Route): ZodOpenApiOperationObject => {
  const get = operation(route);
  return {
    ...get,
    operationId: `${route.operationId}Head`,
    summary: `${route.summary} Its status and headers only.`,
    responses: Object.fromEntries(
      Object.entries(get.responses ?? {}).map(([status, response]) => {
        const { content: _, ...headers } = response as ZodOpenApiResponseObject;
        return [status, headers];
      }),
    ),
  };
};

/** The OpenAPI 3.1 document of the contract in routes.ts. */
export const openApiDocument = (version: string) => {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: operation(route),
      ...(route.method === 'GET' ? { head: headOperation(route) } : {}),
    };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'orderflow',
      version,
      description:
        'Event-sourced order backend. Money is integer minor units with an ISO 4217 currency. Errors are RFC 9457 ' +
        'problem documents, each `type` one its answer lists. Every answer carries x-correlation-id but those API ' +
        'Gateway gives itself. Writes take no precondition (If-Match, If-None-Match, If-Unmodified-Since; one sent is ' +
        'a 400): each is decided on the state it finds, and one that kept losing races to other writers answers 409 ' +
        'concurrent-modification.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: the API that serves this document at /openapi.json.
    servers: [{ url: '/', description: 'The API serving this document.' }],
    tags: tags(),
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  });
};
