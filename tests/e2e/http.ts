import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect } from 'vitest';
import { Problem } from '../../api/responses.js';
import { type EventItem, storedItemEvents } from '../../eventstore/eventItems.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { departuresFromContract } from '../support/documented.js';
import { localStack } from '../support/stack.js';

export type Call = TestApi['call'];
export type Answer = Awaited<ReturnType<Call>>;

/** What an answer must never show: a stack frame, an error's name, a source position. */
const leak = /\n\s*at |\bat (?:async )?(?:file:|node:|\/|[A-Za-z]:\\)|\b\w*Error:|\.[cm]?[jt]s:\d+/;
const correlationIdShape = /^[A-Za-z0-9._:-]{1,128}$/;

/** Every error answer: an RFC 9457 problem document whose `status` is the HTTP status, and nothing internal. */
export const expectProblemShape = (answer: Answer): void => {
  expect(answer.headers.get('content-type'), answer.text).toMatch(/^application\/problem\+json\b/);
  const problem = Problem.parse(answer.json);
  expect(problem.status).toBe(answer.status);
  expect(problem.type).toMatch(/^urn:orderflow:problem:[a-z-]+$/);
  expect(problem.title).not.toBe('');
  expect(problem.detail).not.toBe('');
  expect(problem.correlationId).toBe(answer.headers.get('x-correlation-id'));
};

/**
 * What holds for every answer the API gives, success or not: never a 5xx, always a correlation id, no stack trace;
 * and an error is always a well-formed problem document.
 */
export const expectWellFormed = (answer: Answer): void => {
  expect(answer.status, answer.text).toBeLessThan(500);
  expect(answer.headers.get('x-correlation-id')).toMatch(correlationIdShape);
  expect(answer.text).not.toMatch(leak);
  if (answer.status >= 400) expectProblemShape(answer);
};

/**
 * The harness's `call`, with {@link expectWellFormed} applied to every answer, and every answer held to the published
 * OpenAPI document: a status, content type, body and headers it documents for that route.
 */
export const checked =
  (call: Call): Call =>
  async (...args) => {
    const answer = await call(...args);
    expectWellFormed(answer);
    const [method, path] = args;
    expect(departuresFromContract(method, path, answer), answer.text).toEqual([]);
    return answer;
  };

/**
 * The test API for the calling file: started before its tests and closed after them. `call` checks every answer
 * with {@link expectWellFormed}; `api()` is the running API itself (its issuer, its URL).
 */
export const useTestApi = (): { call: Call; api: () => TestApi } => {
  let testApi: TestApi | undefined;
  beforeAll(async () => {
    testApi = await startTestApi();
  });
  afterAll(() => testApi?.api.close());
  const api = (): TestApi => {
    if (!testApi) throw new Error('the test API starts in beforeAll');
    return testApi;
  };
  return { call: checked((...args) => api().call(...args)), api };
};

/** A problem answer with this status and, when given, this problem type. */
export const expectProblem = (answer: Answer, status: number, slug?: string): void => {
  expect(answer.status, answer.text).toBe(status);
  expectProblemShape(answer);
  if (slug) expect(answer.json.type).toBe(`urn:orderflow:problem:${slug}`);
};

/** The JSON pointers a validation problem names. */
export const pointersOf = (answer: Answer): string[] =>
  (answer.json.errors ?? []).map((error) => (error as { pointer?: string; header?: string }).pointer ?? '');

export const uniqueSku = (): string => `SKU-${randomUUID().slice(0, 8).toUpperCase()}`;
export const uniqueCustomer = (): string => `customer-${randomUUID()}`;
export const admin = { admin: 'ops-e2e' } as const;

export type Money = { amount: number; currency: string };

/** Registers a product as an admin and returns its SKU. */
export const givenProduct = async (
  call: Call,
  { price = { amount: 1000, currency: 'EUR' }, stock = 100 }: { price?: Money; stock?: number } = {},
): Promise<string> => {
  const sku = uniqueSku();
  const answer = await call('POST', '/products', { as: admin, body: { sku, name: `Product ${sku}`, price, stock } });
  expect(answer.status, answer.text).toBe(201);
  return sku;
};

/** Places an order of one unit of `sku` for `customer` and returns its id. */
export const givenOrder = async (call: Call, customer: string, sku: string): Promise<string> => {
  const answer = await call('POST', '/orders', {
    as: customer,
    body: { items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } },
  });
  expect(answer.status, answer.text).toBe(202);
  const { orderId } = answer.json;
  if (typeof orderId !== 'string') throw new Error(`no order id in ${answer.text}`);
  return orderId;
};

/** The events of a stream as the events table holds them (not upcast), read past the API. */
let stack: ReturnType<typeof localStack> | undefined;

export const storedEvents = async (streamId: string): Promise<Record<string, unknown>[]> => {
  const { client, tables } = (stack ??= localStack());
  const { Items = [] } = await client.send(
    new QueryCommand({
      TableName: tables.events,
      KeyConditionExpression: 'streamId = :s',
      ExpressionAttributeValues: { ':s': streamId },
      ConsistentRead: true,
    }),
  );
  return Items.flatMap((item) => storedItemEvents(item as EventItem));
};

/**
 * Reads until what it reads passes `expectation`, for the read models, which follow the events asynchronously.
 * Only the expectation is retried: an error from `read` itself (a broken invariant of {@link checked}, say) fails at
 * once, so waiting never hides a bad answer behind a later good one. On timeout, the last expectation's failure.
 *
 * @example
 * const answer = await eventually(
 *   () => call('GET', `/orders/${orderId}`, { as: customer }),
 *   (answer) => expect(answer.status).toBe(200),
 * );
 */
export const eventually = async <T>(
  read: () => Promise<T>,
  expectation: (value: T) => void,
  { timeoutMs = 10_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    try {
      expectation(value);
      return value;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
};
