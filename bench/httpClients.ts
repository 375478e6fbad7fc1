import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ApiAnswer, type ApiRequest, requestOnce, retryDelayMs } from './http.js';
import { concurrently } from './lib.js';

/**
 * A bench's HTTP clients in a Node process of their own, as a load generator runs beside the server it measures and
 * not inside it. In the stack's process they took at least 11.5% of its CPU (1,500 `POST /orders` on a sold-out SKU,
 * profiled alone: docs/performance.md), charged to the backend, whose one event loop is what a sale saturates.
 */

/** A request's last answer (status 0: no answer at all), every status it met on the way, and its time, retries in. */
export type ClientAnswer = ApiAnswer & { index: number; statuses: number[]; latencyMs: number };

type Run = { url: string; clients: number; attempts: number; requests: ApiRequest[] };
type FromClients = { answer: ClientAnswer } | { done: true };

/**
 * A careful client's request, sent until it is answered below 500 or `attempts` times (then its last answer stands):
 * a 5xx or no answer is sent again, the same (its Idempotency-Key too), with backoff.
 */
const send = async (url: string, request: ApiRequest, attempts: number, index: number): Promise<ClientAnswer> => {
  const started = performance.now();
  const statuses: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const { status, json } = await requestOnce(url, request);
    statuses.push(status);
    if ((status !== 0 && status < 500) || attempt >= attempts) {
      return { index, status, json, statuses, latencyMs: performance.now() - started };
    }
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
  }
};

/** The child's side: runs what it is sent, `clients` requests in flight at a time, and answers each as it lands. */
const serve = () => {
  // Its bench gone, it has no one to answer.
  process.once('disconnect', () => process.exit(0));
  process.on('message', async ({ url, clients, attempts, requests }: Run) => {
    await concurrently(requests.length, clients, async (i) =>
      process.send?.({ answer: await send(url, requests[i] as ApiRequest, attempts, i) } satisfies FromClients),
    );
    process.send?.({ done: true } satisfies FromClients);
  });
};

const marker = '--orderflow-http-clients';
if (process.argv.includes(marker)) serve();

export type HttpClients = {
  /** The clients' process, whose CPU the bench reads beside the stack's. */
  pid: number;
  /** Sends every request, `clients` at a time; `onAnswer` sees each answer as it lands. Answers them in order. */
  run(
    requests: ApiRequest[],
    options: { clients: number; attempts?: number; onAnswer?: (answer: ClientAnswer) => void },
  ): Promise<ClientAnswer[]>;
  stop(): void;
};

/** Starts the clients' process for the API at `url`. It runs one `run` at a time, and ends with `stop`. */
export const startHttpClients = (url: string): HttpClients => {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [marker], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // A process gone between runs says so at the next run; unheard, its 'error' would end the bench's process.
  child.on('error', () => undefined);
  let busy = false;
  return {
    pid: child.pid ?? 0,
    run: (requests, { clients, attempts = 10, onAnswer }) =>
      new Promise((resolve, reject) => {
        if (busy) throw new Error('the HTTP clients run one batch at a time');
        if (!child.connected) throw new Error("the HTTP clients' process is gone");
        busy = true;
        const answers: ClientAnswer[] = [];
        const done = (error?: Error) => {
          busy = false;
          child.off('message', onMessage);
          child.off('exit', onExit);
          child.off('error', done);
          if (error) reject(error);
          else resolve(answers);
        };
        const onMessage = (message: FromClients) => {
          if ('done' in message) return done();
          answers[message.answer.index] = message.answer;
          onAnswer?.(message.answer);
        };
        const onExit = (code: number | null) => done(new Error(`the HTTP clients' process exited (${code})`));
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.once('error', done);
        child.send({ url, clients, attempts, requests } satisfies Run, (error) => {
          if (error) done(error);
        });
      }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
};
