import { describe, expect, it } from 'vitest';
import { corsConfiguration, isPreflight, preflightHeaders, withCorsHeaders } from '../../../local/cors.js';
import type { ServerlessConfig } from '../../../local/serverlessConfig.js';

/** The configuration of a stage that has CORS. */
const configured = (cors: unknown, methods: string[]) => {
  const found = corsConfiguration(configWith(cors), methods);
  if (!found) throw new Error('CORS is off');
  return found;
};

const configWith = (cors: unknown): ServerlessConfig => ({
  service: 'orderflow',
  provider: { stage: 'local', region: 'eu-west-1', httpApi: { cors } },
});

const shop = {
  allowedOrigins: ['https://shop.example.com'],
  allowedHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key'],
  exposedResponseHeaders: ['ETag', 'Location'],
  maxAge: 300,
};

describe('the stage’s CORS configuration, as the framework compiles it', () => {
  it('is off unless serverless.yml turns it on', () => {
    expect(corsConfiguration(configWith(false), ['GET'])).toBeUndefined();
    expect(corsConfiguration({ ...configWith(false), provider: { stage: 'x', region: 'y' } }, ['GET'])).toBeUndefined();
  });

  it('takes the framework’s defaults for `true`: every origin, its headers, OPTIONS and the routes’ methods', () => {
    expect(corsConfiguration(configWith(true), ['POST', 'GET', 'HEAD', 'GET'])).toEqual({
      allowOrigins: ['*'],
      allowHeaders: [
        'Content-Type',
        'X-Amz-Date',
        'Authorization',
        'X-Api-Key',
        'X-Amz-Security-Token',
        'X-Amz-User-Agent',
        'X-Amzn-Trace-Id',
      ],
      allowMethods: ['OPTIONS', 'POST', 'GET', 'HEAD'],
      exposeHeaders: [],
      allowCredentials: false,
    });
  });

  it('counts a route of any method (`$default`) as every method', () => {
    expect(corsConfiguration(configWith(true), ['GET', '*'])?.allowMethods).toEqual([
      'OPTIONS',
      'GET',
      'POST',
      'PUT',
      'PATCH',
      'HEAD',
      'DELETE',
    ]);
  });

  it('keeps what the stage names, and a single name as a list', () => {
    expect(
      corsConfiguration(configWith({ ...shop, allowedOrigins: 'https://a.example', allowCredentials: true }), ['GET']),
    ).toEqual({
      allowOrigins: ['https://a.example'],
      allowHeaders: shop.allowedHeaders,
      allowMethods: ['OPTIONS', 'GET'],
      exposeHeaders: ['ETag', 'Location'],
      maxAge: 300,
      allowCredentials: true,
    });
  });
});

describe('what the gateway answers a browser with', () => {
  const cors = configured(shop, ['GET', 'POST']);
  const preflight = (headers: Record<string, string>) =>
    preflightHeaders(cors, { origin: 'https://shop.example.com', 'access-control-request-method': 'POST', ...headers });

  it('knows a preflight: an OPTIONS from an origin that names the method it will send', () => {
    expect(isPreflight('OPTIONS', { origin: 'https://a', 'access-control-request-method': 'GET' })).toBe(true);
    expect(isPreflight('OPTIONS', { origin: 'https://a' })).toBe(false);
    expect(isPreflight('OPTIONS', { 'access-control-request-method': 'GET' })).toBe(false);
    expect(isPreflight('GET', { origin: 'https://a', 'access-control-request-method': 'GET' })).toBe(false);
  });

  it('allows an allowed origin’s preflight, its own origin named back', () => {
    expect(preflight({ 'access-control-request-headers': 'authorization, content-type' })).toEqual({
      'access-control-allow-origin': 'https://shop.example.com',
      vary: 'origin',
      'access-control-allow-methods': 'OPTIONS,GET,POST',
      'access-control-allow-headers': 'Content-Type,Authorization,Idempotency-Key',
      'access-control-max-age': '300',
    });
  });

  it('allows nothing to another origin, another method, or a header not allowed', () => {
    expect(preflight({ origin: 'https://evil.example' })).toEqual({});
    expect(preflight({ origin: 'http://shop.example.com' })).toEqual({});
    expect(preflight({ 'access-control-request-method': 'DELETE' })).toEqual({});
    expect(preflight({ 'access-control-request-headers': 'authorization, x-debug' })).toEqual({});
  });

  it('matches every origin of a scheme (`https://*`), and says `*` for every origin when no credentials are sent', () => {
    const scheme = configured({ allowedOrigins: ['https://*'] }, ['GET']);
    const origin = { origin: 'https://any.example', 'access-control-request-method': 'GET' };
    expect(preflightHeaders(scheme, origin)['access-control-allow-origin']).toBe('https://any.example');
    expect(preflightHeaders(scheme, { ...origin, origin: 'http://any.example' })).toEqual({});
    const every = configured(true, ['GET']);
    expect(preflightHeaders(every, origin)['access-control-allow-origin']).toBe('*');
    expect(withCorsHeaders(every, origin, {})).toEqual({ 'access-control-allow-origin': '*' });
  });

  it('adds the origin and the exposed headers to an answer, and drops the function’s own CORS headers', () => {
    const answer = { 'content-type': 'application/json', 'Access-Control-Allow-Origin': '*', vary: 'accept' };
    expect(withCorsHeaders(cors, { origin: 'https://shop.example.com' }, answer)).toEqual({
      'content-type': 'application/json',
      'access-control-allow-origin': 'https://shop.example.com',
      vary: 'accept, origin',
      'access-control-expose-headers': 'ETag,Location',
    });
    // No origin, or one not allowed: the answer as the function gave it, less its CORS headers.
    for (const headers of [{}, { origin: 'https://evil.example' }]) {
      expect(withCorsHeaders(cors, headers, answer)).toEqual({ 'content-type': 'application/json', vary: 'accept' });
    }
  });
});
