import type { IncomingHttpHeaders } from 'node:http';
import * as z from 'zod';
import type { ServerlessConfig } from './serverlessConfig.js';

/** An HTTP API's CORS configuration, as the deployed template's `CorsConfiguration` holds it. */
export type CorsConfiguration = {
  allowOrigins: string[];
  allowHeaders: string[];
  allowMethods: string[];
  exposeHeaders: string[];
  maxAge?: number;
  allowCredentials: boolean;
};

const names = z.union([z.string(), z.array(z.string())]).transform((value) => (Array.isArray(value) ? value : [value]));

/** `provider.httpApi.cors` as serverless.yml takes it: `true`, or the framework's keys. */
const CorsSetting = z.union([
  z.boolean(),
  z.looseObject({
    allowedOrigins: names.optional(),
    allowedHeaders: names.optional(),
    allowedMethods: names.optional(),
    allowCredentials: z.boolean().optional(),
    exposedResponseHeaders: names.optional(),
    maxAge: z.number().optional(),
  }),
]);

/** The framework's defaults for `cors: true`, and for the keys an object leaves out (osls, `events/http-api`). */
const defaultOrigins = ['*'];
const defaultHeaders = [
  'Content-Type',
  'X-Amz-Date',
  'Authorization',
  'X-Api-Key',
  'X-Amz-Security-Token',
  'X-Amz-User-Agent',
  'X-Amzn-Trace-Id',
];
/** What a route of any method (`*`, the `$default` route) adds to the allowed methods. */
const everyMethod = ['GET', 'POST', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'DELETE'];

/**
 * The stage's CORS configuration as `sls package` puts it in the template, from the same serverless.yml setting:
 * undefined when CORS is off. Without `allowedMethods`, the methods are OPTIONS and those of the routes.
 */
export const corsConfiguration = (
  config: ServerlessConfig,
  routeMethods: readonly string[],
): CorsConfiguration | undefined => {
  const setting = CorsSetting.parse(config.provider.httpApi?.cors ?? false);
  if (setting === false) return undefined;
  const given = setting === true ? {} : setting;
  const methods = given.allowedMethods ?? [
    ...new Set(['OPTIONS', ...routeMethods.flatMap((m) => (m === '*' || m === 'ANY' ? everyMethod : [m]))]),
  ];
  return {
    allowOrigins: given.allowedOrigins ?? defaultOrigins,
    allowHeaders: given.allowedHeaders ?? defaultHeaders,
    allowMethods: methods.map((m) => m.toUpperCase()),
    exposeHeaders: given.exposedResponseHeaders ?? [],
    ...(given.maxAge !== undefined ? { maxAge: given.maxAge } : {}),
    allowCredentials: given.allowCredentials ?? false,
  };
};

/** `*`, the origin itself, or a scheme's every origin (`https://*`), as API Gateway matches `allowOrigins`. */
const originAllowed = (cors: CorsConfiguration, origin: string): boolean =>
  cors.allowOrigins.some((allowed) => {
    if (allowed === '*') return true;
    if (allowed.endsWith('://*')) return origin.toLowerCase().startsWith(allowed.slice(0, -1).toLowerCase());
    return allowed.toLowerCase() === origin.toLowerCase();
  });

const single = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(',') : value;

/** A preflight: an OPTIONS that asks, from an origin, whether a method may be sent. */
export const isPreflight = (method: string, headers: IncomingHttpHeaders): boolean =>
  method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;

/**
 * The origin a CORS answer names: `*` when every origin may call and the stage allows no credentials, else the
 * caller's.
 */
const allowOriginHeaders = (cors: CorsConfiguration, origin: string): Record<string, string> => ({
  ...(cors.allowOrigins.includes('*') && !cors.allowCredentials
    ? { 'access-control-allow-origin': '*' }
    : { 'access-control-allow-origin': origin, vary: 'origin' }),
  ...(cors.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
});

/**
 * What the gateway answers a preflight with: a 204, with the configuration's headers when the origin, the method and
 * every header asked for are allowed, and none otherwise (the browser then refuses the call itself).
 */
export const preflightHeaders = (cors: CorsConfiguration, headers: IncomingHttpHeaders): Record<string, string> => {
  const origin = single(headers.origin) ?? '';
  const method = (single(headers['access-control-request-method']) ?? '').trim().toUpperCase();
  const asked = (single(headers['access-control-request-headers']) ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const allowedHeaders = cors.allowHeaders.map((h) => h.toLowerCase());
  const allowed =
    originAllowed(cors, origin) &&
    (cors.allowMethods.includes('*') || cors.allowMethods.includes(method)) &&
    asked.every((h) => allowedHeaders.includes('*') || allowedHeaders.includes(h));
  if (!allowed) return {};
  // `*` lets any header through: the ones asked for are said back (none asked, none said), which a browser sending
  // credentials needs.
  const said = allowedHeaders.includes('*') ? asked : cors.allowHeaders;
  return {
    ...allowOriginHeaders(cors, origin),
    'access-control-allow-methods': cors.allowMethods.join(','),
    ...(said.length > 0 ? { 'access-control-allow-headers': said.join(',') } : {}),
    ...(cors.maxAge !== undefined ? { 'access-control-max-age': String(cors.maxAge) } : {}),
  };
};

/**
 * An answer's headers as the gateway sends them on a stage with CORS: the function's own `access-control-*` headers
 * dropped (API Gateway ignores them), and, for a caller from an allowed origin, the configuration's.
 */
export const withCorsHeaders = (
  cors: CorsConfiguration,
  requestHeaders: IncomingHttpHeaders,
  answerHeaders: Record<string, string | number | boolean>,
): Record<string, string | number | boolean> => {
  const kept = Object.entries(answerHeaders).filter(([name]) => !name.toLowerCase().startsWith('access-control-'));
  const origin = single(requestHeaders.origin);
  if (origin === undefined || !originAllowed(cors, origin)) return Object.fromEntries(kept);
  const added = allowOriginHeaders(cors, origin);
  // The function's `Vary`, if it has one, keeps its names and gains `origin`.
  const vary = kept.find(([name]) => name.toLowerCase() === 'vary');
  if (vary && added.vary) added.vary = `${String(vary[1])}, ${added.vary}`;
  return {
    ...Object.fromEntries(added.vary ? kept.filter((entry) => entry !== vary) : kept),
    ...added,
    ...(cors.exposeHeaders.length > 0 ? { 'access-control-expose-headers': cors.exposeHeaders.join(',') } : {}),
  };
};
