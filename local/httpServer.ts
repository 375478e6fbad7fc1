import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ProblemSlug } from '../api/problems.js';
import { allowedMethods, notAllowed } from '../api/allowedMethods.js';
import { routePattern } from '../api/routePattern.js';
import { ProblemError, problemResponse } from '../functions/http/problem.js';
import { type AccessContext, accessLogFormat, renderAccessLog } from './accessLog.js';
import type { LocalIssuer } from './auth.js';
import { corsConfiguration, isPreflight, preflightHeaders, withCorsHeaders } from './cors.js';
import { functionHandlers, invoke, timeoutSecondsOf } from './lambda.js';
import { HttpApiEvent, type ServerlessConfig } from './serverlessConfig.js';

/** One HTTP API route as serverless.yml declares it. */
export type HttpRoute = {
  functionName: string;
  routeKey: string;
  method: string;
  path: string;
  pattern: RegExp;
  paramNames: string[];
  authorizer?: { name?: string; scopes?: string[] };
};

/** API Gateway's own limit for an HTTP API payload. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** The routes of the stage, read from serverless.yml: there is no second route table. */
export const httpRoutes = (config: ServerlessConfig): HttpRoute[] =>
  Object.entries(config.functions ?? {}).flatMap(([functionName, fn]) =>
    (fn.events ?? []).flatMap((raw) => {
      const parsed = HttpApiEvent.safeParse(raw);
      if (!parsed.success) return [];
      const event = parsed.data.httpApi;
      if (event === '*') {
        return [{ functionName, routeKey: '$default', method: '*', path: '*', pattern: /^/, paramNames: [] }];
      }
      const [method, path] =
        typeof event === 'string' ? (event.split(' ') as [string, string]) : [event.method ?? '*', event.path];
      const { pattern, paramNames } = routePattern(path);
      return [
        {
          functionName,
          routeKey: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          pattern,
          paramNames,
          ...(typeof event === 'object' && event.authorizer ? { authorizer: event.authorizer } : {}),
        },
      ];
    }),
  );

/** A path segment decoded; one that is not valid percent-encoding is passed on as sent, for the handler to refuse. */
const decodedSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** API Gateway's choice: the route whose method and path match, else `$default`. */
const matchRoute = (routes: HttpRoute[], method: string, path: string) => {
  for (const route of routes) {
    if (route.routeKey === '$default') continue;
    if (route.method !== '*' && route.method !== 'ANY' && route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (!match) continue;
    const params = Object.fromEntries(route.paramNames.map((name, i) => [name, decodedSegment(match[i + 1] ?? '')]));
    return { route, params };
  }
  const fallback = routes.find((route) => route.routeKey === '$default');
  return fallback ? { route: fallback, params: {} } : undefined;
};

const readBody = (request: IncomingMessage): Promise<Buffer | 'too-large'> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_PAYLOAD_BYTES ? 'too-large' : Buffer.concat(chunks)));
    request.on('error', reject);
  });

const textual = /^(application\/([\w.-]+\+)?(json|xml|x-www-form-urlencoded)|text\/)/i;

/** As API Gateway's payload 2.0 gives them: a parameter sent more than once has its values joined with commas. */
const queryParameters = (search: URLSearchParams): Record<string, string> => {
  const joined = new Map<string, string>();
  for (const [name, value] of search) {
    const earlier = joined.get(name);
    joined.set(name, earlier === undefined ? value : `${earlier},${value}`);
  }
  return Object.fromEntries(joined);
};

/** API Gateway renders claims as strings, and lists as "[a b]". */
const claimsOf = (payload: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(payload).map(([key, value]) => [
      key,
      Array.isArray(value) ? `[${value.join(' ')}]` : typeof value === 'string' ? value : JSON.stringify(value),
    ]),
  );

/**
 * Why the local authorizer refused a token, for the developer reading the answer or the access log (API Gateway's
 * says less): jose's errors name the check, the verifier's own say what it found.
 */
const refusalOf = (error: unknown): string => {
  if ((error as { code?: unknown }).code === 'ERR_JWT_EXPIRED') return 'it has expired';
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 0 && message.length <= 200 ? message : 'it could not be verified';
};

/** The caller's correlation id if it is one the functions would accept too, else a fresh one. */
const correlationIdOf = (request: IncomingMessage): string => {
  const sent = request.headers['x-correlation-id'];
  return typeof sent === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(sent) ? sent : randomUUID();
};

/**
 * An answer of the gateway itself, as the functions' problems are made (functions/http/problem.ts), with the
 * correlation id header every answer of the functions carries.
 */
const problem = (
  request: IncomingMessage,
  /** The path as the function's event has it (`rawPath`), which a function's problems name in `instance`. */
  instance: string | undefined,
  status: number,
  slug: ProblemSlug,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 => {
  const correlationId = correlationIdOf(request);
  const answer = problemResponse(new ProblemError(status, slug, title, detail, { headers }), correlationId, instance);
  return { ...answer, headers: { ...answer.headers, 'x-correlation-id': correlationId } };
};

/** What the local API answers each refusal of Node's HTTP parser with, by its code (the status Node itself uses). */
/**
 * A request's target as the URL it names. The target is a path, never a URL to resolve: `//localhost/products` is that
 * path, not that host. The client's Host header takes no part: `Host: x/orders?` would re-route the request, and
 * `Host: a b` fail it. An absolute-form target (`http://host/products`, RFC 9112 §3.2.2), which a server must accept,
 * names its path after its authority.
 */
const targetUrl = (sent: string): URL => {
  const authority = /^https?:\/\/[^/?#]*/i.exec(sent)?.[0] ?? '';
  const path = sent.slice(authority.length);
  return new URL(`http://localhost${path.startsWith('/') ? path : `/${path}`}`);
};

type ClientErrorAnswer = [status: number, title: string, slug: string, detail: string];
const clientErrorAnswers: Record<string, ClientErrorAnswer> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    'headers-too-large',
    'The request line and headers are over 16 KB.',
  ],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'payload-too-large', 'A chunk extension is too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request-timeout', 'The request did not arrive in time.'],
};
const badRequest: ClientErrorAnswer = [400, 'Bad Request', 'bad-request', 'The request is not valid HTTP/1.1.'];

/** The request's client went away before its body ended: there is no one to answer. */
class ClientGone extends Error {}

export type ApiServer = {
  url: string;
  port: number;
  /** How many requests it has begun to answer (their heads read), since it started. */
  received(): number;
  close(): Promise<void>;
};

/**
 * The local stand-in for API Gateway (HTTP API): it matches the routes of serverless.yml, verifies bearer tokens
 * and scopes as the JWT authorizer does, builds the same version 2.0 event, and invokes the very handler.
 */
export const startApi = async ({
  config,
  issuer,
  port = 0,
  host = '127.0.0.1',
  log = () => undefined,
  accessLog,
}: {
  config: ServerlessConfig;
  issuer: LocalIssuer;
  port?: number;
  host?: string;
  log?: (line: string) => void;
  /** Each request's access log line, in the format serverless.yml deploys (`provider.logs.httpApi`), if it has one. */
  accessLog?: (line: string) => void;
}): Promise<ApiServer> => {
  const routes = httpRoutes(config);
  const handlerOf = functionHandlers(config);
  /** How long a stop waits for the requests in flight: the longest route function's timeout, and 5 s to start it. */
  const answerWithinMs =
    (Math.max(0, ...new Set(routes.map((route) => timeoutSecondsOf(config, route.functionName)))) + 5) * 1000;
  const format = accessLog && accessLogFormat(config);
  const cors = corsConfiguration(
    config,
    routes.map((route) => route.method),
  );

  /** `access` gathers what the request's access log line says of the route, the authorizer and the function. */
  const answer = async (
    request: IncomingMessage,
    access: AccessContext,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const url = targetUrl(request.url ?? '');
    const method = (request.method ?? 'GET').toUpperCase();
    access.path = url.pathname;
    // A stage with CORS answers a browser's preflight in the gateway, before any route or authorizer: the browser
    // sends no token with it.
    if (cors && isPreflight(method, request.headers)) {
      return {
        statusCode: 204,
        headers: { 'x-correlation-id': correlationIdOf(request), ...preflightHeaders(cors, request.headers) },
      };
    }
    const matched = matchRoute(routes, method, url.pathname);
    if (!matched) {
      access['error.message'] = 'Not Found';
      return problem(request, url.pathname, 404, 'not-found', 'Not Found', 'There is no such resource.');
    }
    const { route, params } = matched;
    access.routeKey = route.routeKey;

    const body = await readBody(request);
    if (body === 'too-large') {
      access['error.message'] = 'Request Entity Too Large';
      return problem(request, url.pathname, 413, 'payload-too-large', 'Payload Too Large', 'The body is over 10 MB.');
    }

    // A header sent several times arrives joined with bare commas, as API Gateway joins it (Node's `headers` would
    // join some with ", " and keep only the first Authorization).
    const headers: Record<string, string> = {};
    for (const [key, values] of Object.entries(request.headersDistinct)) {
      if (values !== undefined && key !== 'cookie') headers[key] = values.join(',');
    }

    let authorizer: { jwt: { claims: Record<string, string>; scopes: null } } | undefined;
    if (route.authorizer) {
      // The authorizer takes the token alone, or prefixed with Bearer.
      const sent = headers.authorization ?? '';
      const token = /^Bearer (.+)$/i.exec(sent)?.[1] ?? (/^\S+$/.test(sent) ? sent : undefined);
      const { payload, refused } = token
        ? await issuer.verify(token).then(
            (verified) => ({ payload: verified, refused: undefined }),
            (error: unknown) => ({ payload: undefined, refused: refusalOf(error) }),
          )
        : { payload: undefined, refused: undefined };
      if (!payload) {
        access['error.message'] = 'Unauthorized';
        access['authorizer.error'] = refused ? `The token was refused: ${refused}.` : 'No bearer token was sent.';
        return problem(
          request,
          url.pathname,
          401,
          'unauthorized',
          'Unauthorized',
          refused ? `The bearer token was refused: ${refused}.` : 'A valid bearer token is required.',
          // RFC 6750 §3.1: a token sent and refused is an invalid_token (API Gateway's authorizer says so too, with
          // a description of its own); a request that sent none gets the scheme alone.
          { 'www-authenticate': refused ? 'Bearer error="invalid_token"' : 'Bearer' },
        );
      }
      // Who asked, in the access log, as `$context.authorizer.claims.sub`: a refused call on an admin route included.
      if (typeof payload.sub === 'string') access['authorizer.claims.sub'] = payload.sub;
      // As API Gateway's JWT authorizer reads them: the `scope` claim, or `scp`, each space-separated or a list.
      const listed = (claim: unknown) => (Array.isArray(claim) ? claim.map(String) : String(claim ?? '').split(' '));
      const granted = [...listed(payload.scope), ...listed(payload.scp)];
      const needed = route.authorizer.scopes ?? [];
      if (needed.length > 0 && !needed.some((scope) => granted.includes(scope))) {
        access['error.message'] = 'Forbidden';
        return problem(
          request,
          url.pathname,
          403,
          'forbidden',
          'Forbidden',
          `This call needs the ${needed.join(' or ')} scope.`,
        );
      }
      authorizer = { jwt: { claims: claimsOf(payload as Record<string, unknown>), scopes: null } };
    }

    // As API Gateway decides it, by the content type alone: a text type's body arrives as a string, even when its
    // bytes are not UTF-8 (what API Gateway makes of those is not documented; here they become U+FFFD).
    const isText = textual.test(headers['content-type'] ?? '');
    const now = new Date();
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      ...(request.headers.cookie ? { cookies: request.headers.cookie.split(/;\s*/) } : {}),
      headers,
      ...(url.search ? { queryStringParameters: queryParameters(url.searchParams) } : {}),
      ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: url.host,
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${request.httpVersion}`,
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: String(access.requestId),
        routeKey: route.routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        ...(authorizer ? { authorizer } : {}),
      } as APIGatewayProxyEventV2['requestContext'],
      ...(body.byteLength > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: body.byteLength > 0 && !isText,
    };

    const invoked = Date.now();
    const result = await invoke(config, route.functionName, await handlerOf(route.functionName), event).catch(
      (error: unknown) => {
        access.integrationErrorMessage = 'The Lambda function returned an error.';
        throw error;
      },
    );
    access.integrationLatency = Date.now() - invoked;
    access.integrationStatus = 200;
    // Like API Gateway: a result without a statusCode is a 200 with the result as its JSON body.
    if (typeof result === 'object' && result !== null && 'statusCode' in result)
      return result as APIGatewayProxyStructuredResultV2;
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
  };

  /** Set by `close()`: what is in flight answers, and its connection closes with the last answer it waits for. */
  let closing = false;
  /** The requests each connection has in flight: a client may send the next before the first is answered. */
  const inFlight = new WeakMap<Socket, number>();
  const respond = (result: APIGatewayProxyStructuredResultV2, response: ServerResponse, socket: Socket) => {
    response.statusCode = result.statusCode ?? 200;
    for (const [key, value] of Object.entries(result.headers ?? {})) response.setHeader(key, String(value));
    // Kept alive, a client's connection would carry its next requests to a stopping server for as long as it lets;
    // closed after an earlier answer, a request sent behind it would run and never be answered.
    if (closing && (inFlight.get(socket) ?? 0) <= 1) response.setHeader('connection', 'close');
    if (result.cookies?.length) response.setHeader('set-cookie', result.cookies);
    const body = result.body ?? '';
    const sent = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body);
    // Node sends no length with a HEAD's answer: the GET's, as API Gateway sends it (a function's HEAD sets its own;
    // a 304 has no body to measure).
    if (sent.byteLength > 0 && !response.hasHeader('content-length'))
      response.setHeader('content-length', sent.byteLength);
    response.end(sent);
    return sent.byteLength;
  };

  let received = 0;
  /** Requests not yet answered, over every connection. */
  let unanswered = 0;
  const server = createServer((request, response) => {
    received += 1;
    unanswered += 1;
    const started = Date.now();
    const { socket } = request;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      unanswered -= 1;
      inFlight.set(socket, (inFlight.get(socket) ?? 1) - 1);
    });
    const now = new Date(started);
    const access: AccessContext = {
      requestId: randomUUID(),
      requestTimeEpoch: started,
      requestTime: now.toUTCString(),
      'identity.sourceIp': request.socket.remoteAddress ?? '127.0.0.1',
      httpMethod: (request.method ?? 'GET').toUpperCase(),
      protocol: `HTTP/${request.httpVersion}`,
    };
    answer(request, access)
      .catch((error: unknown) => {
        // A client that went away mid-body is no failure of a function: nothing was invoked, and no one reads an answer.
        if (request.destroyed && !request.complete) throw new ClientGone();
        // What API Gateway answers when the integration fails: nothing about the failure itself.
        log(`invocation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        access['error.message'] = 'Internal Server Error';
        return problem(
          request,
          typeof access.path === 'string' ? access.path : undefined,
          500,
          'internal-error',
          'Internal Server Error',
          'The function failed.',
        );
      })
      .then(
        (answered) => {
          // What a CORS stage's gateway adds to every other answer, its own refusals included (not to what Node's
          // parser refuses below: its headers were never read, so no origin is known).
          const result =
            cors && !isPreflight((request.method ?? 'GET').toUpperCase(), request.headers)
              ? { ...answered, headers: withCorsHeaders(cors, request.headers, answered.headers ?? {}) }
              : answered;
          const length = respond(result, response, socket);
          log(`${request.method} ${request.url} → ${result.statusCode} (${Date.now() - started} ms)`);
          if (!format) return;
          access.status = result.statusCode ?? 200;
          access.responseLength = length;
          access.responseLatency = Date.now() - started;
          accessLog?.(renderAccessLog(format, access));
        },
        () => log(`${request.method} ${request.url}: the client closed the request before its body ended`),
      );
  });
  // What Node's parser refuses before any route (a header over 16 KB, a malformed request line or chunk) answered as
  // every other error is, instead of Node's bare status line.
  const answerOnSocket = (
    socket: Duplex,
    [status, title, slug, detail]: ClientErrorAnswer,
    headers: Record<string, string> = {},
  ) => {
    const correlationId = randomUUID();
    const body = JSON.stringify({ type: `urn:orderflow:problem:${slug}`, title, status, detail, correlationId });
    socket.end(
      [
        `HTTP/1.1 ${status} ${title}`,
        'content-type: application/problem+json',
        `content-length: ${Buffer.byteLength(body)}`,
        `x-correlation-id: ${correlationId}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        'connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  };
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
    answerOnSocket(socket, clientErrorAnswers[error.code ?? ''] ?? badRequest);
  });
  // Node hands a CONNECT (a request for a tunnel) to a `connect` listener, not to the request handler, and drops the
  // connection when there is none: answered instead, as no route takes that method. A 405 names what the target
  // takes (RFC 9110 §15.5.6): a path's methods, as the `$default` function names them, and none for a host and port,
  // since this API is no proxy.
  server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    // Node takes its own error listener off a socket it hands here: without one, a client's reset would be thrown.
    socket.on('error', () => socket.destroy());
    const target = request.url ?? '';
    // An authority (`host:443`) names no resource here: nothing is allowed on it.
    if (!target.startsWith('/')) {
      const detail = 'CONNECT is not allowed here: this API is no proxy.';
      return answerOnSocket(socket, [405, 'Method Not Allowed', 'method-not-allowed', detail], { allow: '' });
    }
    // Read as every request's target is (`//[`, resolved as a URL, would throw and take the server down).
    const allowed = allowedMethods(targetUrl(target).pathname);
    if (allowed.length === 0) {
      return answerOnSocket(socket, [404, 'Not Found', 'not-found', 'There is no such resource.']);
    }
    const { allow, detail } = notAllowed('CONNECT', allowed);
    answerOnSocket(socket, [405, 'Method Not Allowed', 'method-not-allowed', detail], { allow });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    received: () => received,
    // Takes no new request and lets those in flight answer (a placement cut off mid-write leaves its client unsure
    // whether it was placed), each closing its connection so no client's next request finds it open. A function runs
    // at most its timeout, so a request is answered within the longest one's (plus a wait for its turn in a burst):
    // past that, what is still open is cut, and said so.
    close: () =>
      new Promise((resolve, reject) => {
        closing = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        setTimeout(() => {
          if (unanswered > 0) {
            log(`${unanswered} request(s) still unanswered ${answerWithinMs / 1000} s after the stop: connections cut`);
          }
          server.closeAllConnections();
        }, answerWithinMs).unref();
      }),
  };
};
