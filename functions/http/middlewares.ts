import { randomUUID } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { z } from 'zod';
import { ADMIN_SCOPE, type Access } from '../../api/access.js';
import { acceptableCorrelationId } from '../../api/correlation.js';
import { FIELD_ERRORS_LISTED, isProblemSlug, problemStatus } from '../../api/problems.js';
import type { Route } from '../../api/routes.js';
import type { Caller } from '../../application/caller.js';
import { DomainError } from '../../domain/shared/errors.js';
import { CUSTOMER_ID_MAX_LENGTH } from '../../domain/shared/limits.js';
import { ConcurrencyError, isTransient } from '../../eventstore/errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { type FieldError, ProblemError, problemResponse } from './problem.js';
import { fieldMessage } from './fieldMessages.js';

/** What the middlewares learn about a request, for the ones after them and the handler. */
export type HttpContext = Context & {
  correlationId: string;
  logger: Logger;
  caller?: Caller;
  input?: { body: unknown; params: unknown; query: unknown; headers: unknown };
};

type Middleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, HttpContext>;

const structured = (
  response: APIGatewayProxyResultV2 | null | undefined,
): APIGatewayProxyStructuredResultV2 | undefined =>
  typeof response === 'object' && response !== null ? (response as APIGatewayProxyStructuredResultV2) : undefined;

const CORRELATION_HEADER = 'x-correlation-id';

/** Takes the caller's correlation id (or mints one), binds it to the logger, and echoes it on every answer. */
export const correlationId = (baseLogger: () => Logger): Middleware => {
  const echo: Middleware['after'] = (request) => {
    const response = structured(request.response);
    if (response) response.headers = { ...response.headers, [CORRELATION_HEADER]: request.context.correlationId };
  };
  return {
    before: (request) => {
      const sent = request.event.headers?.[CORRELATION_HEADER];
      const id = sent && acceptableCorrelationId.test(sent) ? sent : randomUUID();
      request.context.correlationId = id;
      request.context.logger = baseLogger().child({
        function: request.context.functionName,
        correlationId: id,
        requestId: request.event.requestContext?.requestId,
        route: request.event.routeKey,
      });
    },
    after: echo,
    onError: echo,
  };
};

/** One line per request: what was asked, what was answered, and how long it took. */
export const accessLog = (): Middleware => {
  const started = new WeakMap<object, number>();
  const log: Middleware['after'] = (request) => {
    const status = structured(request.response)?.statusCode ?? 200;
    const durationMs = Date.now() - (started.get(request) ?? Date.now());
    const line = {
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      status,
      durationMs,
    };
    // The error itself is logged once, with its stack, by the error gate: this line only says what was answered.
    if (status >= 500) request.context.logger?.warn('request failed', line);
    else request.context.logger?.info('request answered', line);
  };
  return { before: (request) => void started.set(request, Date.now()), after: log, onError: log };
};

/** A scope token as RFC 6749 allows it: visible ASCII but a double quote and a backslash. */
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Scopes from the `scope` claim, split on single spaces as the gateway splits them (RFC 6749: scope tokens never hold
 * one). Nothing looser than the gateway, on the routes where it checks no scope: `a,orderflow/admin`, a tab or a
 * no-break space would make a customer an admin there while an admin route refused them. A claim sent as a list or an
 * object reaches the function rendered ("[a b c]", or the object as text), whose inner words split out clean: it grants
 * nothing (an admin route refuses it too, failing closed), and nor does a claim holding any token RFC 6749 would not
 * (a quote, a backslash, a control character). Not `scp` either: reading it where the gateway would not grant it would
 * be looser; where it would, an admin route still refuses.
 */
export const scopesOf = ({ scope }: Record<string, unknown>): string[] => {
  if (typeof scope !== 'string' || /^[[{]/.test(scope)) return [];
  const tokens = scope.split(' ').filter(Boolean);
  return tokens.every((token) => scopeToken.test(token)) ? tokens : [];
};

/** A lone surrogate: DynamoDB stores it as U+FFFD, so two such subjects would share one customer's orders. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** UTF-8 that refuses a malformed sequence instead of reading it as U+FFFD, and keeps a BOM, which JSON.parse refuses. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads the claims the JWT authorizer verified (API Gateway on AWS, the local server's verifier locally) into a
 * {@link Caller}. API Gateway already refuses bad tokens and missing scopes; checking again keeps a misconfigured
 * route from becoming an open one.
 */
export const authClaims = (access: Access): Middleware => ({
  before: (request) => {
    if (access === 'public') return;
    const authorizer = (request.event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } })
      .authorizer;
    const claims = authorizer?.jwt?.claims ?? {};
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    if (!sub) {
      // Past the authorizer, a request without a subject sent a token that names none: refused, as an invalid one.
      throw new ProblemError(
        401,
        'unauthorized',
        'Unauthorized',
        'The bearer token names no subject (`sub`): it cannot say whose call this is.',
        { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } },
      );
    }
    // The subject is the customer id every order records: one it could not record is refused here, before any write
    // (a signed token from the identity provider can carry any subject).
    // Counted in characters (code points), as the contract's maxLength and every other length here count them.
    if ([...sub].length > CUSTOMER_ID_MAX_LENGTH || loneSurrogate.test(sub)) {
      throw new ProblemError(
        401,
        'unauthorized',
        'Unauthorized',
        `The token's subject (\`sub\`) is not a usable customer id: it must be 1 to ${CUSTOMER_ID_MAX_LENGTH} characters of well-formed Unicode.`,
        { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } },
      );
    }
    const isAdmin = scopesOf(claims).includes(ADMIN_SCOPE);
    if (access === 'admin' && !isAdmin) {
      throw new ProblemError(403, 'forbidden', 'Forbidden', `This call needs the ${ADMIN_SCOPE} scope.`);
    }
    request.context.caller = { sub, isAdmin };
  },
});

export const MAX_BODY_BYTES = 64 * 1024;
const jsonMediaType = /^application\/([\w.-]+\+)?json\s*(;.*)?$/i;

/**
 * Parses a JSON body within the size limit. (middy's json-body-parser answers malformed JSON with 415, which
 * tells a client to change its media type; a broken body is a 400.)
 */
export const jsonBody = ({
  required,
  maxBytes = MAX_BODY_BYTES,
}: {
  required: boolean;
  maxBytes?: number;
}): Middleware => ({
  before: (request) => {
    const { event } = request;
    if (!required) return;
    const raw =
      event.body === undefined
        ? undefined
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64')
          : Buffer.from(event.body);
    if (raw && raw.byteLength > maxBytes) {
      throw new ProblemError(
        413,
        'payload-too-large',
        'Payload Too Large',
        `The body is ${raw.byteLength} bytes; the limit is ${maxBytes}.`,
      );
    }
    if (!raw || raw.byteLength === 0) {
      throw new ProblemError(400, 'body-required', 'Bad Request', 'This call needs a JSON body.');
    }
    const contentType = event.headers?.['content-type'] ?? '';
    if (!jsonMediaType.test(contentType)) {
      throw new ProblemError(
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        'Send the body as application/json.',
      );
    }
    // JSON is UTF-8 (RFC 8259): a body declared in another charset would be read as UTF-8 and stored altered. ASCII
    // is UTF-8 already.
    const charsets = [...contentType.matchAll(/;\s*charset\s*=\s*"?([^";\s]*)"?/gi)].map((m) => m[1] ?? '');
    // Declared twice, it is whichever a reader takes first: refused unless both say UTF-8.
    const charset = charsets.find((declared) => !/^(utf-?8|us-ascii)$/i.test(declared));
    if (charset !== undefined) {
      throw new ProblemError(
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        `Send the body as UTF-8 JSON; charset=${charset} is not read.`,
      );
    }
    // Bytes in a content coding (gzip, br) are not JSON until decoded, which nothing here does: refused as a coding
    // not supported (RFC 9110 §15.5.16), rather than read as broken JSON, or read as if the coding were not there.
    const codings = (event.headers?.['content-encoding'] ?? '')
      .split(',')
      .map((coding) => coding.trim())
      .filter((coding) => coding !== '' && !/^identity$/i.test(coding));
    if (codings.length > 0) {
      throw new ProblemError(
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        `Send the body without a content coding; ${codings.join(', ')} is not decoded.`,
        { headers: { 'accept-encoding': 'identity' } },
      );
    }
    let text: string;
    try {
      // A body handed over as bytes (base64) is read strictly: leniently, each bad byte would become U+FFFD and be
      // stored so, for good. One handed over as text was decoded by the gateway already.
      text = event.isBase64Encoded ? strictUtf8.decode(raw) : (event.body ?? '');
    } catch {
      throw new ProblemError(400, 'malformed-json', 'Bad Request', 'The body is not valid UTF-8.');
    }
    // A gateway that hands a body over as text has already put U+FFFD in place of each byte that was not UTF-8: the
    // character itself (its JSON escape is plain ASCII) is taken for what it most likely stands for.
    if (!event.isBase64Encoded && text.includes('\uFFFD')) {
      throw new ProblemError(
        400,
        'malformed-json',
        'Bad Request',
        'The body is not valid UTF-8: it holds U+FFFD, which stands in for bytes that were not (send it as \\ufffd if you mean it).',
      );
    }
    try {
      (event as { body: unknown }).body = JSON.parse(text);
    } catch {
      throw new ProblemError(400, 'malformed-json', 'Bad Request', 'The body is not valid JSON.');
    }
    const repeated = repeatedName(text);
    if (repeated) {
      // Parsers disagree on which of two same-named members counts (JSON.parse takes the last, others the first),
      // so a body that names a field twice means whatever its reader picks: refused, as its intent is unclear.
      throw new ProblemError(
        400,
        'malformed-json',
        'Bad Request',
        `The body names ${pointer(repeated)} more than once; send each field once.`,
      );
    }
    if (holdsLoneSurrogate((event as { body: unknown }).body)) {
      // An escaped lone surrogate (`"\ud800"`) is valid JSON text but no Unicode: DynamoDB stores it as U+FFFD, so
      // a retry of the same body would no longer match what was stored.
      throw new ProblemError(
        400,
        'malformed-json',
        'Bad Request',
        'The body holds a lone UTF-16 surrogate (an unpaired \\uD800–\\uDFFF escape), which is no Unicode text.',
      );
    }
  },
});

/**
 * The path of the first object member whose name its object already has, in a text that is valid JSON (escapes read:
 * `"a"` and `"\u0061"` are one name), or `undefined`. One pass with a stack of its own, as a body may nest deeply.
 */
export const repeatedName = (text: string): (string | number)[] | undefined => {
  type Frame = { names: Set<string>; name?: string } | { index: number };
  const frames: Frame[] = [];
  const path = (name: string) => [
    ...frames.slice(0, -1).map((frame) => ('index' in frame ? frame.index : (frame.name ?? ''))),
    name,
  ];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') frames.push({ names: new Set() });
    else if (c === '[') frames.push({ index: 0 });
    else if (c === '}' || c === ']') frames.pop();
    else if (c === ',') {
      const frame = frames.at(-1);
      if (frame && 'index' in frame) frame.index += 1;
    } else if (c === '"') {
      const start = i;
      // Bounded by the text too: a scan that lost its place ends, rather than runs on past the end.
      for (i += 1; i < text.length && text[i] !== '"'; i += text[i] === '\\' ? 2 : 1);
      const frame = frames.at(-1);
      // A string in an object is a member's name when a colon follows it; any other string is a value.
      if (!frame || 'index' in frame) continue;
      let next = i + 1;
      while (/\s/.test(text[next] ?? '')) next += 1;
      if (text[next] !== ':') continue;
      const raw = text.slice(start, i + 1);
      const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      if (frame.names.has(name)) return path(name);
      frame.names.add(name);
      frame.name = name;
    }
  }
  return undefined;
};

/** An RFC 6901 pointer in its URI fragment form: `#` is the whole body, `#/items/0` its first item. */
const pointer = (path: PropertyKey[]): string =>
  ['#', ...path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1'))].join('/');

/**
 * Every field zod complains about, each named once by a JSON pointer into the body (unknown keys included), with the
 * first thing wrong with it: zod goes on checking a field after a check fails, so a name of one control character is
 * also "no letter", and a count past 2^53 is also "not a safe integer".
 */
export const fieldErrors = (error: z.ZodError): FieldError[] => {
  const found = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ pointer: pointer([...issue.path, key]), detail: 'Unknown field.' }))
      : [{ pointer: pointer(issue.path), detail: issue.message }],
  );
  const named = new Set<string>();
  return found.filter((field) => !named.has(field.pointer) && Boolean(named.add(field.pointer)));
};

const unknownParameter = (parameter: string): FieldError => ({ parameter, detail: 'Unknown parameter.' });

/** Whether a query string's name or value percent-decodes (as `URLSearchParams` does, `+` a space) to UTF-8. */
const isUtf8Encoded = (raw: string): boolean => {
  const bytes = raw
    .replaceAll('+', ' ')
    .split(/((?:%[0-9A-Fa-f]{2})+)/)
    .map((part, i) => (i % 2 === 1 ? Buffer.from(part.replaceAll('%', ''), 'hex') : Buffer.from(part, 'utf8')));
  try {
    strictUtf8.decode(Buffer.concat(bytes));
    return true;
  } catch {
    return false;
  }
};

/**
 * What is wrong with a query string's parameters whatever the route, from one reading of its pairs as sent, each named
 * as the gateway reads it. Split here, not by `URLSearchParams` whole, which would drop a leading `?` from the first
 * name (`/orders??a=1` gives the gateway a parameter named `?a`).
 * - `repeated`: the names given more than once. API Gateway joins a repeated parameter's values with commas (payload
 *   format 2.0), so `customerId=a&customerId=b` would read as the one value "a,b": a request that names a parameter
 *   twice is refused instead, whatever the values.
 * - `malformed`: the parameters whose name or value percent-decodes to bytes that are not UTF-8 (`%FF`, or
 *   `%ED%A0%80`, a lone surrogate's bytes). A gateway reads each such byte as U+FFFD, so `customerId=%FF` would list
 *   the orders of a customer whose id is U+FFFD: refused instead, as a body that is not UTF-8 is. Such a name is no
 *   name the client gave twice (`%C3` and `%FF` both read as U+FFFD): it is refused for its bytes.
 */
export const parameterProblems = (rawQueryString: string | undefined): { repeated: string[]; malformed: string[] } => {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const malformed = new Set<string>();
  for (const pair of (rawQueryString ?? '').split('&')) {
    if (pair === '') continue;
    const name = [...new URLSearchParams(`&${pair}`).keys()][0] ?? '';
    if (!isUtf8Encoded(pair)) malformed.add(name);
    else (seen.has(name) ? repeated : seen).add(name);
  }
  return { repeated: [...repeated], malformed: [...malformed] };
};

const repeatedParameter = (parameter: string): FieldError => ({
  parameter,
  detail: 'Given more than once; give it once.',
});

const malformedParameter = (parameter: string): FieldError => ({
  parameter,
  detail: 'Not UTF-8 once percent-decoded: percent-encode the UTF-8 bytes of each character.',
});

/**
 * The preconditions RFC 9110 lets a client put on a write. None is evaluated here (each write is decided on the
 * state it finds, and retried on a race), so one sent is refused rather than ignored: ignored, a client that sent it
 * to avoid a lost update would have its write made regardless.
 */
const writePreconditions = ['if-match', 'if-none-match', 'if-unmodified-since'];

const unevaluatedPrecondition = (header: string): FieldError => ({
  header,
  detail: 'Writes take no precondition: each is decided on the state it finds. Send it without this header.',
});

/** For a route that takes no query and validates nothing else (`GET /openapi.json`): any parameter is refused. */
export const noQuery = (): Middleware => ({
  before: (request) => {
    const names = Object.keys(request.event.queryStringParameters ?? {});
    if (names.length > 0) {
      throw new ProblemError(
        400,
        'validation-failed',
        'Bad Request',
        `The request has ${names.length} unknown query parameter(s).`,
        {
          errors: names.map(unknownParameter),
        },
      );
    }
  },
});

/** Each check's message in a client's words, where the schema gives none of its own. */
const inWords = { error: fieldMessage };

/** Validates path parameters, headers and body against the route's schemas. */
export const validate = (route: Route): Middleware => ({
  before: (request) => {
    const { event } = request;
    const params = route.params ? route.params.safeParse(event.pathParameters ?? {}) : undefined;
    // A path that cannot name a resource names no resource.
    if (params && !params.success) throw notFound();
    // Headers, query and body are each checked, and every invalid field of all three named in one answer.
    const headers = route.headers ? route.headers.safeParse(event.headers ?? {}, inWords) : undefined;
    const query = route.query ? route.query.safeParse(event.queryStringParameters ?? {}, inWords) : undefined;
    // A route that takes no query takes none: an unknown parameter is refused on it as on any other.
    const unknownParameters = route.query ? [] : Object.keys(event.queryStringParameters ?? {});
    const { repeated, malformed } = parameterProblems(event.rawQueryString);
    const body = route.body ? route.body.safeParse(event.body, inWords) : undefined;
    const parameterErrors = [
      ...unknownParameters.map(unknownParameter),
      ...(query && !query.success
        ? query.error.issues.flatMap((issue) =>
            issue.code === 'unrecognized_keys'
              ? issue.keys.map(unknownParameter)
              : [{ parameter: String(issue.path[0]), detail: issue.message }],
          )
        : []),
    ];
    const preconditions =
      route.method === 'GET' ? [] : writePreconditions.filter((header) => event.headers?.[header] !== undefined);
    const errors = [
      ...preconditions.map(unevaluatedPrecondition),
      ...(headers && !headers.success
        ? headers.error.issues.map((issue) => ({ header: String(issue.path[0]), detail: issue.message }))
        : []),
      // A repeated parameter's joined value is no value it was given: what is wrong with it is the repetition. A
      // malformed one's is U+FFFD where its bytes were: what is wrong with it is its bytes.
      ...repeated.map(repeatedParameter),
      ...malformed.filter((parameter) => !repeated.includes(parameter)).map(malformedParameter),
      ...parameterErrors.filter(
        ({ parameter }) => parameter === undefined || !(repeated.includes(parameter) || malformed.includes(parameter)),
      ),
    ];
    const bodyErrors = body && !body.success ? fieldErrors(body.error) : [];
    if (errors.length > 0 || bodyErrors.length > 0) {
      const parts = [
        ...(errors.length > 0 ? [`${errors.length} invalid header(s) or query parameter(s)`] : []),
        ...(bodyErrors.length > 0 ? [`${bodyErrors.length} invalid field(s) in the body`] : []),
      ];
      const all = [...errors, ...bodyErrors];
      const listed = all.length > FIELD_ERRORS_LISTED ? `; the first ${FIELD_ERRORS_LISTED} are listed` : '';
      throw new ProblemError(
        400,
        'validation-failed',
        'Bad Request',
        `The request has ${parts.join(' and ')}${listed}.`,
        { errors: all.slice(0, FIELD_ERRORS_LISTED) },
      );
    }
    request.context.input = {
      body: body?.data,
      params: params?.data ?? {},
      query: query?.data ?? {},
      headers: headers?.data ?? {},
    };
  },
});

export const notFound = (): ProblemError =>
  new ProblemError(404, 'not-found', 'Not Found', 'There is no such resource.');

/** How each kind of refusal is answered: one table, so a new kind gets its status and title together. */
const domainAnswers = {
  conflict: { status: 409, title: 'Conflict' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not Found' },
  unprocessable: { status: 422, title: 'Unprocessable Content' },
} as const;

/** Turns any error into a problem answer. Known errors keep their meaning; anything else is a 500 that says nothing. */
export const toProblem = (error: unknown): ProblemError => {
  if (error instanceof ProblemError) return error;
  if (error instanceof DomainError) {
    const { status, title } = domainAnswers[error.kind];
    // Not-found answers never say more than that, so ids cannot be probed.
    if (status === 404) return notFound();
    const slug = error.code.toLowerCase().replaceAll('_', '-');
    // A refusal the contract does not list for its status (a saga's, say) reaching a route is ours: a 500, logged.
    if (isProblemSlug(slug) && problemStatus[slug] === status)
      return new ProblemError(status, slug, title, error.message);
  }
  if (error instanceof ConcurrencyError) {
    return new ProblemError(
      409,
      'concurrent-modification',
      'Conflict',
      'The resource changed while this request was handled; retry it.',
      {
        headers: { 'retry-after': '1' },
      },
    );
  }
  if (isTransient(error)) {
    return new ProblemError(
      503,
      'service-unavailable',
      'Service Unavailable',
      'A service this request depends on failed or did not answer in time, so the request may or may not have ' +
        'taken effect. Retry it after Retry-After: a command sent with the same Idempotency-Key, where its route ' +
        'takes one, takes effect once; any other may have taken effect already, so look before sending it again.',
      { headers: { 'retry-after': '1' } },
    );
  }
  return new ProblemError(
    500,
    'internal-error',
    'Internal Server Error',
    'Something went wrong on our side; quote the correlation id when reporting it.',
  );
};

/**
 * A `HEAD` request's answer: the `GET`'s status and headers, no body (RFC 9110), errors included. Registered first on
 * a stack, so its `after` and `onError` run last, on the answer as the other middlewares left it.
 */
export const headersOnly = (): Middleware => {
  const strip = (request: Parameters<NonNullable<Middleware['after']>>[0]) => {
    if (request.event.requestContext?.http?.method !== 'HEAD') return;
    const { response } = request;
    if (typeof response !== 'object' || response === null) return;
    // An answer without a body (a 304) says no length, as its GET does not.
    if (response.body === undefined) return;
    // The GET's length, as RFC 9110 lets a HEAD answer say; the body itself stays behind.
    const length = Buffer.byteLength(response.body, response.isBase64Encoded ? 'base64' : 'utf8');
    request.response = { ...response, headers: { ...response.headers, 'content-length': String(length) }, body: '' };
  };
  return { after: strip, onError: strip };
};

/**
 * Whether any key or string of a parsed JSON value holds a lone surrogate. Walked with a stack of its own: a reviver
 * (or recursion) overflows the call stack on a body nested a few thousand deep, which JSON.parse itself takes.
 */
const holdsLoneSurrogate = (root: unknown): boolean => {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (loneSurrogate.test(value)) return true;
    } else if (Array.isArray(value)) {
      for (const element of value) pending.push(element);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, field] of Object.entries(value)) {
        if (loneSurrogate.test(key)) return true;
        pending.push(field);
      }
    }
  }
  return false;
};

/** The one error gate. Registered last, so its onError runs first and every other middleware sees an answer. */
export const problemErrors = (): Middleware => ({
  onError: (request) => {
    const problem = toProblem(request.error);
    // If the failure came before the request's logger existed (bad configuration), still say what it was.
    const logger =
      request.context.logger ??
      createLogger({ fields: { function: request.context.functionName, stage: process.env.STAGE } });
    if (problem.status === 503) logger.error('dependency failed', { error: request.error });
    else if (problem.status >= 500) logger.error('unhandled error', { error: request.error });
    else {
      // The order a refusal is about, when the command derived it (a key reused for another order names its own).
      const { orderId } = request.error as { orderId?: unknown };
      logger.info('request refused', {
        status: problem.status,
        problem: problem.slug,
        ...(typeof orderId === 'string' ? { orderId } : {}),
      });
    }
    request.response = problemResponse(problem, request.context.correlationId ?? 'unknown', request.event.rawPath);
  },
});
