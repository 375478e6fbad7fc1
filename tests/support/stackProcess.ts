import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../../local/paths.js';

/** What a stack in its own process tells about itself. */
export type StackReport = {
  /** Change records the relay put on the Kinesis stream since this stack started. */
  relayed: number;
  /** Per consumer: records behind its checkpoint (delivered, given up on or filtered out) since it started. */
  processed: Record<string, number>;
  /** Every saga execution started since this stack started. */
  executions: { name: string; status: string }[];
  /** Batches the consumers gave up on. */
  failures: number;
  /** What the stack logged (the relay's and the consumers' resume lines among them). */
  lines: string[];
  /** Per consumer, `<streamId>#<version>` of every change record it was invoked with (when asked for). */
  deliveries?: Record<string, string[]>;
};

/** What the test sends the stack's process. */
export type ToStackProcess = { type: 'report'; deliveries?: boolean } | { type: 'stop' };

/** What the stack's process answers. */
export type FromStackProcess =
  | { type: 'report'; report: StackReport }
  | { type: 'stopped'; report: StackReport }
  | {
      type: 'started';
      dynamoEndpoint: string;
      kinesisEndpoint: string;
      stepFunctionsEndpoint: string;
      report: StackReport;
    };

export type StackProcess = {
  dynamoEndpoint: string;
  kinesisEndpoint: string;
  stepFunctionsEndpoint: string;
  pid: number;
  report(options?: { deliveries?: boolean }): Promise<StackReport>;
  /** Stops the stack as Ctrl-C does (its checkpoints are written) and waits for the process to end. */
  stop(): Promise<StackReport>;
  /** Ends the process without waiting: SIGTERM (it stops its stack), then SIGKILL if it is still there. */
  kill(): void;
};

const childFile = fileURLToPath(new URL('./stackProcessChild.ts', import.meta.url));

/**
 * Starts a local stack (`startLocalStack`) in a child process over `stateDir`, so that a test can stop it and
 * start another over the same folder: handlers keep their SDK clients per process.
 */
export const startStackProcess = async ({
  stateDir,
  stage = 'test',
  timeoutMs = 120_000,
}: {
  stateDir: string;
  stage?: string;
  timeoutMs?: number;
}): Promise<StackProcess> => {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', childFile], {
    cwd: projectRoot,
    env: { ...process.env, ORDERFLOW_STACK_STATE_DIR: stateDir, ORDERFLOW_STACK_STAGE: stage },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const next = <T extends FromStackProcess['type']>(type: T, ms = timeoutMs) =>
    new Promise<Extract<FromStackProcess, { type: T }>>((resolve, reject) => {
      const onMessage = (message: FromStackProcess) => {
        if (message.type !== type) return;
        cleanUp();
        resolve(message as Extract<FromStackProcess, { type: T }>);
      };
      const timer = setTimeout(() => {
        cleanUp();
        reject(new Error(`the stack process sent no ${type} within ${ms} ms:\n${stderr}`));
      }, ms);
      void exited.then((code) => {
        cleanUp();
        reject(new Error(`the stack process exited (${code}) before ${type}:\n${stderr}`));
      });
      let done = false;
      const cleanUp = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        child.off('message', onMessage);
      };
      child.on('message', onMessage);
    });

  let started: Extract<FromStackProcess, { type: 'started' }>;
  try {
    started = await next('started');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    dynamoEndpoint: started.dynamoEndpoint,
    kinesisEndpoint: started.kinesisEndpoint,
    stepFunctionsEndpoint: started.stepFunctionsEndpoint,
    pid: child.pid ?? -1,
    async report({ deliveries = false } = {}) {
      const answer = next('report');
      child.send({ type: 'report', deliveries } satisfies ToStackProcess);
      return (await answer).report;
    },
    async stop() {
      const answer = next('stopped');
      child.send({ type: 'stop' } satisfies ToStackProcess);
      const { report } = await answer;
      await exited;
      return report;
    },
    kill() {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    },
  };
};
