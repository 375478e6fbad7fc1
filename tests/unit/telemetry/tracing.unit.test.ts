import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import AWSXRay from 'aws-xray-sdk-core';
import { Tracer as PowertoolsTracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  disabledTracer,
  powertoolsTracer,
  TRACE_SERVICE,
  tracingEnabled,
} from '../../../functions/observability/tracing.js';

const lambda = { LAMBDA_TASK_ROOT: '/var/task', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
const hasXRayMiddleware = (client: DynamoDBClient): boolean =>
  client.middlewareStack.identify().some((entry) => entry.startsWith('XRaySDKInstrumentation'));

/** What the SDK will send for a subsegment's annotations (its typings leave the field out). */
const annotationsOf = (subsegment: AWSXRay.Subsegment | undefined): unknown =>
  (subsegment as { annotations?: unknown } | undefined)?.annotations;

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('tracing', () => {
  it.each([
    ['in Lambda', lambda, true],
    ['outside Lambda (the local stack, tests)', {}, false],
    ['with a task root but no Lambda runtime', { LAMBDA_TASK_ROOT: '/var/task' }, false],
    ['under sam local', { ...lambda, AWS_SAM_LOCAL: 'true' }, false],
    ['in Lambda with TRACING=false', { ...lambda, TRACING: 'false' }, false],
    // What serverless.yml's strToBool reads as false for Lambda's own tracing, the handlers read as off too.
    ['in Lambda with TRACING=FALSE', { ...lambda, TRACING: 'FALSE' }, false],
    ['in Lambda with TRACING=0', { ...lambda, TRACING: '0' }, false],
    ['in Lambda with TRACING=true', { ...lambda, TRACING: 'true' }, true],
  ])('is %s: %s', (_, env, enabled) => {
    expect(tracingEnabled(env)).toBe(enabled);
  });

  it.each([
    ['outside Lambda, never loads the X-Ray SDK (its async hook would slow every await of the process)', {}, 0],
    ['in Lambda, loads it once', lambda, 1],
  ])('%s', async (_, env, namespaces) => {
    // A fresh process, since this file imports the SDK itself: how many context namespaces exist after init.
    const script = `const { initTracing } = await import('./functions/observability/tracing.ts');
      const first = await initTracing(); const second = await initTracing();
      console.log(JSON.stringify({ namespaces: Object.keys(process.namespaces ?? {}).length, enabled: first.enabled, same: first === second }));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        env: { PATH: process.env.PATH, ...env },
      },
    );
    expect(JSON.parse(stdout)).toEqual({ namespaces, enabled: namespaces === 1, same: true });
  });

  it('off, touches neither the clients nor the X-Ray SDK, and says nothing', async () => {
    const getSegment = vi.spyOn(AWSXRay, 'getSegment');
    const output = [
      vi.spyOn(process.stdout, 'write'),
      vi.spyOn(process.stderr, 'write'),
      vi.spyOn(console, 'error'),
      vi.spyOn(console, 'warn'),
      vi.spyOn(console, 'info'),
    ];
    const tracer = disabledTracer;
    const client = new DynamoDBClient({ region: 'eu-west-1' });

    expect(tracer.captureClient(client)).toBe(client);
    expect(hasXRayMiddleware(client)).toBe(false);
    expect(tracer.handler).toEqual({});
    tracer.annotate({ orderId: 'o-1', correlationId: 'c-1' });
    tracer.mark('### order-o-1', { orderId: 'o-1' });
    expect(await tracer.inSubsegment('### o-1', { orderId: 'o-1' }, async () => 42)).toBe(42);

    expect(getSegment).not.toHaveBeenCalled();
    for (const spy of output) expect(spy).not.toHaveBeenCalled();
  });

  describe('on (Powertools Tracer)', () => {
    /** A Powertools Tracer as Lambda's runtime would make it: tracing on, only SDK clients captured. */
    const onLambda = (): PowertoolsTracer => {
      vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
      // Powertools counts a cold start only in an on-demand environment (not under provisioned concurrency).
      vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
      vi.stubEnv('_HANDLER', 'functions/saga/confirmOrder.handler');
      return new PowertoolsTracer({ serviceName: TRACE_SERVICE, captureHTTPsRequests: false });
    };
    /** Runs `work` in an X-Ray context whose current segment is an open root (as Lambda's facade would be). */
    const inTrace = <T>(work: (root: AWSXRay.Segment) => Promise<T>): Promise<T> => {
      const namespace = AWSXRay.getNamespace();
      return namespace.runAndReturn(() => {
        const root = new AWSXRay.Segment('orderflow-test');
        AWSXRay.setSegment(root);
        return work(root);
      });
    };
    /** What middy hands a middleware: enough of it for captureLambdaHandler. */
    const request = () => ({
      event: {},
      context: { functionName: 'orderflow-test-confirmOrder' } as Context,
      response: { outcome: 'PROCEED' },
      error: null,
      internal: {},
    });

    it('captures an SDK v3 client', () => {
      const client = new DynamoDBClient({ region: 'eu-west-1' });
      powertoolsTracer(onLambda()).captureClient(client);
      expect(hasXRayMiddleware(client)).toBe(true);
    });

    it('records the handler in a ## subsegment annotated with the order and correlation id, then restores the parent', async () => {
      const tracer = powertoolsTracer(onLambda());
      expect(tracer.enabled).toBe(true);
      await inTrace(async (root) => {
        const invocation = request();
        await tracer.handler.before?.(invocation);
        const [handler] = root.subsegments ?? [];
        expect(handler?.name).toBe('## functions/saga/confirmOrder.handler');
        expect(AWSXRay.getSegment()).toBe(handler);

        tracer.annotate({ orderId: 'o-1', sku: undefined, correlationId: 'c-1' });
        await tracer.handler.after?.(invocation);

        expect(annotationsOf(handler)).toEqual({
          ColdStart: true,
          Service: TRACE_SERVICE,
          orderId: 'o-1',
          correlationId: 'c-1',
        });
        // The response stays out of the trace.
        expect(JSON.stringify(handler)).not.toContain('PROCEED');
        expect(handler?.isClosed()).toBe(true);
        expect(AWSXRay.getSegment()).toBe(root);

        const again = request();
        await tracer.handler.before?.(again);
        await tracer.handler.onError?.({ ...again, error: new Error('failed') });
        expect(annotationsOf(root.subsegments?.[1])).toMatchObject({ ColdStart: false });
        expect(root.subsegments?.[1]).toMatchObject({ fault: true });
      });
    });

    it('gives each record of a batch its own annotated subsegment, and records its error', async () => {
      const tracer = powertoolsTracer(onLambda());
      await inTrace(async (root) => {
        const invocation = request();
        await tracer.handler.before?.(invocation);
        const handler = root.subsegments?.[0];
        await tracer.inSubsegment('### o-1', { orderId: 'o-1', correlationId: 'c-1' }, async () => {
          expect(AWSXRay.getSegment()).toBe(handler?.subsegments?.[0]);
        });
        await expect(
          tracer.inSubsegment('### o-2', { orderId: 'o-2', correlationId: 'c-2' }, async () => {
            throw new Error('no saga');
          }),
        ).rejects.toThrow('no saga');
        tracer.mark('### order-o-3', { orderId: 'o-3', correlationId: 'c-3' });
        expect(AWSXRay.getSegment()).toBe(handler);
        await tracer.handler.after?.(invocation);

        const [first, second, third] = handler?.subsegments ?? [];
        expect(first).toMatchObject({ name: '### o-1', annotations: { orderId: 'o-1', correlationId: 'c-1' } });
        expect(second).toMatchObject({ name: '### o-2', annotations: { orderId: 'o-2' }, fault: true });
        expect(third).toMatchObject({ name: '### order-o-3', annotations: { orderId: 'o-3', correlationId: 'c-3' } });
        expect([first, second, third].every((s) => s?.isClosed())).toBe(true);
      });
    });
  });
});
