import { readFile, rename, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import * as z from 'zod';
import { writeFileAtomically } from './checkpoints.js';
import { functionHandlers, invoke } from './lambda.js';
import type { ServerlessConfig } from './serverlessConfig.js';

// aws-local-stepfunctions uses Promise.withResolvers, which Node 20 lacks.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value: <T>() => {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** A Task's JSON input and output, as the library types them. */
type TaskInput = Parameters<
  NonNullable<NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string]>
>[0];

type Definition = {
  TimeoutSeconds?: number;
  States: Record<
    string,
    {
      Type: string;
      Resource?: string;
      Parameters?: Record<string, unknown>;
      ItemProcessor?: { States: Definition['States'] };
    }
  >;
};

type LocalStateMachine = {
  name: string;
  arn: string;
  type: 'STANDARD' | 'EXPRESS';
  definition: Definition;
  /** Task state name → the serverless.yml function its Resource substitutes to. */
  tasks: Map<string, string>;
};

/** A state machine ready to run: validated and built once, as Step Functions does when it is deployed. */
type BuiltStateMachine = LocalStateMachine & {
  stateMachine: StateMachine;
  /** Each state's type (`Task`, `Choice`…), as history events name it. */
  stateTypes: Map<string, string>;
  /** Each Task state's local handler: the function serverless.yml maps it to, invoked as Lambda would. */
  overrides: Record<string, (input: TaskInput) => Promise<TaskInput>>;
  /** Per Task state, the keys of its Parameters that take `$$.Execution.StartTime`. */
  startTimeKeys: Map<string, string[]>;
};

export type Execution = {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  /** As Step Functions says it: TIMED_OUT past the machine's TimeoutSeconds, ABORTED by StopExecution. */
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  /** States entered, in order: what a saga did. */
  states: string[];
  /** Retries of a failed state: each is a state transition too, as Step Functions bills them. */
  retries: number;
  /** What GetExecutionHistory answers: the execution's start and end, and each state entered and exited. */
  history: { timestamp: Date; type: string; details: Record<string, unknown> }[];
};

const allStates = (states: Definition['States']): [string, Definition['States'][string]][] =>
  Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, Definition['States'][string]],
    ...allStates(state.ItemProcessor?.States ?? {}),
  ]);

const record = (execution: Execution, type: string, details: Record<string, unknown>) =>
  execution.history.push({ timestamp: new Date(), type, details });

/** Ends an execution as Step Functions does past its TimeoutSeconds. */
const endTimedOut = (execution: Execution, cause: string) => {
  execution.status = 'TIMED_OUT';
  execution.error = 'States.Timeout';
  execution.cause = cause;
  record(execution, 'ExecutionTimedOut', { executionTimedOutEventDetails: { error: execution.error } });
};

/** The state machines serverless.yml declares, with each Task resolved to its function through DefinitionSubstitutions. */
export const stateMachines = (config: ServerlessConfig): LocalStateMachine[] =>
  Object.values(config.resources?.Resources ?? {})
    .filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map((resource) => {
      const properties = resource.Properties ?? {};
      const name = String(properties.StateMachineName);
      const substitutions = (properties.DefinitionSubstitutions ?? {}) as Record<
        string,
        { 'Fn::GetAtt'?: [string, string] }
      >;
      const definition = structuredClone(properties.Definition) as Definition;
      const tasks = new Map<string, string>();
      for (const [stateName, state] of allStates(definition.States)) {
        const placeholder = /^\$\{(\w+)\}$/.exec(state.Resource ?? '')?.[1];
        const logicalId = placeholder ? substitutions[placeholder]?.['Fn::GetAtt']?.[0] : undefined;
        if (!logicalId) continue;
        // The framework names a function's resource <Name>LambdaFunction.
        const functionName = logicalId.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());
        tasks.set(stateName, functionName);
        state.Resource = `arn:aws:lambda:${config.provider.region}:000000000000:function:${config.service}-${config.provider.stage}-${functionName}`;
      }
      return {
        name,
        arn: `arn:aws:states:${config.provider.region}:000000000000:stateMachine:${name}`,
        type: properties.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
        definition,
        tasks,
      };
    });

export type LocalStepFunctions = {
  endpoint: string;
  executions: Map<string, Execution>;
  /**
   * Starts again the executions the last stop left running (`executionsFile`), under their names, inputs and start
   * times: on AWS nothing stops them. Called once the handlers can run. Answers how many.
   */
  resume(): Promise<number>;
  stop(): Promise<void>;
};

/** An execution left running at a stop, as `executionsFile` keeps it. */
const LeftRunning = z.object({
  stateMachineArn: z.string(),
  executionArn: z.string(),
  name: z.string(),
  input: z.string(),
  startDate: z.iso.datetime(),
  /** Set for one that had ended a moment before a crash: kept to run again (`rerunEnded`), not left running. */
  endedAt: z.iso.datetime().optional(),
});
type LeftRunning = z.infer<typeof LeftRunning>;

/**
 * The Task's input with `$$.Execution.StartTime` as the execution's start: aws-local-stepfunctions sets it to the
 * moment of each run, which for an execution resumed after a restart is not its start (AWS's is, and the saga's and
 * the compensations' bounds count from it).
 */
const withStartTime = (taskInput: TaskInput, keys: string[], startDate: Date): TaskInput =>
  keys.length === 0 || typeof taskInput !== 'object' || taskInput === null || Array.isArray(taskInput)
    ? taskInput
    : { ...taskInput, ...Object.fromEntries(keys.map((key) => [key, startDate.toISOString()])) };

/** The executions a stop left running; an unreadable file is set aside, with a warning, and nothing is resumed. */
const readLeftRunning = async (file: string, log: (line: string) => void): Promise<LeftRunning[]> => {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return [];
  try {
    return z.array(LeftRunning).parse(JSON.parse(text));
  } catch (error) {
    await rename(file, `${file}.unreadable`);
    log(
      `WARNING: ${file} cannot be read (${error instanceof Error ? error.message : String(error)}); set aside as ` +
        `${file}.unreadable, and the executions it held are not resumed: the sweeper settles their orders`,
    );
    return [];
  }
};

/** The most ended executions the executions file keeps to run again after a crash (`rerunEnded`). */
const ENDED_KEPT_MOST = 1_000;

/** At most one write of the running executions per this many milliseconds, however many start and end. */
const PERSIST_INTERVAL_MS = 50;

const writeLeftRunning = async (file: string, left: LeftRunning[]): Promise<void> => {
  if (left.length > 0) await writeFileAtomically(file, JSON.stringify(left));
  else await rm(file, { force: true });
};

/** Newest start first, then by ARN: the order ListExecutions pages in, stable while executions start. */
const byNewest = (a: Pick<Execution, 'startDate' | 'executionArn'>, b: Pick<Execution, 'startDate' | 'executionArn'>) =>
  b.startDate.getTime() - a.startDate.getTime() || a.executionArn.localeCompare(b.executionArn);

/** A ListExecutions page's nextToken: where the page ended, so an execution started meanwhile moves no later page. */
const tokenAfter = ({ startDate, executionArn }: Execution): string =>
  Buffer.from(JSON.stringify([startDate.getTime(), executionArn])).toString('base64url');

const pageAfter = (token: unknown): Pick<Execution, 'startDate' | 'executionArn'> => {
  try {
    const [time, executionArn] = z
      .tuple([z.number(), z.string()])
      .parse(JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')));
    return { startDate: new Date(time), executionArn };
  } catch {
    throw new AwsError('InvalidToken', `Invalid Token: '${String(token)}'`);
  }
};

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Local only: Step Functions' API (StartExecution, StopExecution, DescribeExecution, GetExecutionHistory,
 * ListExecutions) over its JSON protocol, running
 * each state machine of serverless.yml from its ASL with aws-local-stepfunctions; every Task invokes the handler that
 * serverless.yml maps it to. How an execution ends, and what it caught, is logged with its order and correlation id;
 * each state entered and exited too, with `trace`.
 */
export const startStepFunctions = async ({
  config,
  log = () => undefined,
  trace,
  drainMs = 0,
  executionsFile,
  keepFinished = 5_000,
  keepNames = 50_000,
  rerunEnded = () => false,
  endedKeptMs = 2_000,
}: {
  config: ServerlessConfig;
  /**
   * How many ended executions are kept whole, the latest first: about 4 KB each, where a stack under load ends
   * thousands an hour. An older STANDARD one keeps what DescribeExecution and ListExecutions answer (its name stays
   * taken, as on AWS, where it is kept 90 days) but not its history; an older EXPRESS one, which AWS does not describe,
   * is forgotten. Benchmarks that count every execution's states keep them all.
   */
  keepFinished?: number;
  /**
   * How many ended STANDARD executions keep their names taken at all: past that, the oldest is forgotten, so a stack
   * left running for a million orders does not hold a million executions (about 1 KB each, even without history). A
   * name forgotten so late is one no order's stream will ask for again, and a saga started twice finds its order settled.
   */
  keepNames?: number;
  /**
   * Where the executions running now are kept, for `resume()` at the next start: a parked compensation, or a saga
   * waiting for the payment gateway, goes on as it would on AWS. Kept up to date as executions start and end, so a
   * crash loses none that was started, and `stop()` writes what its drain left running. Without it they are lost,
   * and only the sweeper settles their orders.
   */
  executionsFile?: string;
  log?: (line: string) => void;
  /**
   * How long `stop()` lets running executions finish before it aborts them: their orders settle now, instead of
   * after the next start (`executionsFile`) or, without one, by the sweeper.
   */
  drainMs?: number;
  /** Every state entered and exited, and every execution that succeeded: eight lines an order, so only when asked. */
  trace?: (line: string) => void;
  /**
   * The state machines (by name) whose executions stay in `executionsFile` for `endedKeptMs` after they end, so that
   * a crash within it runs them again at the next start. DynamoDB Local, killed, drops writes it had acknowledged a
   * moment before (docs/operations.md, "The local stack"): a probe's saga confirmed its order 14 ms before a kill,
   * and the restart found the order PENDING with its card authorized, and no execution left to finish it. Only for
   * machines whose steps act on what is still to do: run again, an execution whose writes all held costs a read.
   */
  rerunEnded?: (machineName: string) => boolean;
  endedKeptMs?: number;
}): Promise<LocalStepFunctions> => {
  const handlerOf = functionHandlers(config);
  // Validating an ASL definition compiles JSON schemas (ajv): once per machine here, not once per execution, which
  // took a third of the local stack's CPU under load.
  const machines = new Map(
    stateMachines(config).map((machine): [string, BuiltStateMachine] => [
      machine.arn,
      {
        ...machine,
        stateMachine: new StateMachine(machine.definition as never, { validationOptions: { checkPaths: true } }),
        stateTypes: new Map(allStates(machine.definition.States).map(([name, state]) => [name, state.Type])),
        startTimeKeys: new Map(
          allStates(machine.definition.States).map(([name, state]) => [
            name,
            Object.entries(state.Parameters ?? {})
              .filter(([, path]) => path === '$$.Execution.StartTime')
              .map(([key]) => key.replace(/\.\$$/, '')),
          ]),
        ),
        overrides: Object.fromEntries(
          [...machine.tasks].map(([stateName, functionName]) => [
            stateName,
            async (taskInput: TaskInput) =>
              (await invoke(config, functionName, await handlerOf(functionName), taskInput)) as TaskInput,
          ]),
        ),
      },
    ]),
  );
  const executions = new Map<string, Execution>();
  /** The executions started and not yet counted ended: what a stop leaves running is among these, not all of them. */
  const live = new Set<Execution>();
  /**
   * Ended executions, oldest first, whole ones and those kept by name: past `keepFinished`, the oldest loses its
   * history, or is forgotten if EXPRESS; past `keepNames`, the oldest is forgotten (see both).
   */
  const ended: string[] = [];
  const named: string[] = [];
  const forgetOldEnded = (execution: Execution) => {
    live.delete(execution);
    ended.push(execution.executionArn);
    while (ended.length > keepFinished) {
      const arn = ended.shift() as string;
      const old = executions.get(arn);
      if (!old || old.status === 'RUNNING') continue;
      if (machines.get(old.stateMachineArn)?.type === 'EXPRESS') executions.delete(arn);
      else {
        old.history = [];
        old.states = [];
        named.push(arn);
      }
    }
    while (named.length > keepNames) {
      const arn = named.shift() as string;
      if (executions.get(arn)?.status !== 'RUNNING') executions.delete(arn);
    }
  };
  const running = new Set<Promise<void>>();
  /** Whether `resume()` has taken over `executionsFile`: only then does `stop()` write it. */
  let resumedFile = false;
  /** The timers that end resumed executions at their TimeoutSeconds. */
  const deadlines: NodeJS.Timeout[] = [];
  const entryOf = ({ stateMachineArn, executionArn, name, input, startDate }: Execution): LeftRunning => ({
    stateMachineArn,
    executionArn,
    name,
    input,
    startDate: startDate.toISOString(),
  });
  const runningNow = (): LeftRunning[] => [...live].filter((e) => e.status === 'RUNNING').map(entryOf);
  /** Executions that ended within `endedKeptMs`, of the machines `rerunEnded` names, oldest first. */
  const recentlyEnded: Execution[] = [];
  const endedNow = (): LeftRunning[] => {
    const since = Date.now() - endedKeptMs;
    // By their ends, oldest first; and never more than a busy stack ends in a while, whatever the clock does.
    while ((recentlyEnded[0]?.stopDate?.getTime() ?? Infinity) < since) recentlyEnded.shift();
    recentlyEnded.splice(0, Math.max(0, recentlyEnded.length - ENDED_KEPT_MOST));
    return recentlyEnded.map((e) => ({ ...entryOf(e), endedAt: (e.stopDate ?? new Date()).toISOString() }));
  };
  /** How to abort each running execution, by its ARN. */
  const aborts = new Map<string, () => void>();
  let stopping = false;

  /**
   * Writes the running executions to `executionsFile`, once `resume()` has taken it over and until `stop()` writes
   * it last. Every write goes through one queue, so two never run at once; a change waits for the next write that
   * starts after it (a change made meanwhile shares it), at most one per {@link PERSIST_INTERVAL_MS}.
   */
  let writing: Promise<void> = Promise.resolve();
  let nextWrite: Promise<void> | undefined;
  let persistClosed = false;
  let lastPersist = 0;
  /** `last`: the stop's write, after which DynamoDB Local stops cleanly, so what ended has been kept. */
  const writeNow = ({ last = false } = {}): Promise<void> => {
    const file = executionsFile;
    if (!file) return Promise.resolve();
    writing = writing
      .catch(() => undefined)
      .then(() => {
        lastPersist = Date.now();
        return writeLeftRunning(file, last ? runningNow() : [...runningNow(), ...endedNow()]);
      });
    return writing;
  };
  const persist = (): Promise<void> => {
    if (!executionsFile || !resumedFile || persistClosed) return Promise.resolve();
    nextWrite ??= (async () => {
      await writing.catch(() => undefined);
      const wait = lastPersist + PERSIST_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // From here on a change needs the write after this one: this one may have read the executions already.
      nextWrite = undefined;
      await writeNow();
    })();
    return nextWrite;
  };
  /**
   * For an execution that ended: a crash now would only start it again, idempotently, so nothing waits on it. One that
   * succeeded, and is kept a while (`rerunEnded`), is written as ended now, and left out by a write once that while
   * is over; one stopped or timed out is never run again, and one that failed left its order to the sweeper.
   */
  const persistEnded = (execution?: Execution) => {
    const written = () =>
      void persist().catch((error: unknown) =>
        log(`WARNING: ${executionsFile ?? ''} not written: ${error instanceof Error ? error.message : String(error)}`),
      );
    const machine = execution && machines.get(execution.stateMachineArn);
    if (executionsFile && execution?.status === 'SUCCEEDED' && machine && rerunEnded(machine.name)) {
      recentlyEnded.push(execution);
      setTimeout(written, endedKeptMs + PERSIST_INTERVAL_MS).unref();
    }
    written();
  };

  const run = async (machine: BuiltStateMachine, execution: Execution) => {
    const input = JSON.parse(execution.input) as { orderId?: string; correlationId?: string };
    const tag = `${machine.name} ${execution.name} (order ${input.orderId ?? '?'}, correlation ${input.correlationId ?? '?'})`;
    const stateType = (name: string) => machine.stateTypes.get(name) ?? 'Task';
    // A stopped execution invokes nothing more, as on AWS. On an abort the library cuts a retry's wait short and
    // tries the Task again at once, up to its MaxAttempts: a stopped compensation called its Lambda dozens of times
    // in a few milliseconds.
    const handlers = Object.fromEntries(
      Object.entries(machine.overrides).map(([state, handler]) => [
        state,
        (taskInput: TaskInput) =>
          stopping || execution.status !== 'RUNNING'
            ? Promise.reject(new Error(`${tag}: stopped, ${state} not invoked`))
            : handler(withStartTime(taskInput, machine.startTimeKeys.get(state) ?? [], execution.startDate)),
      ]),
    );
    const { result, eventLogs, abort } = machine.stateMachine.run(input, {
      noThrowOnAbort: true,
      overrides: { taskResourceLocalHandlers: handlers },
      context: {
        Execution: {
          Id: execution.executionArn,
          Name: execution.name,
          Input: input,
          StartTime: execution.startDate.toISOString(),
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    aborts.set(execution.executionArn, abort);
    const logging = (async () => {
      for await (const event of eventLogs) {
        const e = event as { type: string; state?: { name: string }; Error?: string; Cause?: unknown };
        if (e.type === 'StateEntered' && e.state) {
          execution.states.push(e.state.name);
          record(execution, `${stateType(e.state.name)}StateEntered`, {
            stateEnteredEventDetails: { name: e.state.name },
          });
          trace?.(`${tag}: entered ${e.state.name}`);
        } else if (e.type === 'StateExited' && e.state) {
          record(execution, `${stateType(e.state.name)}StateExited`, {
            stateExitedEventDetails: { name: e.state.name },
          });
          trace?.(`${tag}: exited ${e.state.name}`);
        } else if (e.type === 'StateRetried' && e.state) {
          execution.retries += 1;
          log(`${tag}: retrying ${e.state.name}`);
        } else if (e.type === 'StateCaught' && e.state)
          log(`${tag}: ${e.state.name} failed; caught, going to its Catch's next state`);
        else if (e.type === 'ExecutionFailed') log(`${tag}: FAILED ${e.Error ?? ''} ${String(e.Cause ?? '')}`);
      }
    })();
    try {
      const output = await result;
      // Ended meanwhile by StopExecution (ABORTED), or past its TimeoutSeconds counted from a start before a restart.
      if (execution.status !== 'RUNNING') return;
      execution.output = JSON.stringify(output);
      execution.status = 'SUCCEEDED';
      record(execution, 'ExecutionSucceeded', { executionSucceededEventDetails: {} });
      trace?.(`${tag}: succeeded`);
    } catch (error) {
      if (execution.status !== 'RUNNING') return;
      // The library throws ExecutionTimeoutError past the machine's TimeoutSeconds: Step Functions says TIMED_OUT.
      if ((error as Error).name === 'ExecutionTimeoutError') {
        endTimedOut(execution, (error as Error).message);
        log(`${tag}: timed out`);
        return;
      }
      execution.status = 'FAILED';
      execution.error = (error as Error).name;
      execution.cause = (error as Error).message;
      record(execution, 'ExecutionFailed', {
        executionFailedEventDetails: { error: execution.error, cause: execution.cause },
      });
      log(`${tag}: failed with ${execution.error}: ${execution.cause}`);
    } finally {
      aborts.delete(execution.executionArn);
      execution.stopDate = new Date();
      persistEnded(execution);
      forgetOldEnded(execution);
      await logging.catch(() => undefined);
    }
  };

  const launch = (
    machine: BuiltStateMachine,
    { executionArn, name, input, startDate }: Pick<Execution, 'executionArn' | 'name' | 'input' | 'startDate'>,
    runIt = true,
  ): Execution => {
    const execution: Execution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      input,
      startDate,
      states: [],
      retries: 0,
      history: [],
    };
    record(execution, 'ExecutionStarted', { executionStartedEventDetails: { roleArn: machine.arn } });
    executions.set(executionArn, execution);
    live.add(execution);
    if (!runIt) return execution;
    const promise = run(machine, execution);
    running.add(promise);
    void promise.finally(() => running.delete(promise));
    return execution;
  };

  const actions: Record<string, (body: Record<string, unknown>) => unknown> = {
    StartExecution: ({ stateMachineArn, name, input }) => {
      const machine = machines.get(String(stateMachineArn));
      if (!machine)
        throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(stateMachineArn)}'`);
      const executionName = String(name ?? crypto.randomUUID());
      const executionArn = `arn:aws:states:${config.provider.region}:000000000000:${machine.type === 'EXPRESS' ? 'express' : 'execution'}:${machine.name}:${executionName}${machine.type === 'EXPRESS' ? `:${crypto.randomUUID()}` : ''}`;
      // A STANDARD execution name is unique per state machine: a second start is refused, as on AWS.
      if (machine.type === 'STANDARD' && executions.has(executionArn)) {
        throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }
      // Stopping, this start could no longer be written for the next start to resume: refused, so its caller retries
      // or fails rather than trusting a start that a restart forgets.
      if (persistClosed) throw new AwsError('ServiceUnavailable', 'The local Step Functions stand-in is stopping.');
      const execution = launch(machine, {
        executionArn,
        name: executionName,
        input: String(input ?? '{}'),
        startDate: new Date(),
      });
      // Answered once the file holds it: a start the caller was told of survives a crash (its checkpoint moves on).
      return persist().then(() => ({ executionArn, startDate: execution.startDate.getTime() / 1000 }));
    },
    // Ends a running execution at once, as on AWS: the Task running at that moment is not waited for.
    StopExecution: ({ executionArn, error, cause }) => {
      const execution = executions.get(String(executionArn));
      if (!execution)
        throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(executionArn)}'`);
      const abort = aborts.get(execution.executionArn);
      if (execution.status === 'RUNNING' && abort) {
        execution.status = 'ABORTED';
        if (error !== undefined) execution.error = String(error);
        if (cause !== undefined) execution.cause = String(cause);
        execution.stopDate = new Date();
        record(execution, 'ExecutionAborted', { executionAbortedEventDetails: {} });
        log(`${machines.get(execution.stateMachineArn)?.name ?? ''} ${execution.name}: aborted`);
        abort();
        persistEnded();
      }
      return { stopDate: (execution.stopDate ?? new Date()).getTime() / 1000 };
    },
    DescribeExecution: ({ executionArn }) => {
      const execution = executions.get(String(executionArn));
      if (!execution)
        throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(executionArn)}'`);
      const { states: _, retries: __, history: ___, startDate, stopDate, ...rest } = execution;
      return {
        ...rest,
        startDate: startDate.getTime() / 1000,
        ...(stopDate ? { stopDate: stopDate.getTime() / 1000 } : {}),
      };
    },
    // The whole history in one page, oldest first (AWS pages it, and reverseOrder is not served here).
    GetExecutionHistory: ({ executionArn }) => {
      const execution = executions.get(String(executionArn));
      if (!execution)
        throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(executionArn)}'`);
      return {
        events: execution.history.map(({ timestamp, type, details }, i) => ({
          timestamp: timestamp.getTime() / 1000,
          type,
          id: i + 1,
          previousEventId: i,
          ...details,
        })),
      };
    },
    // As AWS answers it (the runbook's `aws stepfunctions list-executions --status-filter FAILED` works here too):
    // newest first, a page at a time, and not for an EXPRESS machine, whose executions AWS does not keep.
    ListExecutions: ({ stateMachineArn, statusFilter, maxResults, nextToken }) => {
      const machine = machines.get(String(stateMachineArn));
      if (!machine)
        throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(stateMachineArn)}'`);
      if (machine.type === 'EXPRESS')
        throw new AwsError(
          'StateMachineTypeNotSupported',
          'This operation is not supported by this type of state machine',
        );
      const pageSize = maxResults === undefined || maxResults === 0 ? 100 : maxResults;
      if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 0 || pageSize > 1000)
        throw new AwsError('ValidationException', 'maxResults must be an integer from 0 to 1000');
      const after = nextToken === undefined ? undefined : pageAfter(nextToken);
      const newestFirst = [...executions.values()]
        .filter((e) => e.stateMachineArn === machine.arn && (statusFilter === undefined || e.status === statusFilter))
        .sort(byNewest);
      const from = after ? newestFirst.findIndex((e) => byNewest(e, after) > 0) : 0;
      const page = from < 0 ? [] : newestFirst.slice(from, from + pageSize);
      const last = page.at(-1);
      return {
        executions: page.map(({ executionArn, stateMachineArn: arn, name, status, startDate, stopDate }) => ({
          executionArn,
          stateMachineArn: arn,
          name,
          status,
          startDate: startDate.getTime() / 1000,
          ...(stopDate ? { stopDate: stopDate.getTime() / 1000 } : {}),
        })),
        ...(last && from + pageSize < newestFirst.length ? { nextToken: tokenAfter(last) } : {}),
      };
    },
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const action =
        String(request.headers['x-amz-target'] ?? '')
          .split('.')
          .at(-1) ?? '';
      response.setHeader('content-type', 'application/x-amz-json-1.0');
      try {
        const handler = actions[action];
        if (!handler) throw new AwsError('UnknownOperationException', `${action} is not served by the local stand-in`);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        response.end(JSON.stringify(await handler(body)));
      } catch (error) {
        response.statusCode = 400;
        const type = error instanceof AwsError ? error.type : 'InternalFailure';
        response.end(JSON.stringify({ __type: type, message: (error as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    executions,
    async resume() {
      if (!executionsFile) return 0;
      const left = await readLeftRunning(executionsFile, log);
      const now = Date.now();
      let resumed = 0;
      let rerun = 0;
      let lateToRerun = 0;
      let timedOut = 0;
      for (const entry of left) {
        const machine = machines.get(entry.stateMachineArn);
        if (!machine) {
          log(
            `WARNING: ${entry.name} of ${entry.stateMachineArn} was left running, but serverless.yml has no such ` +
              'state machine now (renamed, or another region): not resumed',
          );
          continue;
        }
        if (executions.has(entry.executionArn)) continue;
        const { executionArn, name, input } = entry;
        const startDate = new Date(entry.startDate);
        // Its TimeoutSeconds counts from its first start, as on AWS, where the stop never happened: the library's own
        // timer starts at this run, so the rest of it is kept here. One already past it is not run at all.
        const timeoutSeconds = machine.definition.TimeoutSeconds;
        const remainingMs = timeoutSeconds === undefined ? Infinity : startDate.getTime() + timeoutSeconds * 1000 - now;
        // One that had ended is run again only within its time: past it, it stays as it ended (a write it lost is the
        // sweeper's to find), never reported as timed out.
        if (entry.endedAt && remainingMs <= 0) {
          lateToRerun += 1;
          continue;
        }
        const execution = launch(machine, { executionArn, name, input, startDate }, remainingMs > 0);
        if (remainingMs > 0 && entry.endedAt) rerun += 1;
        else if (remainingMs > 0) resumed += 1;
        else timedOut += 1;
        const timeOut = () => {
          if (execution.status !== 'RUNNING') return;
          endTimedOut(execution, `past its TimeoutSeconds (${timeoutSeconds} s) from its start before the restart`);
          execution.stopDate = new Date();
          log(`${machine.name} ${execution.name}: timed out (${execution.cause})`);
          // A running one ends through its run, which keeps count of ended executions; one never run, here.
          const abort = aborts.get(execution.executionArn);
          if (abort) abort();
          else forgetOldEnded(execution);
        };
        if (remainingMs <= 0) timeOut();
        else if (Number.isFinite(remainingMs)) deadlines.push(setTimeout(timeOut, remainingMs).unref());
      }
      resumedFile = true;
      // What this run owns now: a crash before its stop resumes these again (their steps are idempotent), never an
      // older list.
      await persist();
      if (resumed > 0) log(`resumed ${resumed} execution(s) the last stop left running`);
      if (rerun > 0) {
        log(
          `running again ${rerun} execution(s) that had ended just before the stack was killed: DynamoDB Local may ` +
            'have dropped their last writes, and their steps act only on an order still PENDING or a payment still to settle',
        );
      }
      if (lateToRerun > 0) {
        log(
          `${lateToRerun} execution(s) that had ended just before the stack was killed are past their TimeoutSeconds ` +
            'now, and are not run again: the sweeper settles an order one of them left PENDING',
        );
      }
      if (timedOut > 0) log(`${timedOut} execution(s) the last stop left running had passed their TimeoutSeconds`);
      return resumed + rerun;
    },
    async stop() {
      if (drainMs > 0 && running.size > 0) {
        log(`waiting up to ${drainMs / 1000} s for ${running.size} running execution(s) to finish`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...running]),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs))),
        ]);
        clearTimeout(timer);
      }
      for (const deadline of deadlines) clearTimeout(deadline);
      // Written before they are aborted, and last: their ends must not write it again. Only by a run that resumed the
      // file first: one that failed to start, or stopped before, leaves the last stop's list for the next start.
      persistClosed = true;
      await nextWrite?.catch(() => undefined);
      if (executionsFile && resumedFile) {
        const left = runningNow();
        await writeNow({ last: true });
        if (left.length > 0) log(`${left.length} execution(s) still running: the next start resumes them`);
      }
      // A compensation may be retrying for a long while; stopping the stack ends it, as deleting a stack would.
      stopping = true;
      for (const abort of aborts.values()) abort();
      await Promise.allSettled([...running]);
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
};
