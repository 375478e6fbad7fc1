import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { route } from '../../../api/routes.js';
import { OrderAlreadyPlacedError, StockNotReservedError } from '../../../domain/shared/errors.js';
import { tapLogs } from '../../../functions/observability/logger.js';
import { loadServerlessConfig } from '../../../local/serverlessConfig.js';

// The error lines these answers log are what they are meant to be; read before the logger is made, at import.
process.env.LOG_LEVEL = 'silent';
const { httpHandler, TIMEOUT_EARLY_MS } = await import('../../../functions/http/httpHandler.js');

const getProduct = (sku: string): APIGatewayProxyEventV2 =>
  ({
    rawPath: `/products/${sku}`,
    headers: {},
    pathParameters: { sku },
    requestContext: {
      requestId: 'r-1',
      http: { method: 'GET' },
      authorizer: { jwt: { claims: { sub: 'alice' } } },
    },
  }) as unknown as APIGatewayProxyEventV2;

/** A Lambda context with `remainingMs` left before the function's timeout. */
const contextWith = (remainingMs: number) => {
  const deadline = Date.now() + remainingMs;
  return {
    functionName: 'getProduct',
    awsRequestId: 'a-1',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Parameters<ReturnType<typeof httpHandler>>[1];
};

const invoke = async (handle: () => Promise<never>, remainingMs = 10_000) => {
  const handler = httpHandler(route('getProduct'), handle);
  const result = (await handler(getProduct('MUG-1'), contextWith(remainingMs))) as APIGatewayProxyStructuredResultV2;
  return { ...result, problem: JSON.parse(result.body ?? '{}') as { type?: string; status?: number } };
};

/** What the AWS SDK throws once its own retries are spent on a throttled table. */
const throttled = () =>
  Object.assign(new Error('Throughput exceeds the current capacity of your table.'), {
    name: 'ThrottlingException',
    $retryable: { throttling: true },
    $metadata: { httpStatusCode: 400 },
  });

describe('a dependency that fails or does not answer in time', () => {
  it('is a 503 with Retry-After, not a 500: the client may retry, with its Idempotency-Key', async () => {
    const lines: { level: string; message: string }[] = [];
    const untap = tapLogs((line) => lines.push(JSON.parse(line) as { level: string; message: string }), 'warn');
    const result = await invoke(() => Promise.reject(throttled())).finally(untap);
    // Ours to look into all the same: the 5xx rate alarm counts it. One error line, with the error; the access log's
    // line says what was answered, at warn.
    expect(lines.filter((line) => line.level === 'error').map((line) => line.message)).toEqual(['dependency failed']);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'request failed' }));
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('1');
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(result.problem).toMatchObject({ type: 'urn:orderflow:problem:service-unavailable', status: 503 });
  });

  it('is answered before the function times out, when a request is still running', async () => {
    const started = Date.now();
    const result = await invoke(() => new Promise<never>(() => undefined), TIMEOUT_EARLY_MS + 200);
    expect(result.statusCode).toBe(503);
    expect(result.problem.type).toBe('urn:orderflow:problem:service-unavailable');
    // Answered at about 200 ms, when the early timeout fired, with a whole TIMEOUT_EARLY_MS left to log and answer.
    expect(Date.now() - started).toBeLessThan(TIMEOUT_EARLY_MS);
  });

  it('leaves every HTTP function most of its time: the early answer takes at most a fifth of the shortest', async () => {
    const config = await loadServerlessConfig('prod');
    const functions = Object.values(config.functions ?? {});
    const providerTimeout = (config.provider as { timeout?: number }).timeout ?? 6;
    const http = functions.filter((fn) => JSON.stringify(fn.events ?? []).includes('httpApi'));
    expect(http.length).toBeGreaterThan(5);
    for (const fn of http)
      expect(TIMEOUT_EARLY_MS, fn.handler).toBeLessThanOrEqual((fn.timeout ?? providerTimeout) * 1000 * 0.2);
    // And long enough to log and answer.
    expect(TIMEOUT_EARLY_MS).toBeGreaterThanOrEqual(500);
  }, 60_000);

  it('leaves our own failures a 500 that says nothing', async () => {
    const result = await invoke(() => Promise.reject(new TypeError('x is undefined')));
    expect(result.statusCode).toBe(500);
    expect(result.problem.type).toBe('urn:orderflow:problem:internal-error');
    expect(result.headers?.['retry-after']).toBeUndefined();
  });
});

describe('an answer', () => {
  it('writes U+FFFD as its escape, so a client that sends back what it got is not refused as not UTF-8', async () => {
    const handler = httpHandler(route('getProduct'), async () => ({ status: 200, body: { name: 'Caf\uFFFD' } }));
    const result = (await handler(getProduct('MUG-1'), contextWith(10_000))) as APIGatewayProxyStructuredResultV2;
    expect(result.body).toBe('{"name":"Caf\\ufffd"}');
    expect(JSON.parse(result.body ?? '')).toEqual({ name: 'Caf\uFFFD' });
  });
});

describe('a request refused with a 4xx', () => {
  it('is logged at info with its problem, and with the order a command named (a key reused for another order)', async () => {
    const lines: Record<string, unknown>[] = [];
    const untap = tapLogs((line) => lines.push(JSON.parse(line) as Record<string, unknown>), 'info');
    const result = await invoke(() => Promise.reject(new OrderAlreadyPlacedError('order-of-the-key'))).finally(untap);
    expect(result.statusCode).toBe(422);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: 'request refused',
        status: 422,
        problem: 'order-already-placed',
        orderId: 'order-of-the-key',
      }),
    );
  });

  it('is a 500 when it is a refusal the contract does not list for that status: a saga’s reaching a route is ours', async () => {
    const lines: Record<string, unknown>[] = [];
    const untap = tapLogs((line) => lines.push(JSON.parse(line) as Record<string, unknown>), 'warn');
    const result = await invoke(() => Promise.reject(new StockNotReservedError('order-1'))).finally(untap);
    expect(result.statusCode).toBe(500);
    expect(result.problem.type).toBe('urn:orderflow:problem:internal-error');
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', message: 'unhandled error' }));
  });
});
