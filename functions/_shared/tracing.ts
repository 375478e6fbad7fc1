// Only types here: importing the X-Ray SDK creates its context namespace with a process-wide async hook that slows
// every await of the process (about 16x on a promise-bound loop), so it is loaded only where tracing is on.
import type * as XRaySdk from 'aws-xray-sdk-core';
import type { Segment, Subsegment } from 'aws-xray-sdk-core';

type XRay = typeof XRaySdk;

/** What a trace is searched by in X-Ray (`annotation.orderId = "…"`); undefined values are left out. */
export type TraceAnnotations = { orderId?: string; sku?: string; correlationId?: string };

export type Tracer = {
  enabled: boolean;
  /** Instruments an AWS SDK v3 client, so each call is a subsegment of the current one. */
  captureClient<Client>(client: Client): Client;
  /** Opens the invocation's `## <function>` subsegment (the facade segment Lambda owns takes no annotations). */
  openHandler(name: string): (error?: unknown) => void;
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
  openHandler: () => () => undefined,
  annotate: () => undefined,
  mark: () => undefined,
  inSubsegment: (_name, _annotations, work) => work(),
};

/**
 * A tracer on the X-Ray SDK, as Powertools Tracer uses it: clients captured once, and per invocation a
 * `## <function>` subsegment set as current, so the SDK calls and record subsegments nest under it.
 */
export const xrayTracer = (AWSXRay: XRay): Tracer => {
  let coldStart = true;
  /** The current subsegment, if there is one to record into: never the facade segment. */
  const currentSubsegment = (): Subsegment | undefined => {
    const segment = AWSXRay.getSegment();
    return segment instanceof AWSXRay.Subsegment ? segment : undefined;
  };
  return {
    enabled: true,
    captureClient: <Client>(client: Client): Client =>
      AWSXRay.captureAWSv3Client(client as Parameters<typeof AWSXRay.captureAWSv3Client>[0]) as Client,
    openHandler(name) {
      const parent = AWSXRay.getSegment();
      if (!parent) return () => undefined;
      const subsegment = parent.addNewSubsegment(`## ${name}`);
      subsegment.addAnnotation('ColdStart', coldStart);
      coldStart = false;
      AWSXRay.setSegment(subsegment);
      return (error) => {
        if (error !== undefined) subsegment.addError(error instanceof Error ? error : String(error));
        subsegment.close();
        AWSXRay.setSegment(parent);
      };
    },
    annotate(annotations) {
      const subsegment = currentSubsegment();
      if (subsegment) annotateOn(subsegment, annotations);
    },
    mark(name, annotations) {
      const subsegment = AWSXRay.getSegment()?.addNewSubsegment(name);
      if (!subsegment) return;
      annotateOn(subsegment, annotations);
      subsegment.close();
    },
    async inSubsegment(name, annotations, work) {
      const parent: Segment | Subsegment | undefined = AWSXRay.getSegment();
      if (!parent) return work();
      const subsegment = parent.addNewSubsegment(name);
      annotateOn(subsegment, annotations);
      AWSXRay.setSegment(subsegment);
      try {
        return await work();
      } catch (error) {
        subsegment.addError(error instanceof Error ? error : String(error));
        throw error;
      } finally {
        subsegment.close();
        AWSXRay.setSegment(parent);
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
  Boolean(env.LAMBDA_TASK_ROOT && env.AWS_EXECUTION_ENV) && !env.AWS_SAM_LOCAL && env.TRACING !== 'false';

let instance: Tracer = disabledTracer;
let loading: Promise<Tracer> | undefined;

/**
 * Decides once per cold start whether this process traces, loading the X-Ray SDK only if it does. The telemetry
 * middleware, first on every stack, awaits it before anything else runs, so clients are captured from the start.
 */
export const initTracing = (env: NodeJS.ProcessEnv = process.env): Promise<Tracer> =>
  (loading ??= tracingEnabled(env)
    ? import('aws-xray-sdk-core').then((sdk) => (instance = xrayTracer(sdk.default)))
    : Promise.resolve(instance));

/** The process's tracer: the X-Ray one once {@link initTracing} has loaded it, else one that records nothing. */
export const tracer = (): Tracer => instance;
