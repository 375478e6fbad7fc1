// Only types from the tracer here: Powertools Tracer imports the X-Ray SDK, which creates its context namespace with a
// process-wide async hook that slows every await of the process (about 16x on a promise-bound loop), so it is loaded
// only where tracing is on. Its middy middleware imports nothing of the SDK.
import type { MiddlewareLikeObj } from '@aws-lambda-powertools/commons/types';
import type { Tracer as PowertoolsTracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Subsegment } from 'aws-xray-sdk-core';

/** What a trace is searched by in X-Ray (`annotation.orderId = "…"`); undefined values are left out. */
export type TraceAnnotations = { orderId?: string; sku?: string; correlationId?: string };

export type Tracer = {
  enabled: boolean;
  /** Instruments an AWS SDK v3 client, so each call is a subsegment of the current one. */
  captureClient<Client>(client: Client): Client;
  /**
   * Powertools' `captureLambdaHandler`: per invocation a `## <handler>` subsegment, annotated `ColdStart` and
   * `Service`, set as current (the facade segment Lambda owns takes no annotations), and the error if it fails.
   */
  handler: MiddlewareLikeObj;
  /** Annotates the current subsegment: the handler's, or a record's inside {@link Tracer.inSubsegment}. */
  annotate(annotations: TraceAnnotations): void;
  /** Records that something happened now, as an empty subsegment with its annotations (one applied stream of a batch). */
  mark(name: string, annotations: TraceAnnotations): void;
  /** Runs `work` in its own subsegment, for one record of a batch, so each order of the batch can find the trace. */
  inSubsegment<T>(name: string, annotations: TraceAnnotations, work: () => Promise<T>): Promise<T>;
};

const annotateOn = (subsegment: Subsegment, annotations: TraceAnnotations): void => {
  for (const [key, value] of Object.entries(annotations)) if (value !== undefined) subsegment.addAnnotation(key, value);
};

/** A tracer that records nothing: outside Lambda, or with `TRACING=false`. */
export const disabledTracer: Tracer = {
  enabled: false,
  captureClient: (client) => client,
  handler: {},
  annotate: () => undefined,
  mark: () => undefined,
  inSubsegment: (_name, _annotations, work) => work(),
};

/** The service name X-Ray shows, and the `Service` annotation Powertools adds to each handler subsegment. */
export const TRACE_SERVICE = 'orderflow';

/**
 * The facade on Powertools Tracer: clients captured with `captureAWSv3Client`, the invocation's subsegment by its
 * middy middleware, and per record a subsegment of the handler's so the SDK calls of that record nest under it.
 */
export const powertoolsTracer = (tracer: PowertoolsTracer): Tracer => {
  return {
    enabled: tracer.isTracingEnabled(),
    captureClient: (client) => tracer.captureAWSv3Client(client),
    // The response stays out of the trace: it may carry what the logs redact.
    handler: captureLambdaHandler(tracer, { captureResponse: false }),
    annotate(annotations) {
      for (const [key, value] of Object.entries(annotations)) if (value !== undefined) tracer.putAnnotation(key, value);
    },
    mark(name, annotations) {
      const subsegment = tracer.getSegment()?.addNewSubsegment(name);
      if (!subsegment) return;
      annotateOn(subsegment, annotations);
      subsegment.close();
    },
    async inSubsegment(name, annotations, work) {
      const parent = tracer.getSegment();
      if (!parent) return work();
      const subsegment = parent.addNewSubsegment(name);
      annotateOn(subsegment, annotations);
      tracer.setSegment(subsegment);
      try {
        return await work();
      } catch (error) {
        tracer.addErrorAsMetadata(error instanceof Error ? error : new Error(String(error)));
        throw error;
      } finally {
        subsegment.close();
        tracer.setSegment(parent);
      }
    },
  };
};

/**
 * Whether this process traces, decided once per cold start. On only in the Lambda runtime: there the X-Ray SDK
 * (keyed on LAMBDA_TASK_ROOT, as Powertools Tracer keys on AWS_EXECUTION_ENV) builds a facade segment from each
 * invocation's `_X_AMZN_TRACE_ID` and sends to the daemon Lambda runs. Anywhere else (the local stack, tests)
 * there is neither a trace header nor a daemon: touching the SDK would only log "context missing" for every call,
 * so the SDK is not touched at all. `TRACING=false` turns it off on Lambda too.
 */
export const tracingEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  Boolean(env.LAMBDA_TASK_ROOT && env.AWS_EXECUTION_ENV) && !env.AWS_SAM_LOCAL && !tracingOff(env.TRACING);

/** `TRACING` off as serverless.yml's `strToBool` reads the same param for Lambda's tracing: `false` or `0`, any case. */
const tracingOff = (value: string | undefined): boolean => /^\s*(false|0)\s*$/i.test(value ?? '');

let instance: Tracer = disabledTracer;
let loading: Promise<Tracer> | undefined;

/**
 * Decides once per cold start whether this process traces, loading Powertools Tracer (and with it the X-Ray SDK)
 * only if it does. The telemetry middleware, first on every stack, awaits it before anything else runs, so clients
 * are captured from the start. Only SDK clients are traced, as before: not every HTTP request of the process.
 */
export const initTracing = (env: NodeJS.ProcessEnv = process.env): Promise<Tracer> =>
  (loading ??= tracingEnabled(env)
    ? import('@aws-lambda-powertools/tracer').then(
        ({ Tracer }) =>
          (instance = powertoolsTracer(new Tracer({ serviceName: TRACE_SERVICE, captureHTTPsRequests: false }))),
      )
    : Promise.resolve(instance));

/** The process's tracer: the Powertools one once {@link initTracing} has loaded it, else one that records nothing. */
export const tracer = (): Tracer => instance;
