import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionConfig, ServerlessConfig } from './serverlessConfig.js';
import { projectRoot } from './paths.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Lambda handler's event and result are any JSON
export type LambdaHandler = (event: any, context: Context) => Promise<unknown>;

/** Loads the handler a serverless.yml function names, e.g. `functions/http/placeOrder.handler`, from its source. */
export const loadHandler = async (fn: FunctionConfig): Promise<LambdaHandler> => {
  const dot = fn.handler.lastIndexOf('.');
  const modulePath = fn.handler.slice(0, dot);
  const exportName = fn.handler.slice(dot + 1);
  const module = (await import(pathToFileURL(join(projectRoot, `${modulePath}.ts`)).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== 'function') throw new Error(`${fn.handler} does not export a function`);
  return handler as LambdaHandler;
};

/** Each serverless.yml function's handler by name, loaded on first use and kept, as a warm Lambda keeps it. */
export const functionHandlers = (config: ServerlessConfig): ((name: string) => Promise<LambdaHandler>) => {
  const handlers = new Map<string, Promise<LambdaHandler>>();
  return (name) => {
    let handler = handlers.get(name);
    if (!handler) {
      const fn = config.functions?.[name];
      if (!fn) throw new Error(`serverless.yml has no function ${name}`);
      handler = loadHandler(fn);
      handlers.set(name, handler);
    }
    return handler;
  };
};

export class LambdaTimeoutError extends Error {
  constructor(
    readonly functionName: string,
    readonly timeoutSeconds: number,
  ) {
    super(`${functionName} timed out after ${timeoutSeconds} s`);
    // Step Functions reports a function timeout as Lambda.Unknown, and its Retry rules match that name.
    this.name = 'Lambda.Unknown';
  }
}

/** What the local stack may do around every invocation: meter it, or (for `npm run chaos`) break it. */
export type InvocationHook = {
  /** Runs before the handler; throwing fails the invocation before the handler runs. */
  before?(functionName: string, event: unknown): Promise<void> | void;
  /**
   * Runs after the handler, with its duration and, if any hook `measuresCpu`, the CPU time this process spent
   * meanwhile (else 0); throwing loses a result the handler produced.
   */
  after?(
    functionName: string,
    durationMs: number,
    failed: boolean,
    event: unknown,
    cpuMs: number,
  ): Promise<void> | void;
  /**
   * Asks for `cpuMs`. Only then is the process's CPU time read: each read is a system call, and a flash sale's
   * profile put 4% of the stack's CPU in reading it for hooks that never used it.
   */
  measuresCpu?: boolean;
};
const hooks = new Set<InvocationHook>();

/** Adds a hook to every local invocation; answers the function that removes it. */
export const addInvocationHook = (hook: InvocationHook): (() => void) => {
  hooks.add(hook);
  return () => hooks.delete(hook);
};

let invocations: AsyncLocalStorage<string> | undefined;

/**
 * From now on, every local invocation runs with its function's name in an async context, which `invokedFunction`
 * answers from anywhere beneath it (an SDK middleware, say). Off unless asked: tracking async context costs every
 * promise of a busy stack.
 */
export const trackInvocations = (): void => {
  invocations ??= new AsyncLocalStorage();
};

/** The function whose invocation the caller runs in, once `trackInvocations` was called. */
export const invokedFunction = (): string | undefined => invocations?.getStore();

/** While set, the tail of the queue of invocations made to run one at a time (`invokeOneAtATime`). */
let queue: Promise<void> | undefined;

/**
 * Makes every local invocation wait for the one before it to end, until the function it answers is called. While one
 * runs alone, the CPU time this process spends is (nearly) its own: `npm run cost` times functions so.
 */
export const invokeOneAtATime = (): (() => void) => {
  queue = Promise.resolve();
  return () => {
    queue = undefined;
  };
};

const noTurn = (): void => undefined;

/** Waits for the invocations queued before this one; answers the function that lets the next one go. */
const takeTurn = async (before: Promise<void>): Promise<() => void> => {
  let release: () => void = noTurn;
  queue = new Promise<void>((resolve) => (release = resolve));
  await before;
  return release;
};

/** A function's timeout, as serverless.yml sets it (its own, the provider's, or the framework's 6 s). */
export const timeoutSecondsOf = (config: ServerlessConfig, name: string): number =>
  config.functions?.[name]?.timeout ?? (config.provider as { timeout?: number }).timeout ?? 6;

/** Invokes a handler as Lambda would: with a context, and cut off at the function's timeout. */
export const invoke = async (
  config: ServerlessConfig,
  name: string,
  handler: LambdaHandler,
  event: unknown,
): Promise<unknown> => {
  // Outside the cost run's timed pass no invocation queues, and none waits a turn of the event loop for it.
  const release = queue ? await takeTurn(queue) : noTurn;
  const fn = config.functions?.[name];
  const timeoutSeconds = timeoutSecondsOf(config, name);
  const functionName = `${config.service}-${config.provider.stage}-${name}`;
  const deadline = Date.now() + timeoutSeconds * 1000;
  const awsRequestId = randomUUID();
  const context: Context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${config.provider.region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(fn?.memorySize ?? (config.provider as { memorySize?: number }).memorySize ?? 1024),
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${awsRequestId}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new LambdaTimeoutError(functionName, timeoutSeconds));
    }, timeoutSeconds * 1000);
  });
  const started = performance.now();
  const cpuBefore = [...hooks].some((hook) => hook.measuresCpu) ? process.cpuUsage() : undefined;
  let failed = false;
  try {
    // A hook that holds the invocation (a test's, or the chaos run's) spends its time, as a handler would: past the
    // timeout it times out, rather than leaving the timeout's rejection unheard.
    await Promise.race([
      (async () => {
        for (const hook of hooks) {
          // Timed out while an earlier hook held it: the invocation has ended, and its `after` hooks have run.
          if (timedOut) return;
          await hook.before?.(name, event);
        }
      })(),
      timeout,
    ]);
    const run = () => Promise.race([handler(event, context), timeout]);
    return await (invocations ? invocations.run(name, run) : run());
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    clearTimeout(timer);
    const durationMs = performance.now() - started;
    const cpu = cpuBefore ? process.cpuUsage(cpuBefore) : undefined;
    const cpuMs = cpu ? (cpu.user + cpu.system) / 1000 : 0;
    try {
      for (const hook of hooks) await hook.after?.(name, durationMs, failed, event, cpuMs);
    } finally {
      release();
    }
  }
};
