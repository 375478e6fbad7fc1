import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z, ZodType } from 'zod';
import type { Route } from '../../api/routes.js';
import { actorOf, type Caller } from '../../application/caller.js';
import type { EventMetadata } from '../../eventstore/types.js';
import { baseLogger } from '../observability/log.js';
import { ifNoneMatch } from './etags.js';
import type { Logger } from '../observability/logger.js';
import { telemetry } from '../observability/telemetry.js';
import { type TraceAnnotations, tracer } from '../observability/tracing.js';
import {
  accessLog,
  authClaims,
  correlationId,
  headersOnly,
  type HttpContext,
  jsonBody,
  problemErrors,
  validate,
} from './middlewares.js';

type Parsed<R, K extends string, Otherwise> = R extends { [P in K]: infer S extends ZodType } ? z.output<S> : Otherwise;

/** What a route's handler receives: validated input, the caller, and what a command needs. */
export type HttpRequest<R extends Route> = {
  body: Parsed<R, 'body', undefined>;
  params: Parsed<R, 'params', Record<string, never>>;
  query: Parsed<R, 'query', Record<string, never>>;
  headers: Parsed<R, 'headers', Record<string, never>>;
  caller: R['access'] extends 'public' ? undefined : Caller;
  correlationId: string;
  logger: Logger;
  /**
   * A 200 with `body` and its ETag, or a 304 without a body when the client's If-None-Match already names the ETag.
   */
  conditional: (etag: string, body: unknown) => HttpResponse;
  /** Metadata for a command this request issues, tying its events to this request (a new command id per call). */
  metadata: () => EventMetadata;
};

export type HttpResponse = { status: number; body?: unknown; headers?: Record<string, string> };

export const ok = (body: unknown): HttpResponse => ({ status: 200, body });
export const created = (location: string, body: unknown): HttpResponse => ({
  status: 201,
  body,
  headers: { location },
});
export const accepted = (location: string, body: unknown): HttpResponse => ({
  status: 202,
  body,
  headers: { location },
});

/** Every authenticated read's cache policy: the caller's own cache only, and checked again each time (by its ETag). */
const PRIVATE = 'private, no-cache';

/**
 * JSON with U+FFFD written as its escape: a request body holding the character itself is refused as bytes that were
 * not UTF-8 (jsonBody), so an answer a client sends back as it got it must not hold it either.
 */
const jsonText = (body: unknown): string => JSON.stringify(body).replaceAll('\uFFFD', '\\ufffd');

const toResult = ({ status, body, headers }: HttpResponse): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
  ...(body === undefined ? {} : { body: jsonText(body) }),
});

/** The order and SKU a request or its answer names, for its log lines and its trace. */
const identifiersOf = (...sources: unknown[]): Pick<TraceAnnotations, 'orderId' | 'sku'> => {
  const found: Pick<TraceAnnotations, 'orderId' | 'sku'> = {};
  for (const source of sources) {
    if (typeof source !== 'object' || source === null) continue;
    const { orderId, sku } = source as Record<string, unknown>;
    if (typeof orderId === 'string') found.orderId ??= orderId;
    if (typeof sku === 'string') found.sku ??= sku;
  }
  return found;
};

/**
 * How long before the function's timeout a request still running is answered `503` (middy's early timeout, a
 * `TimeoutError`): time enough to log it and answer, where Lambda's own timeout would leave the client API Gateway's
 * bare 500 and no line saying why.
 */
export const TIMEOUT_EARLY_MS = 1000;

/**
 * The one middy stack every HTTP route uses: a HEAD's answer without its body → telemetry (trace subsegment, metrics
 * flush) → correlation id → access log → auth claims → JSON body (64 KiB) → zod validation → handler, with the
 * problem+json error gate registered last so its onError runs first.
 *
 * @example
 * export const handler = httpHandler(route('cancelOrder'), async (request) => {
 *   const order = await cancelOrder({ orderId: request.params.orderId, caller: request.caller }, commandContext(request));
 *   return accepted(`/orders/${order.orderId}`, order);
 * });
 */
export const httpHandler = <R extends Route>(route: R, handle: (request: HttpRequest<R>) => Promise<HttpResponse>) =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, HttpContext>({ timeoutEarlyInMillis: TIMEOUT_EARLY_MS })
    .use(headersOnly())
    .use(telemetry())
    .use(correlationId(baseLogger))
    .use(accessLog())
    .use(authClaims(route.access))
    .use(jsonBody({ required: route.body !== undefined }))
    .use(validate(route))
    .use(problemErrors())
    .handler(async (event, context) => {
      const { correlationId: id, caller, input } = context;
      // Bound to the request's logger, so the access log line after the handler names the order too.
      const named = identifiersOf(input?.params, input?.body);
      tracer().annotate({ correlationId: id, ...named });
      const logger = (context.logger = context.logger.child(named));
      const requestId = event.requestContext?.requestId ?? randomUUID();
      const request = {
        body: input?.body,
        params: input?.params ?? {},
        query: input?.query ?? {},
        // A read answers one caller: no shared cache may keep it, and the caller's own asks again with its ETag.
        conditional: (etag: string, body: unknown): HttpResponse =>
          ifNoneMatch(event.headers?.['if-none-match'], etag)
            ? { status: 304, headers: { etag, 'cache-control': PRIVATE } }
            : { status: 200, body, headers: { etag, 'cache-control': PRIVATE } },
        headers: input?.headers ?? {},
        caller,
        correlationId: id,
        logger,
        metadata: (): EventMetadata => ({
          correlationId: id,
          causationId: requestId,
          commandId: randomUUID(),
          actor: caller ? actorOf(caller) : 'anonymous',
        }),
      } as HttpRequest<R>;
      const response = await handle(request);
      const answered = identifiersOf(response.body);
      if (!named.orderId && answered.orderId) {
        tracer().annotate({ orderId: answered.orderId });
        context.logger = logger.child({ orderId: answered.orderId });
      }
      return toResult(response);
    });
