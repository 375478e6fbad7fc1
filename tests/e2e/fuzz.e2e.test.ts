import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SCOPE, routes } from '../../api/routes.js';
import { routePattern } from '../../api/routePattern.js';
import { jwtSettings, type LocalIssuer, localIssuer } from '../../local/auth.js';
import { type ApiServer, startApi } from '../../local/httpServer.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { localStack } from '../support/stack.js';
import { departuresFromContract } from '../support/documented.js';
import { admin, type Answer, eventually, expectWellFormed, givenOrder, givenProduct, uniqueSku } from './http.js';

/*
 * Property-based fuzzing of the HTTP API: thousands of generated requests, each one invalid by construction (a
 * broken body, header, path, method or credential on an otherwise valid request), must all be answered with a 4xx
 * problem document, and the event store must hold exactly as many events afterwards as before.
 *
 * Every generated request is otherwise aimed at something real (a registered product, a confirmed order, its owner),
 * so the one flaw it carries is all that stands between it and a write.
 */

const RUNS = {
  unreadableBodies: 400,
  schemaViolations: 800,
  badHeaders: 300,
  badCredentials: 500,
  badRoutes: 400,
  badParameters: 500,
} as const;

let testApi: TestApi;
/** A second gateway over the same handlers, trusting a key this file can also sign with (see `forge`). */
let keyedApi: ApiServer;
let keyed: LocalIssuer;
let keyDir: string;
let ourKey: Awaited<ReturnType<typeof importJWK>>;
let otherKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let sku: string;
let orderId: string;
const owner = `fuzz-owner-${randomUUID()}`;
let adminBearer: string;
let customerBearer: string;

// ---------------------------------------------------------------------------------------------------------------
// The event store, counted

const eventCount = async (): Promise<number> => {
  const { client, tables } = localStack();
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tables.events, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
};

/** The count once nothing moves any more: the fixture order's saga, or another file's, may still be appending. */
const settledEventCount = async (): Promise<number> => {
  let last = -1;
  return (
    await eventually(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const previous = last;
        last = await eventCount();
        return { previous, now: last };
      },
      ({ previous, now }) => expect(now).toBe(previous),
      { timeoutMs: 30_000, intervalMs: 0 },
    )
  ).now;
};

// ---------------------------------------------------------------------------------------------------------------
// Requests and what every answer must be

const parseJson = (text: string): Answer['json'] => {
  try {
    const value: unknown = text ? JSON.parse(text) : {};
    return typeof value === 'object' && value !== null ? (value as Answer['json']) : {};
  } catch {
    return {};
  }
};

/** fetch, for what the harness's `call` cannot send: raw bytes, no content type, any authorization header. */
const send = async (
  baseUrl: string,
  method: string,
  path: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<Answer> => {
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const answer = { status: response.status, headers: response.headers, json: parseJson(text), text };
  // Whatever the input, a documented route answers only what docs/openapi.json says it can.
  expect(departuresFromContract(method, path, answer), answer.text).toEqual([]);
  return answer;
};

const expectRefused = (answer: Answer, statuses: readonly number[]): void => {
  expectWellFormed(answer);
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
  expect(answer.status, answer.text).toBeLessThan(500);
  expect(statuses, `${answer.status}: ${answer.text}`).toContain(answer.status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
};

/** Runs the property, then checks that none of its requests appended an event. */
const refusesAll = async <T>(
  arbitrary: fc.Arbitrary<T>,
  numRuns: number,
  statuses: readonly number[],
  request: (input: T) => Promise<Answer>,
): Promise<void> => {
  const before = await eventCount();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => expectRefused(await request(input), statuses)),
    { numRuns },
  );
  expect(await eventCount()).toBe(before);
};

// ---------------------------------------------------------------------------------------------------------------
// JSON with room for what JSON.stringify cannot write

/** A token written as is into the body text: `NaN`, `0x10`, `1e309`… */
class Raw {
  constructor(readonly text: string) {}
}
type Json = null | boolean | number | string | Raw | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

const isRecord = (value: Json | undefined): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Raw);

const serialize = (value: Json): string =>
  value instanceof Raw
    ? value.text
    : Array.isArray(value)
      ? `[${value.map(serialize).join(',')}]`
      : isRecord(value)
        ? `{${Object.entries(value)
            .map(([key, item]) => `${JSON.stringify(key)}:${serialize(item)}`)
            .join(',')}}`
        : JSON.stringify(value);

/** `value` with the node at `path` changed; as it was if the path leads nowhere any more. Never mutates. */
const update = (value: Json, path: Path, change: (node: Json) => Json): Json => {
  const [head, ...rest] = path;
  if (head === undefined) return change(value);
  if (typeof head === 'number') {
    const item = Array.isArray(value) ? value[head] : undefined;
    if (!Array.isArray(value) || item === undefined) return value;
    return value.map((node, i) => (i === head ? update(node, rest, change) : node));
  }
  const field = isRecord(value) ? value[head] : undefined;
  if (!isRecord(value) || field === undefined || !Object.hasOwn(value, head)) return value;
  // fromEntries, not spread-and-assign: a key such as `__proto__` must stay an own field.
  return Object.fromEntries(
    Object.entries(value).map(([key, node]) => [key, key === head ? update(node, rest, change) : node]),
  );
};

const withField = (node: Json, key: string, field: Json): Json =>
  isRecord(node) ? Object.fromEntries([...Object.entries(node).filter(([k]) => k !== key), [key, field]]) : node;
const withoutField = (node: Json, key: string): Json =>
  isRecord(node) ? Object.fromEntries(Object.entries(node).filter(([k]) => k !== key)) : node;

/**
 * One thing wrong with a body: a field set to a value it may not take, a required field removed, or a field the
 * schema does not know added. Every field of these schemas is required and every object strict, so each mutation
 * makes the body invalid on its own; a later one either leaves that breakage alone or replaces or removes one of its
 * ancestors (again with an invalid value, or leaving a required field missing). No sequence of them can repair a body.
 */
type Mutation =
  | { kind: 'set'; path: Path; value: Json }
  | { kind: 'remove'; path: Path; key: string }
  | { kind: 'add'; path: Path; key: string; value: Json };

const mutate = (body: Json, mutation: Mutation): Json => {
  switch (mutation.kind) {
    case 'set':
      return mutation.path.length === 0
        ? mutation.value
        : update(body, mutation.path.slice(0, -1), (parent) => {
            const key = mutation.path.at(-1);
            if (typeof key === 'number')
              return Array.isArray(parent) ? parent.map((n, i) => (i === key ? mutation.value : n)) : parent;
            return key === undefined ? parent : withField(parent, key, mutation.value);
          });
    case 'remove':
      return update(body, mutation.path, (node) => withoutField(node, mutation.key));
    case 'add':
      return update(body, mutation.path, (node) => withField(node, mutation.key, mutation.value));
    default: {
      const unexpected: never = mutation;
      throw new Error(`unknown mutation ${JSON.stringify(unexpected)}`);
    }
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Strings and numbers no field of the contract accepts

/** Characters that break naive code: NUL, lone surrogates, bidi overrides, joiners, BOM, emoji, combining marks. */
const nastyChars = [
  '\u0000',
  '\u0007',
  '\u001b',
  '\t',
  '\n',
  '\r',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\u202E',
  '\u202D',
  '\u200F',
  '\u061C',
  '\u200D',
  '\u200B',
  '\uFEFF',
  '\uFFFD',
  '\uFFFF',
  '\u2028',
  '\u2029',
  '\u0301',
  '😀',
  '👩‍👩‍👧‍👦',
  '🇫🇷',
  'ﷺ',
  'ا',
  'עברית',
  'İ',
  'ß',
  'ǅ',
  '"',
  '\\',
  '/',
  "'",
  '<',
  '%',
  '{',
  '}',
];
const unicodeUnit = fc.oneof(
  fc.constantFrom(...nastyChars),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);
const unicodeString = (constraints: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({ unit: unicodeUnit, ...constraints });
/** Over 8,000 UTF-16 units (often over the 64 KiB body limit), cheap to generate. */
const hugeString = fc
  .tuple(unicodeString({ minLength: 1, maxLength: 8 }), fc.integer({ min: 8_000, max: 70_000 }))
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)));
const visibleAscii = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));
const latin1High = fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code));

/** A string in which lone surrogates became U+FFFD, as any UTF-8 encoder sends them (and encodeURIComponent needs). */
const wellFormed = (text: string): string => text.replace(/\p{Cs}/gu, '\uFFFD');
const encodeSegment = (text: string): string => encodeURIComponent(wellFormed(text));

const skuChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-');
/** Not `^[A-Z0-9][A-Z0-9-]{0,63}$`: empty, leading dash, 65 or more characters, or one character outside the set. */
const invalidSku = fc.oneof(
  fc.constant(''),
  fc.string({ unit: skuChar, maxLength: 10 }).map((rest) => `-${rest}`),
  fc.string({ unit: skuChar, minLength: 64, maxLength: 120 }).map((rest) => `A${rest}`),
  fc
    .tuple(
      fc.string({ unit: skuChar, maxLength: 8 }),
      fc.oneof(fc.constantFrom(...'abcxyz _./+:;#?&=*'), fc.constantFrom(...nastyChars)),
      fc.string({ unit: skuChar, maxLength: 8 }),
    )
    .map(([before, bad, after]) => `${before}${bad}${after}`),
);
/** Not three upper-case letters: another length, or a character outside A–Z. */
const upper = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
const invalidCurrency = fc.oneof(
  fc.string({ unit: upper, maxLength: 2 }),
  fc.string({ unit: upper, minLength: 4, maxLength: 8 }),
  fc
    .tuple(fc.string({ unit: upper, maxLength: 2 }), fc.oneof(fc.constantFrom(...'eur1€$ '), unicodeUnit))
    .filter(([, bad]) => !/^[A-Z]+$/.test(bad))
    .map(([letters, bad]) => `${letters}${bad}`),
);
/** Blank once trimmed (String.prototype.trim's whitespace), or over `max` UTF-16 units between two non-blanks. */
const tooLong = (max: number) =>
  fc.oneof(
    unicodeString({ minLength: max + 1, maxLength: max + 200 }).map((inner) => `x${inner}x`),
    hugeString.map((inner) => `x${inner}x`),
  );
const blank = fc.string({
  unit: fc.constantFrom(' ', '\t', '\n', '\u00A0', '\u2003', '\u3000', '\uFEFF'),
  maxLength: 5,
});
/** A name with a control character or a bidirectional override in it, or of nothing visible (a zero-width space). */
const garbledName = fc.oneof(
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\u0007', '\u001b', '\u007f', '\u202e', '\u2066'))
    .map(([text, control]) => `Mug ${control}${text}`),
  fc.string({ unit: fc.constantFrom('\u200b', '\u200c', '\u200d'), minLength: 1, maxLength: 5 }),
);
const invalidName = fc.oneof(blank, tooLong(200), garbledName);
const invalidPaymentToken = fc.oneof(fc.constant(''), tooLong(256));

const smallJson = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
const notString = fc.oneof(
  smallJson.filter((value) => typeof value !== 'string'),
  fc.constantFrom<Json>(0, true, null, [], {}, ['ABC-1'], { value: 'ABC-1' }),
);
const notNumber = fc.oneof(
  smallJson.filter((value) => typeof value !== 'number'),
  fc.constantFrom<Json>('1', '1e3', 'NaN', 'Infinity', '', true, null, [1], { value: 1 }),
);
const notObject = smallJson.filter((value) => !isRecord(value));
const notArray = smallJson.filter((value) => !Array.isArray(value));

/**
 * A number token whose value, as JSON.parse reads it on the server, is not an integer in [min, max]: not JSON at
 * all (`NaN`, `0x10`, `01`), or negative, fractional, huge, or infinite (`1e309`). The filter states the field's
 * domain, so `-0`, `1e-400` or `4.0` are dropped where they would be valid.
 */
const numberOutside = (min: number, max: number) =>
  fc
    .oneof(
      fc.integer().map(String),
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
      fc.double().map((value) => JSON.stringify(value)),
      fc.tuple(fc.integer({ min: -2000, max: 2000 }), fc.integer({ min: 1, max: 99 })).map(([i, f]) => `${i}.${f}`),
      fc.constantFrom(
        'NaN',
        '-NaN',
        'Infinity',
        '-Infinity',
        '1e309',
        '-1e309',
        '1e-400',
        '-0',
        '-1',
        '0.5',
        '1.5',
        '0x10',
        '01',
        '+1',
        '.5',
        '5.',
        '1e',
        '١',
        '1_000',
        '1,5',
        '9007199254740992',
        '9007199254740993',
        '1e16',
        '4.000000000000001',
      ),
    )
    .filter((text) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return true;
      }
      return !(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max);
    })
    .map((text) => new Raw(text));

const extraKey = (known: readonly string[]) =>
  fc
    .oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'id',
        'customerId',
        'status',
        'version',
        'price',
        'SKU',
        'Sku',
        'sku ',
        ' sku',
        'ѕku',
        'sku\u0000',
        '',
        'items[0]',
        '$where',
      ),
      unicodeString({ maxLength: 20 }),
    )
    .filter((key) => !known.includes(key));

// ---------------------------------------------------------------------------------------------------------------
// The routes with a body: a valid body to start from, and what can be wrong with each of its fields

type BodyRoute = {
  name: string;
  method: 'POST';
  path: () => string;
  bearer: () => string;
  /** A body the route would accept, but for what is invented around it (a fresh SKU, a free-form name). */
  valid: fc.Arbitrary<Json>;
  mutation: fc.Arbitrary<Mutation>;
};

const set = (path: Path, value: fc.Arbitrary<Json>) => value.map((v): Mutation => ({ kind: 'set', path, value: v }));
const remove = (path: Path, key: string) => fc.constant<Mutation>({ kind: 'remove', path, key });
const add = (path: Path, known: readonly string[]) =>
  fc.tuple(extraKey(known), smallJson).map(([key, value]): Mutation => ({ kind: 'add', path, key, value }));

const freshSku = fc.stringMatching(/^FUZZ-[0-9A-F]{16}$/);

const registerProduct: BodyRoute = {
  name: 'POST /products',
  method: 'POST',
  path: () => '/products',
  bearer: () => adminBearer,
  valid: fc.record({
    sku: freshSku,
    // Free-form: lone surrogates, RTL, NUL… in a field that may take them; the mutation makes the body invalid.
    name: unicodeString({ minLength: 1, maxLength: 40 }),
    price: fc.record({ amount: fc.nat(), currency: fc.constantFrom('EUR', 'GBP', 'USD') }),
    stock: fc.nat({ max: 1_000_000 }),
  }),
  mutation: fc.oneof(
    set([], notObject),
    set(['sku'], fc.oneof(invalidSku, notString)),
    set(['name'], fc.oneof(invalidName, notString)),
    set(['price'], notObject),
    set(['price', 'amount'], fc.oneof(numberOutside(0, Number.MAX_SAFE_INTEGER), notNumber)),
    set(['price', 'currency'], fc.oneof(invalidCurrency, notString)),
    set(['stock'], fc.oneof(numberOutside(0, 1_000_000), notNumber)),
    ...['sku', 'name', 'price', 'stock'].map((key) => remove([], key)),
    ...['amount', 'currency'].map((key) => remove(['price'], key)),
    add([], ['sku', 'name', 'price', 'stock']),
    add(['price'], ['amount', 'currency']),
  ),
};

/** A product's stock moved by `{ quantity }`: a restock or a write-off. */
const quantityRoute = (action: 'restock' | 'write-off'): BodyRoute => ({
  name: `POST /products/{sku}/${action}`,
  method: 'POST',
  path: () => `/products/${sku}/${action}`,
  bearer: () => adminBearer,
  valid: fc.record({ quantity: fc.integer({ min: 1, max: 1_000_000 }) }),
  mutation: fc.oneof(
    set([], notObject),
    set(['quantity'], fc.oneof(numberOutside(1, 1_000_000), notNumber)),
    remove([], 'quantity'),
    add([], ['quantity']),
  ),
});
const restockProduct = quantityRoute('restock');
const writeOffStock = quantityRoute('write-off');

const repriceProduct: BodyRoute = {
  name: 'POST /products/{sku}/reprice',
  method: 'POST',
  path: () => `/products/${sku}/reprice`,
  bearer: () => adminBearer,
  valid: fc.record({ price: fc.record({ amount: fc.nat(), currency: fc.constantFrom('EUR', 'GBP', 'USD') }) }),
  mutation: fc.oneof(
    set([], notObject),
    set(['price'], notObject),
    set(['price', 'amount'], fc.oneof(numberOutside(0, Number.MAX_SAFE_INTEGER), notNumber)),
    set(['price', 'currency'], fc.oneof(invalidCurrency, notString)),
    remove([], 'price'),
    ...['amount', 'currency'].map((key) => remove(['price'], key)),
    add([], ['price']),
    add(['price'], ['amount', 'currency']),
  ),
};

const renameProduct: BodyRoute = {
  name: 'POST /products/{sku}/rename',
  method: 'POST',
  path: () => `/products/${sku}/rename`,
  bearer: () => adminBearer,
  valid: fc.record({ name: unicodeString({ minLength: 1, maxLength: 40 }) }),
  mutation: fc.oneof(
    set([], notObject),
    set(['name'], fc.oneof(invalidName, notString)),
    remove([], 'name'),
    add([], ['name']),
  ),
};

/** Lines of the registered product, as many as the contract refuses. */
const tooManyLines = fc
  .integer({ min: 51, max: 80 })
  .map((count): Json => Array.from({ length: count }, () => ({ sku, quantity: 1 })));

const placeOrder: BodyRoute = {
  name: 'POST /orders',
  method: 'POST',
  path: () => '/orders',
  bearer: () => customerBearer,
  valid: fc.record({
    // `sku` is read when a value is generated: it is registered in beforeAll, after this is defined.
    items: fc.integer({ min: 1, max: 1000 }).map((quantity) => [{ sku, quantity }]),
    payment: fc.record({ token: unicodeString({ minLength: 1, maxLength: 40 }) }),
  }),
  mutation: fc.oneof(
    set([], notObject),
    set(['items'], fc.oneof(notArray, fc.constant<Json>([]), tooManyLines)),
    set(['items', 0], notObject),
    set(['items', 0, 'sku'], fc.oneof(invalidSku, notString)),
    set(['items', 0, 'quantity'], fc.oneof(numberOutside(1, 1000), notNumber)),
    set(['payment'], notObject),
    set(['payment', 'token'], fc.oneof(invalidPaymentToken, notString)),
    remove([], 'items'),
    remove([], 'payment'),
    remove(['items', 0], 'sku'),
    remove(['items', 0], 'quantity'),
    remove(['payment'], 'token'),
    add([], ['items', 'payment']),
    add(['items', 0], ['sku', 'quantity']),
    add(['payment'], ['token']),
  ),
};

const bodyRoutes = [registerProduct, restockProduct, writeOffStock, repriceProduct, renameProduct, placeOrder];

/** A valid body of the route, broken by one to three mutations (the first always applies: it meets a valid body). */
const brokenBody = fc.constantFrom(...bodyRoutes).chain((route) =>
  fc.record({
    route: fc.constant(route),
    body: fc
      .tuple(route.valid, fc.array(route.mutation, { minLength: 1, maxLength: 3 }))
      .map(([valid, mutations]) => mutations.reduce(mutate, valid)),
  }),
);

const jsonHeaders = (bearer: string) => ({ authorization: `Bearer ${bearer}`, 'content-type': 'application/json' });

// ---------------------------------------------------------------------------------------------------------------
// Credentials, forged with the key the keyed gateway trusts

const forge = async (claims: JWTPayload, key: Parameters<SignJWT['sign']>[0] = ourKey): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: keyed.keyId }).sign(key);

/** The claims of a valid admin token for the fixture order's owner: what each forged credential gets wrong once. */
const validClaims = (): JWTPayload => {
  const now = Math.floor(Date.now() / 1000);
  return { sub: owner, iss: keyed.issuer, aud: keyed.audience, iat: now, exp: now + 3600, scope: ADMIN_SCOPE };
};

const omit = (claims: JWTPayload, key: string): JWTPayload =>
  Object.fromEntries(Object.entries(claims).filter(([k]) => k !== key));

type SignatureFlaw = 'tampered signature' | 'tampered payload' | 'another key' | 'alg none' | 'HS256';

/** One flaw each. (`exp` is never omitted here: tests/e2e/commandApiErrors.e2e.test.ts sends a token without one.) */
type Credential =
  | { kind: 'none' }
  | { kind: 'header'; value: string }
  | { kind: 'scheme'; scheme: string }
  | { kind: 'expired'; secondsAgo: number }
  | { kind: 'not yet valid'; secondsAhead: number }
  | { kind: 'audience' | 'issuer'; value: string | string[] | undefined }
  | { kind: 'subject'; value: string | undefined }
  | { kind: 'signature'; how: SignatureFlaw }
  | { kind: 'scope'; claim: 'scope' | 'scp'; value: string | undefined }
  | { kind: 'stranger' };

const base64urlSegment = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/);
const anyTargetCredential: fc.Arbitrary<Credential> = fc.oneof(
  fc.constant<Credential>({ kind: 'none' }),
  // Garbage under the right scheme: no string generated here is a token signed by our key.
  fc
    .oneof(
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Bearer null',
        'Bearer undefined',
        'Bearer a.b.c',
        'Bearer ..',
        'Bearer e30.e30.',
      ),
      fc.string({ unit: visibleAscii, minLength: 1, maxLength: 200 }).map((junk) => `Bearer ${junk}`),
      fc.tuple(base64urlSegment, base64urlSegment, base64urlSegment).map((parts) => `Bearer ${parts.join('.')}`),
      fc.tuple(base64urlSegment, base64urlSegment).map((parts) => `Bearer ${parts.join('.')}`),
      fc
        .string({ unit: fc.oneof(visibleAscii, latin1High), minLength: 1, maxLength: 60 })
        .map((junk) => `Bearer ${junk}`),
    )
    .map((value): Credential => ({ kind: 'header', value })),
  fc
    // Not '': the token alone, as the JWT authorizer takes it too.
    .constantFrom('Basic', 'Token', 'JWT', 'Bearer:', 'Bearer  ')
    .map((scheme): Credential => ({ kind: 'scheme', scheme })),
  fc.integer({ min: 1, max: 86_400 * 30 }).map((secondsAgo): Credential => ({ kind: 'expired', secondsAgo })),
  fc
    .integer({ min: 60, max: 86_400 * 30 })
    .map((secondsAhead): Credential => ({ kind: 'not yet valid', secondsAhead })),
  fc
    .tuple(
      fc.constantFrom('audience' as const, 'issuer' as const),
      fc.oneof(
        fc.constant(undefined),
        fc.constant<string[]>([]),
        fc.constantFrom('other', 'https://example.com', 'orderflow', ' '),
        unicodeString({ maxLength: 20 }).map(wellFormed),
        fc.array(fc.constantFrom('other', 'https://example.com'), { minLength: 1, maxLength: 3 }),
      ),
    )
    .filter(([kind, value]) => ![value].flat().includes(kind === 'audience' ? keyed.audience : keyed.issuer))
    .map(([kind, value]): Credential => ({ kind, value })),
  fc.constantFrom<Credential>({ kind: 'subject', value: '' }, { kind: 'subject', value: undefined }),
  // Longer than a customer id: nothing an order could record.
  fc.string({ minLength: 257, maxLength: 400 }).map((value): Credential => ({ kind: 'subject', value })),
  fc
    .constantFrom<SignatureFlaw>('tampered signature', 'tampered payload', 'another key', 'alg none', 'HS256')
    .map((how): Credential => ({ kind: 'signature', how })),
);
/** Valid but for the scope, so only on admin routes (any signed-in customer may call the others). */
const noAdminScope: fc.Arbitrary<Credential> = fc.oneof(
  fc.constant<Credential>({ kind: 'scope', claim: 'scope', value: undefined }),
  fc
    .constantFrom(
      '',
      'orderflow',
      'admin',
      'orderflow/Admin',
      'ORDERFLOW/ADMIN',
      'orderflow/admin:read',
      'orderflow/adminx',
      'x,orderflow/admin',
      'orderflow/admin\u0000',
    )
    .map((value): Credential => ({ kind: 'scope', claim: 'scope', value })),
  fc.constant<Credential>({ kind: 'scope', claim: 'scp', value: ADMIN_SCOPE }),
);

const tamper = (token: string, part: 1 | 2): string => {
  const parts = token.split('.');
  const segment = parts[part] ?? '';
  // Not the last character: its low bits may be padding, so changing it might not change the bytes.
  const i = Math.min(5, segment.length - 2);
  parts[part] = `${segment.slice(0, i)}${segment[i] === 'A' ? 'B' : 'A'}${segment.slice(i + 1)}`;
  return parts.join('.');
};

const authorization = async (credential: Credential): Promise<string | undefined> => {
  const now = Math.floor(Date.now() / 1000);
  const claims = validClaims();
  const withValue = (key: string, value: unknown) =>
    value === undefined ? omit(claims, key) : { ...claims, [key]: value };
  switch (credential.kind) {
    case 'none':
      return undefined;
    case 'header':
      return credential.value;
    case 'scheme':
      return `${credential.scheme} ${await forge(claims)}`;
    case 'expired':
      return `Bearer ${await forge({ ...claims, iat: now - credential.secondsAgo - 60, exp: now - credential.secondsAgo })}`;
    case 'not yet valid':
      return `Bearer ${await forge({ ...claims, nbf: now + credential.secondsAhead })}`;
    case 'audience':
      return `Bearer ${await forge(withValue('aud', credential.value))}`;
    case 'issuer':
      return `Bearer ${await forge(withValue('iss', credential.value))}`;
    case 'subject':
      return `Bearer ${await forge(withValue('sub', credential.value))}`;
    case 'scope':
      return `Bearer ${await forge({ ...omit(claims, 'scope'), ...(credential.value === undefined ? {} : { [credential.claim]: credential.value }) })}`;
    case 'stranger':
      // Without the admin scope: an admin may cancel anyone's order.
      return `Bearer ${await forge({ ...omit(claims, 'scope'), sub: `fuzz-stranger-${randomUUID()}` })}`;
    case 'signature':
      switch (credential.how) {
        case 'tampered signature':
          return `Bearer ${tamper(await forge(claims), 2)}`;
        case 'tampered payload':
          return `Bearer ${tamper(await forge(claims), 1)}`;
        case 'another key':
          return `Bearer ${await forge(claims, otherKey)}`;
        case 'alg none':
          return `Bearer ${new UnsecuredJWT(claims).encode()}`;
        case 'HS256':
          return `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('a shared secret nobody shares'))}`;
        default: {
          const unexpected: never = credential.how;
          throw new Error(`unknown signature flaw ${String(unexpected)}`);
        }
      }
    default: {
      const unexpected: never = credential;
      throw new Error(`unknown credential ${JSON.stringify(unexpected)}`);
    }
  }
};

const validProduct = (): Json => ({
  sku: uniqueSku(),
  name: 'Teapot',
  price: { amount: 1, currency: 'EUR' },
  stock: 1,
});
const validOrder = (): Json => ({ items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } });

/** Requests that would succeed with a valid admin token of the fixture order's owner. */
type Target = { method: 'GET' | 'POST'; path: () => string; body?: () => Json; admin: boolean; ownerOnly: boolean };
const targets: Target[] = [
  { method: 'POST', path: () => '/products', body: validProduct, admin: true, ownerOnly: false },
  {
    method: 'POST',
    path: () => `/products/${sku}/restock`,
    body: () => ({ quantity: 1 }),
    admin: true,
    ownerOnly: false,
  },
  { method: 'POST', path: () => '/orders', body: validOrder, admin: false, ownerOnly: false },
  { method: 'POST', path: () => `/orders/${orderId}/cancel`, admin: false, ownerOnly: true },
  { method: 'GET', path: () => '/orders', admin: false, ownerOnly: false },
  { method: 'GET', path: () => `/orders/${orderId}`, admin: false, ownerOnly: true },
  { method: 'GET', path: () => `/orders/${orderId}/events`, admin: false, ownerOnly: true },
  { method: 'GET', path: () => `/products/${sku}`, admin: false, ownerOnly: false },
];

// ---------------------------------------------------------------------------------------------------------------
// Paths and parameters

/** Methods Node's HTTP parser and fetch both carry (not HEAD: its answer has no body to check). */
const methods = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'SEARCH',
  'REPORT',
  'PURGE',
  'LINK',
  'UNLINK',
  'QUERY',
  'MERGE',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
] as const;

const templates = routes.map((route) => ({ method: route.method, pattern: routePattern(route.path).pattern }));
const allowedMethods = (path: string): string[] => templates.filter((t) => t.pattern.test(path)).map((t) => t.method);

/**
 * A path segment, percent-encoded, or one of the odd ones raw (stray `%`, bad UTF-8 escapes, encoded slashes).
 * Never `.` or `..`: URL parsing would resolve them, and `/x/../orders` is `/orders`.
 */
const segment = fc.oneof(
  unicodeString({ minLength: 1, maxLength: 12 })
    .filter((text) => text !== '.' && text !== '..')
    .map(encodeSegment),
  fc.constantFrom(
    '%',
    '%%',
    '%zz',
    '%E0%A4%A',
    '%C0%AF',
    '%ED%A0%80',
    '%00',
    '%2F',
    '%5C',
    ';a',
    '~',
    '@',
    ':',
    '!',
    '$',
    "'",
    '*',
    ',',
    '=',
    '+',
  ),
);

const unknownPath = fc.oneof(
  // Under a first segment that names no resource.
  fc
    .tuple(
      fc.constantFrom(
        'nope',
        'api',
        'v1',
        'admin',
        'order',
        'product',
        'Orders',
        'PRODUCTS',
        'openapi',
        'openapi.JSON',
        'orders.json',
        '%6Frders',
      ),
      fc.array(segment, { maxLength: 3 }),
    )
    .map(([root, rest]) => `/${[root, ...rest].join('/')}`),
  // A known resource with a segment too many.
  fc
    .tuple(
      fc.constantFrom(
        () => `/orders/${orderId}/cancel`,
        () => `/orders/${orderId}/events`,
        () => `/products/${sku}/restock`,
        () => '/openapi.json',
        () => `/orders/${orderId}`,
        () => `/products/${sku}`,
      ),
      segment,
    )
    .filter(([path, next]) => allowedMethods(`${path()}/${next}`).length === 0)
    .map(([path, next]) => `${path()}/${next}`),
  // Empty segments: a trailing slash, a doubled one, a path that starts with two.
  fc
    .constantFrom(
      () => '/orders/',
      () => '/products/',
      () => '//orders',
      () => '///orders',
      () => '//x/orders',
      () => '//localhost/products',
      () => `/orders//${orderId}`,
      () => `/orders/${orderId}//cancel`,
      () => `/orders/${orderId}/cancel/`,
      () => `/products/${sku}/restock/`,
      () => `//products/${sku}/restock`,
    )
    .map((path) => path()),
);

/** The segment as the gateway hands it to the function: decoded, or raw when it does not decode. */
const decoded = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/**
 * `.` and `..`, raw or percent-encoded, are resolved away when the URL is parsed (`/products/./restock` is sent as
 * `/products/restock`, another route), so they never reach the API as the parameter they stand for.
 */
const isDotSegment = (text: string): boolean => ['.', '..'].includes(decoded(text));

/** Path segments that name no order: other shapes, the real id altered, or a well-formed id of no order. */
const badOrderId = fc
  .oneof(
    unicodeString({ maxLength: 40 }).map(encodeSegment),
    fc
      .constantFrom(
        () => orderId.toUpperCase(),
        () => `${orderId}0`,
        () => orderId.slice(0, 35),
        () => `${orderId.slice(0, 30)}%E0%A4`,
        () => `${orderId}%00`,
        () => `${orderId}%2F`,
      )
      .map((id) => id()),
    fc
      .tuple(fc.nat({ max: 35 }), fc.oneof(fc.constantFrom('g', 'G', 'x', '_'), unicodeUnit))
      .map(([i, c]) => encodeSegment(`${orderId.slice(0, i)}${c}${orderId.slice(i + 1)}`)),
    segment,
    fc.uuid(),
  )
  .filter((id) => id.length > 0 && decoded(id) !== orderId && !isDotSegment(id));

const badSkuSegment = fc
  .oneof(
    invalidSku.filter((text) => text.length > 0).map(encodeSegment),
    fc
      .constantFrom(
        () => sku.toLowerCase(),
        () => `${sku}%E0%A4%A`,
        () => `${sku}%2F`,
        () => `${sku}X`,
      )
      .map((s) => s()),
    segment,
  )
  .filter((text) => decoded(text) !== sku && !isDotSegment(text));

const query = (parameters: Record<string, string>): string => `?${new URLSearchParams(parameters).toString()}`;

/** `limit` as z.coerce.number() reads it: Number(text). In range only if an integer from 1 to 100. */
const limitInRange = (text: string): boolean => {
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 && value <= 100;
};
const badLimit = fc
  .oneof(
    fc.integer().map(String),
    fc.double().map(String),
    unicodeString({ maxLength: 10 }).map(wellFormed),
    fc.constantFrom(
      '',
      '0',
      '-1',
      '101',
      '1e3',
      '20.5',
      'NaN',
      'Infinity',
      'null',
      '٣',
      '５',
      '1,5',
      '1_0',
      '0x',
      '10abc',
      '%zz',
    ),
  )
  .filter((limit) => !limitInRange(limit));

/** Cursors for no caller of these requests: each request's caller is minted for it, after the cursor. */
const cursorOf = (key: Json): string => Buffer.from(serialize(key)).toString('base64url');
const badCursor = fc.oneof(
  fc.constant(''),
  unicodeString({ minLength: 1, maxLength: 60 }).map(wellFormed),
  fc.string({ unit: visibleAscii, minLength: 2049, maxLength: 2200 }),
  smallJson.map(cursorOf),
  fc
    .record({
      orderId: fc.uuid(),
      customerId: fc.constantFrom(owner, 'customer-1', ''),
      placedAt: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
    })
    .map((key) => cursorOf(key)),
);

/** Not RFC 3339 with an offset: no offset, no time, impossible fields, other formats (each checked against zod). */
const badAt = fc.oneof(
  fc.constantFrom(
    'now',
    '',
    '2024-13-01T00:00:00Z',
    '2024-01-32T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T00:60:00Z',
    '2024-01-01 00:00:00Z',
    '2024-01-01T00:00:00+2',
    '2024-01-01T00:00:00+0100',
    '2024-01-01T00:00:00+24:00',
    '2023-02-29T00:00:00Z',
    '2024-01-01t00:00:00z',
    '1700000000000',
    'Mon, 01 Jan 2024 00:00:00 GMT',
    '２０２４-01-01T00:00:00Z',
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 19)),
  unicodeString({ maxLength: 30 }).map((text) => `x${wellFormed(text)}`),
);

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  testApi = await startTestApi();
  keyDir = await mkdtemp(join(tmpdir(), 'orderflow-fuzz-'));
  keyed = await localIssuer({ ...jwtSettings(testApi.config), keyDir });
  keyedApi = await startApi({ config: testApi.config, issuer: keyed });
  const { privateJwk } = JSON.parse(await readFile(join(keyDir, 'signing-key.jwk.json'), 'utf8')) as {
    privateJwk: JWK;
  };
  ourKey = await importJWK(privateJwk, 'RS256');
  otherKey = (await generateKeyPair('RS256')).privateKey;

  adminBearer = await testApi.issuer.sign('fuzz-admin', { admin: true });
  customerBearer = await testApi.issuer.sign(owner);

  // Something real for every request to aim at: a product, and an order its saga has settled.
  sku = await givenProduct(testApi.call);
  orderId = await givenOrder(testApi.call, owner, sku);
  await eventually(
    () => testApi.call('GET', `/orders/${orderId}`, { as: owner }),
    (answer) => expect(answer.json.status).toBe('CONFIRMED'),
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  await settledEventCount();
}, 120_000);

afterAll(async () => {
  await keyedApi?.close();
  await testApi?.api.close();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

describe('fuzzing the API: every invalid request is a 4xx problem, and nothing is written', () => {
  it('refuses bodies that are not JSON: truncated, random bytes, broken nesting', async () => {
    const valid = fc
      .constantFrom(...bodyRoutes)
      .chain((route) => fc.tuple(fc.constant(route), route.valid.map(serialize)));
    /** What the server makes of the bytes (UTF-8, invalid sequences as U+FFFD) is not JSON. */
    const unparsable = (bytes: Uint8Array): boolean => {
      try {
        JSON.parse(Buffer.from(bytes).toString('utf8'));
        return false;
      } catch {
        return true;
      }
    };
    const utf8 = (text: string) => new TextEncoder().encode(text);
    const unreadable = fc
      .oneof(
        // A strict prefix of an object's text never closes the object (an empty one is a missing body).
        valid.chain(([route, text]) =>
          fc.nat({ max: text.length - 1 }).map((length) => ({ route, bytes: utf8(text.slice(0, length)) })),
        ),
        fc
          .tuple(fc.constantFrom(...bodyRoutes), fc.uint8Array({ minLength: 1, maxLength: 2000 }))
          .map(([route, bytes]) => ({ route, bytes })),
        valid.chain(([route, text]) =>
          fc
            .constantFrom(
              (t: string) => `${t.slice(0, -1)}]`,
              (t: string) => `${t}}`,
              (t: string) => `[${t}`,
              (t: string) => `${t}${t}`,
              (t: string) => `\uFEFF${t}`,
              (t: string) => `${t}\u0000`,
              (t: string) => t.replace(':', ''),
              (t: string) => t.replaceAll('"', "'"),
              (t: string) => `{/* comment */${t.slice(1)}`,
              (t: string) => `${t.slice(0, -1)},}`,
              () => '['.repeat(5000),
              () => `${'{"a":'.repeat(2000)}1`,
              () => '   ',
              () => 'null null',
            )
            .map((breakIt) => ({ route, bytes: utf8(breakIt(text)) })),
        ),
      )
      .filter(({ bytes }) => unparsable(bytes));

    await refusesAll(unreadable, RUNS.unreadableBodies, [400], ({ route, bytes }) =>
      send(testApi.api.url, route.method, route.path(), { headers: jsonHeaders(route.bearer()), body: bytes }),
    );
  });

  it('refuses bodies that break the schema: wrong types, bad numbers, bad strings, missing and unknown fields', async () => {
    await refusesAll(brokenBody, RUNS.schemaViolations, [400, 413], ({ route, body }) =>
      send(testApi.api.url, route.method, route.path(), {
        headers: jsonHeaders(route.bearer()),
        body: serialize(body),
      }),
    );
  });

  it('refuses valid bodies sent with a bad Content-Type or Idempotency-Key', async () => {
    const validBody = fc.constantFrom(...bodyRoutes).chain((route) => fc.tuple(fc.constant(route), route.valid));
    /** None of these is `application/json` or `application/<anything>+json`, whatever their parameters. */
    const badContentType = fc.oneof(
      fc.constantFrom(
        'text/plain',
        'text/json',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/jsonp',
        'application/json5',
        'application/javascript',
        'json',
        'application',
        'application/',
        '*/*',
        'application/*',
        'application/ json',
        'application/json+xml',
        'application/jsonx',
        'application/json, text/plain',
        '',
      ),
      fc.string({ unit: visibleAscii, maxLength: 40 }).map((type) => `x-${type}`),
    );
    /**
     * Not 1–255 visible ASCII characters, and still so once fetch trims the value: empty, inner whitespace, a byte
     * over 0x7F, or too long; or holding a comma.
     */
    const visible = fc.string({ unit: visibleAscii, minLength: 1, maxLength: 40 });
    const badIdempotencyKey = fc.oneof(
      fc.constant(''),
      fc.tuple(visible, fc.constantFrom(' ', '\t', '  '), visible).map(([a, space, b]) => `${a}${space}${b}`),
      fc
        .tuple(
          fc.string({ unit: visibleAscii, maxLength: 20 }),
          latin1High,
          fc.string({ unit: visibleAscii, maxLength: 20 }),
        )
        .map(([a, high, b]) => `${a}${high}${b}`),
      fc.string({ unit: visibleAscii, minLength: 256, maxLength: 600 }),
      // The header sent twice, as API Gateway hands it on: joined by a comma.
      fc.tuple(visible, visible).map(([a, b]) => `${a},${b}`),
    );
    // A junk correlation id rides along: it is replaced, never refused, and must never reach the answer.
    const correlation = fc.option(fc.string({ unit: fc.oneof(visibleAscii, latin1High), maxLength: 200 }), {
      nil: undefined,
    });
    const badHeaders = fc.oneof(
      fc.tuple(validBody, badContentType, correlation).map(([[route, body], contentType, correlationId]) => ({
        route,
        body,
        headers: { 'content-type': contentType },
        correlationId,
      })),
      // A body in bytes and no Content-Type at all (fetch adds text/plain to a string body).
      fc
        .tuple(validBody, correlation)
        .map(([[route, body], correlationId]) => ({ route, body, headers: {}, correlationId })),
      fc.tuple(placeOrder.valid, badIdempotencyKey, correlation).map(([body, key, correlationId]) => ({
        route: placeOrder,
        body,
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        correlationId,
      })),
    );

    await refusesAll(badHeaders, RUNS.badHeaders, [400, 415], ({ route, body, headers, correlationId }) =>
      send(testApi.api.url, route.method, route.path(), {
        headers: {
          authorization: `Bearer ${route.bearer()}`,
          ...headers,
          ...(correlationId === undefined ? {} : { 'x-correlation-id': correlationId }),
        },
        body: new TextEncoder().encode(serialize(body)),
      }),
    );
  });

  it('refuses valid requests with bad credentials: missing, malformed, expired, forged, for another audience, without the scope', async () => {
    const credentialsFor = fc.oneof(
      fc.record({ target: fc.constantFrom(...targets), credential: anyTargetCredential }),
      fc.record({ target: fc.constantFrom(...targets.filter((t) => t.admin)), credential: noAdminScope }),
      // Someone else's order looks missing, so only on the routes that serve one order to its owner.
      fc.record({
        target: fc.constantFrom(...targets.filter((t) => t.ownerOnly)),
        credential: fc.constant<Credential>({ kind: 'stranger' }),
      }),
    );

    await refusesAll(credentialsFor, RUNS.badCredentials, [401, 403, 404], async ({ target, credential }) => {
      const header = await authorization(credential);
      const body = target.body?.();
      return send(keyedApi.url, target.method, target.path(), {
        headers: {
          ...(header === undefined ? {} : { authorization: header }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: serialize(body) }),
      });
    });
  });

  it('refuses unknown paths and known paths with another method', async () => {
    const knownPaths = [
      () => '/products',
      () => `/products/${sku}/restock`,
      () => '/orders',
      () => `/orders/${orderId}/cancel`,
      () => `/orders/${orderId}/events`,
      () => `/orders/${orderId}`,
      () => `/products/${sku}`,
      () => '/openapi.json',
    ];
    // A body another route would accept, so routing is all that refuses it.
    const validBodies = [validProduct, validOrder];
    const misrouted = fc.oneof(
      fc
        .tuple(fc.constantFrom(...knownPaths), fc.constantFrom(...methods), fc.constantFrom(...validBodies))
        .map(([path, method, body]) => ({ method, path: path(), body }))
        // OPTIONS on a known path is no misrouting: it answers 204 with the methods the path allows.
        .filter(({ method, path }) => ![...allowedMethods(path), 'OPTIONS'].includes(method)),
      fc
        .tuple(unknownPath, fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), fc.constantFrom(...validBodies))
        .map(([path, method, body]) => ({ method, path, body })),
    );

    await refusesAll(misrouted, RUNS.badRoutes, [404, 405], ({ method, path, body }) =>
      testApi.call(method, path, { as: admin, ...(method === 'GET' ? {} : { body: body() }) }),
    );
  });

  it('refuses bad path and query parameters: limit, cursor, at, order ids and SKUs', async () => {
    const customer = fc.uuid().map((id) => `fuzz-customer-${id}`);
    const badParameters = fc.oneof(
      fc.tuple(badLimit, fc.option(badCursor, { nil: undefined }), customer).map(([limit, cursor, as]) => ({
        method: 'GET',
        path: `/orders${query({ limit, ...(cursor === undefined ? {} : { cursor }) })}`,
        as,
      })),
      fc
        .tuple(badCursor, fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }), customer)
        .map(([cursor, limit, as]) => ({
          method: 'GET',
          path: `/orders${query({ cursor, ...(limit === undefined ? {} : { limit: String(limit) }) })}`,
          as,
        })),
      badAt.map((at) => ({ method: 'GET', path: `/orders/${orderId}${query({ at })}`, as: owner })),
      fc.tuple(badOrderId, fc.constantFrom('', '/events', '/cancel')).map(([id, rest]) => ({
        method: rest === '/cancel' ? 'POST' : 'GET',
        path: `/orders/${id}${rest}`,
        as: owner,
      })),
      badSkuSegment.map((segment) => ({ method: 'GET', path: `/products/${segment}`, as: owner })),
    );
    const restockUnknown = badSkuSegment.map((segment) => ({ path: `/products/${segment}/restock` }));

    await refusesAll(
      fc.oneof(
        badParameters.map((request) => ({ ...request, body: undefined })),
        restockUnknown.map(({ path }) => ({ method: 'POST', path, as: admin, body: { quantity: 1 } })),
      ),
      RUNS.badParameters,
      [400, 404, 422],
      ({ method, path, as, body }) => testApi.call(method, path, { as, ...(body === undefined ? {} : { body }) }),
    );
  });
});
