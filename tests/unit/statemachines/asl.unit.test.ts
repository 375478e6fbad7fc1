import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { CircuitOpenError, CircuitProbingError } from '../../../application/circuitBreaker.js';
import { describe, expect, it } from 'vitest';
import { asJobError, TransientReplayError } from '../../../functions/jobs/replaySegment.js';
import { projectRoot } from '../../../local/paths.js';
import { loadServerlessConfig } from '../../../local/serverlessConfig.js';
// For its Promise.withResolvers, which aws-local-stepfunctions needs and Node 20 lacks.
import '../../../local/stepFunctions.js';

type State = {
  Type: string;
  TimeoutSeconds?: number;
  Retry?: {
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    BackoffRate?: number;
    MaxDelaySeconds?: number;
    JitterStrategy?: string;
  }[];
  ItemProcessor?: { States: Record<string, State> };
};

const folder = join(projectRoot, 'statemachines');
const files = (await readdir(folder)).filter((file) => file.endsWith('.asl.json'));

/** Every state, nested Map processors included. */
const allStates = (states: Record<string, State>): [string, State][] =>
  Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...allStates(state.ItemProcessor?.States ?? {}),
  ]);

describe.each(files)('statemachines/%s', (file) => {
  it('is valid Amazon States Language', async () => {
    const definition = JSON.parse(await readFile(join(folder, file), 'utf8')) as unknown;
    const result = aslValidator(definition);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('holds no null: the Serverless Framework drops nulls when it loads the file, changing what deploys', async () => {
    const text = await readFile(join(folder, file), 'utf8');
    expect(text).not.toMatch(/:\s*null\b/);
  });

  it('retries transient Lambda failures on every Task, and names states as PascalCase verbs', async () => {
    const definition = JSON.parse(await readFile(join(folder, file), 'utf8')) as { States: Record<string, State> };
    const states = allStates(definition.States);
    expect(states.length).toBeGreaterThan(0);
    for (const [name, state] of states) {
      expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
      if (state.Type !== 'Task') continue;
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      if (retried.includes('States.ALL')) continue;
      expect(retried, name).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
      );
    }
  });
});

it('finds the state machines', () => {
  expect(files).toEqual(expect.arrayContaining(['replay.asl.json', 'order-saga.asl.json', 'compensation.asl.json']));
});

describe('the order saga', async () => {
  const saga = JSON.parse(await readFile(join(folder, 'order-saga.asl.json'), 'utf8')) as {
    StartAt: string;
    TimeoutSeconds?: number;
    States: Record<
      string,
      State & {
        Error?: string;
        Resource?: string;
        Next?: string;
        Default?: string;
        SecondsPath?: string;
        Parameters?: Record<string, unknown>;
        Choices?: { Variable: string; StringEquals: string; Next: string }[];
        Catch?: { ErrorEquals: string[]; Next: string }[];
        Retry?: {
          ErrorEquals: string[];
          IntervalSeconds?: number;
          MaxAttempts?: number;
          JitterStrategy?: string;
          BackoffRate?: number;
          MaxDelaySeconds?: number;
        }[];
      }
    >;
  };

  const forwardSteps = ['AuthorizePayment', 'AwaitPayment', 'ConfirmOrder'];
  /** The steps that give an order up: their last resort is the sweeper. */
  const givingUp = ['AbandonOrder', 'GiveUpPayment'];

  it('sends business failures to their compensation, and any other failure of a step to AbandonOrder', () => {
    const catchAll = expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'AbandonOrder' });
    // Out of stock is no failure, and no saga's: placement rejects the order (ADR 0014); the saga starts paying.
    expect(saga.StartAt).toBe('AuthorizePayment');
    expect(saga.States.AuthorizePayment?.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['PaymentDeclinedError'], Next: 'RejectPaymentDeclined' }),
      expect.objectContaining({
        ErrorEquals: ['CircuitOpenError', 'CircuitProbingError', 'PaymentGatewayUnavailableError'],
        Next: 'AwaitPayment',
      }),
      catchAll,
    ]);
    for (const name of ['ConfirmOrder']) expect(saga.States[name]?.Catch, name).toEqual([catchAll]);
  });

  it('catches States.ALL, last, on every Task: a forward step or a compensation that fails for good ends in AbandonOrder', () => {
    const tasks = Object.entries(saga.States).filter(([, state]) => state.Type === 'Task');
    for (const [name, state] of tasks) {
      // Compensations retry everything first; only then does their catch take over.
      if (!forwardSteps.includes(name)) expect(state.Retry?.[0]?.ErrorEquals, name).toEqual(['States.ALL']);
      expect(state.Catch?.at(-1), name).toMatchObject({
        ErrorEquals: ['States.ALL'],
        Next: givingUp.includes(name) ? 'LeaveToSweeper' : 'AbandonOrder',
      });
    }
    expect(saga.States.AbandonOrder).toMatchObject({ Type: 'Task', Next: 'EndSaga' });
    // The last resort fails the execution (alarmed), and the order, still PENDING, is the sweeper's.
    expect(saga.States.LeaveToSweeper).toMatchObject({ Type: 'Fail', Error: 'OrderLeftPending' });
  });

  it('bounds every Task and the whole execution in time, within EXPRESS’s five minutes', () => {
    const tasks = Object.entries(saga.States).filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([name]) => name)).toEqual(expect.arrayContaining([...forwardSteps, 'AbandonOrder']));
    for (const [name, state] of tasks) {
      expect(state.TimeoutSeconds, name).toEqual(expect.any(Number));
      expect(state.TimeoutSeconds, name).toBeGreaterThan(10); // the functions' Lambda timeout comes first
    }
    expect(saga.TimeoutSeconds).toBeGreaterThan(0);
    expect(saga.TimeoutSeconds).toBeLessThanOrEqual(300);
  });

  it('retries compensations with backoff for minutes, within the machine’s timeout', () => {
    for (const name of ['RejectOrder', 'AbandonOrder']) {
      const [retry] = saga.States[name]?.Retry ?? [];
      expect(retry, name).toMatchObject({ ErrorEquals: ['States.ALL'], BackoffRate: 2, JitterStrategy: 'FULL' });
      // Longer than a minute of waiting before the timeout, and no single wait longer than the machine may run.
      expect(retry?.MaxDelaySeconds, name).toBeGreaterThanOrEqual(60);
      expect(retry?.MaxDelaySeconds, name).toBeLessThan(saga.TimeoutSeconds ?? 0);
    }
  });

  it('retries compensation steps until they succeed, and every retry backs off with jitter', () => {
    for (const name of ['RejectOrder', 'AbandonOrder']) {
      const [retry] = saga.States[name]?.Retry ?? [];
      expect(retry?.ErrorEquals, name).toEqual(['States.ALL']);
      expect(retry?.MaxAttempts, name).toBeGreaterThanOrEqual(50);
    }
    for (const state of Object.values(saga.States)) {
      for (const retry of state.Retry ?? []) expect(retry.JitterStrategy).toBe('FULL');
    }
  });

  it("retries Lambda's transient failures, a timeout's Lambda.Unknown too, at least 6 times on every forward step", () => {
    // AWS's advice for Lambda service exceptions; `npm run chaos` (20% of invocations failing) needs it too.
    for (const name of forwardSteps) {
      const retry = (saga.States[name]?.Retry ?? []).find((r) => r.ErrorEquals.includes('Lambda.ServiceException'));
      // TimeoutError: middy's own, thrown just before Lambda's deadline; without it a slow step failed its saga at once.
      // Lambda.ClientExecutionTimeoutException: first among the transient 500s AWS's advice lists; without it one sent
      // a paid order to AbandonOrder.
      expect(retry?.ErrorEquals, name).toEqual(
        expect.arrayContaining([
          'Lambda.ServiceException',
          'Lambda.ClientExecutionTimeoutException',
          'Lambda.Unknown',
          'TimeoutError',
        ]),
      );
      expect(retry?.MaxAttempts, name).toBeGreaterThanOrEqual(6);
    }
  });

  it('waits out Lambda throttling longer than a service error, and the steps after the payment wait within its reserve', () => {
    // The account's concurrency spent (no saga step reserves any): 6 retries of at most 10 s waited 17 s on average,
    // then AbandonOrder rejected the order UNAVAILABLE.
    const longestWait = (name: string) => {
      const retry = (saga.States[name]?.Retry ?? []).find((r) =>
        r.ErrorEquals.includes('Lambda.TooManyRequestsException'),
      );
      expect(retry?.ErrorEquals, name).toEqual(['Lambda.TooManyRequestsException']);
      const { IntervalSeconds = 1, MaxAttempts = 3, BackoffRate = 2, MaxDelaySeconds = Infinity } = retry ?? {};
      return Array.from({ length: MaxAttempts }, (_, i) =>
        Math.min(MaxDelaySeconds, IntervalSeconds * BackoffRate ** i),
      ).reduce((a, b) => a + b, 0);
    };
    for (const name of forwardSteps) expect(longestWait(name), name).toBeGreaterThanOrEqual(50);
    // The steps run one after another in one execution, whose TimeoutSeconds no Catch sees: what follows the payment
    // wait's bound (at most TimeoutSeconds - 120 s, tests/int/package.int.test.ts) must fit in those 120 s, throttled
    // at every step, with 10 s left for AbandonOrder to give the order up before the execution times out.
    expect(longestWait('AuthorizePayment') + longestWait('ConfirmOrder') + 10).toBeLessThanOrEqual(120);
  });

  it('retries a lost race far longer than a service error: on a hot SKU it is the common case, and always transient', () => {
    for (const name of forwardSteps) {
      const retry = (saga.States[name]?.Retry ?? []).find((r) => r.ErrorEquals.includes('ConcurrencyError'));
      expect(retry?.ErrorEquals, name).toEqual(['ConcurrencyError']);
      expect(retry?.MaxAttempts, name).toBeGreaterThanOrEqual(20);
    }
  });

  it('retries a gateway blip briefly on the payment step (tok_flaky fails twice), then parks the order', () => {
    const retries = saga.States.AuthorizePayment?.Retry ?? [];
    const outage = retries.find((r) => r.ErrorEquals.includes('PaymentGatewayUnavailableError'));
    // Two retries: the third call approves tok_flaky; a longer outage is the parked wait's, not the Retry's.
    expect(outage?.MaxAttempts).toBe(2);
    // A refusal by the open breaker is not retried in place: the breaker already said the gateway is down.
    expect(retries.some((r) => r.ErrorEquals.includes('CircuitOpenError'))).toBe(false);
    // One refused while another call probes is, briefly: the probe answers within moments, and a caller sent back to
    // the parked wait would wait a whole one more once the gateway is back (ADR 0007).
    const probing = retries.find((r) => r.ErrorEquals.includes('CircuitProbingError'));
    expect(probing).toMatchObject({ ErrorEquals: ['CircuitProbingError'], JitterStrategy: 'FULL' });
    // Its delays reach as far as a probe may hold the circuit (PROBE_TIMEOUT_MS, 15 s): 1, 2, 4, 4 and 4 s at most.
    const { IntervalSeconds = 1, MaxAttempts = 3, BackoffRate = 2, MaxDelaySeconds = Infinity } = probing ?? {};
    const delays = Array.from({ length: MaxAttempts }, (_, i) =>
      Math.min(IntervalSeconds * BackoffRate ** i, MaxDelaySeconds),
    );
    expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(15);
    const catches = saga.States.AuthorizePayment?.Catch ?? [];
    expect(catches.find((c) => c.ErrorEquals.includes('CircuitProbingError'))?.Next).toBe('AwaitPayment');
  });

  it('parks the payment step: AwaitPayment says how long, WaitForGateway waits, AuthorizePayment tries again', () => {
    const { AwaitPayment, CheckAwaiting, WaitForGateway } = saga.States;
    expect(AwaitPayment).toMatchObject({
      Type: 'Task',
      Resource: '${AwaitPaymentFunctionArn}',
      // The bound counts from the execution's start, so a parked order can never outlive the execution.
      Parameters: expect.objectContaining({ 'startedAt.$': '$$.Execution.StartTime' }),
      Next: 'CheckAwaiting',
    });
    expect(CheckAwaiting).toMatchObject({
      Type: 'Choice',
      Choices: [
        { Variable: '$.AwaitPaymentResult.outcome', StringEquals: 'STOP', Next: 'EndSaga' },
        { Variable: '$.AwaitPaymentResult.outcome', StringEquals: 'GIVE_UP', Next: 'GiveUpPayment' },
      ],
      Default: 'WaitForGateway',
    });
    expect(WaitForGateway).toEqual({
      Type: 'Wait',
      SecondsPath: '$.AwaitPaymentResult.waitSeconds',
      Next: 'AuthorizePayment',
    });
  });

  it('gives an order up past the bound as AbandonOrder does, rejected PAYMENT_UNAVAILABLE, retrying until the gateway answers the void', () => {
    const { GiveUpPayment, AbandonOrder } = saga.States;
    expect(GiveUpPayment).toMatchObject({
      Type: 'Task',
      Resource: AbandonOrder?.Resource,
      Parameters: expect.objectContaining({ reason: 'PAYMENT_UNAVAILABLE' }),
      Next: 'EndSaga',
    });
    const [retry] = GiveUpPayment?.Retry ?? [];
    expect(retry).toMatchObject({ ErrorEquals: ['States.ALL'], JitterStrategy: 'FULL' });
    expect(retry?.MaxAttempts).toBeGreaterThanOrEqual(50);
    // Short waits: the gateway is coming back, and the customer waits for the answer.
    expect(retry?.MaxDelaySeconds).toBeLessThanOrEqual(10);
  });
});

describe('the parked compensation', async () => {
  const machine = JSON.parse(await readFile(join(folder, 'compensation.asl.json'), 'utf8')) as {
    StartAt: string;
    TimeoutSeconds?: number;
    States: Record<
      string,
      State & {
        Resource?: string;
        Next?: string;
        Default?: string;
        Error?: string;
        SecondsPath?: string;
        Parameters?: Record<string, unknown>;
        Choices?: { Variable: string; StringEquals: string; Next: string }[];
        Catch?: unknown[];
        Retry?: { ErrorEquals: string[]; MaxAttempts?: number; JitterStrategy?: string }[];
      }
    >;
  };

  it('tries the compensation, waits as long as ResumeCompensation says while the gateway is down, and tries again', () => {
    const { ResumeCompensation, CheckResumed, WaitForGateway } = machine.States;
    expect(machine.StartAt).toBe('ResumeCompensation');
    expect(ResumeCompensation).toMatchObject({
      Type: 'Task',
      Resource: '${ResumeCompensationFunctionArn}',
      // The bound counts from the execution's start: when the compensation was parked.
      Parameters: expect.objectContaining({ 'orderId.$': '$.orderId', 'startedAt.$': '$$.Execution.StartTime' }),
      Next: 'CheckResumed',
    });
    expect(CheckResumed).toMatchObject({
      Type: 'Choice',
      Choices: [
        { Variable: '$.ResumeCompensationResult.outcome', StringEquals: 'WAIT', Next: 'WaitForGateway' },
        { Variable: '$.ResumeCompensationResult.outcome', StringEquals: 'GIVE_UP', Next: 'LeaveToOperator' },
      ],
      Default: 'EndCompensation',
    });
    expect(WaitForGateway).toEqual({
      Type: 'Wait',
      SecondsPath: '$.ResumeCompensationResult.waitSeconds',
      Next: 'ResumeCompensation',
    });
  });

  it('fails the execution, alarmed, past the bound or on a failure its retries did not mend: nothing is swallowed', () => {
    const { ResumeCompensation, LeaveToOperator } = machine.States;
    expect(LeaveToOperator).toMatchObject({ Type: 'Fail', Error: 'CompensationPastBound' });
    // No Catch: a real failure fails the execution at the Task, which a redrive runs again.
    expect(ResumeCompensation?.Catch).toBeUndefined();
    const retries = ResumeCompensation?.Retry ?? [];
    expect(retries.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], JitterStrategy: 'FULL' });
    expect(retries.find((r) => r.ErrorEquals.includes('ConcurrencyError'))?.MaxAttempts).toBeGreaterThanOrEqual(20);
    // The gateway's unavailability is an answer (WAIT), not an error to retry in place.
    expect(retries.some((r) => r.ErrorEquals.includes('PaymentGatewayUnavailableError'))).toBe(false);
  });

  it('ends at the stage’s bound, and at a week whatever happens: a backstop no stage’s bound reaches', async () => {
    expect(machine.TimeoutSeconds).toBe(7 * 24 * 3600);
    // Every stage serverless.yml has settings for, and one that takes the defaults.
    for (const stage of ['prod', 'dev', 'staging', 'local', 'test', 'bench']) {
      const fn = (await loadServerlessConfig(stage)).functions?.resumeCompensation;
      const bound = Number(fn?.environment?.COMPENSATION_WAIT_BOUND_SECONDS);
      const maxWait = Number(fn?.environment?.COMPENSATION_WAIT_MAX_SECONDS);
      expect(bound, stage).toBeGreaterThan(0);
      // The last wait may start just before the bound; the Task after it must still run.
      expect(bound + maxWait + 60, stage).toBeLessThan(machine.TimeoutSeconds ?? 0);
    }
  }, 60_000);
});

describe('the replay job', async () => {
  const definition = JSON.parse(await readFile(join(folder, 'replay.asl.json'), 'utf8')) as unknown;

  it('bounds every Task just past its worker’s own timeout, and runs a worker that timed out or crashed again', async () => {
    const worker = (await loadServerlessConfig('prod')).functions?.replaySegment;
    const tasks = allStates((definition as { States: Record<string, State> }).States).filter(
      ([, state]) => state.Type === 'Task',
    );
    expect(tasks.length).toBeGreaterThanOrEqual(6);
    for (const [name, state] of tasks) {
      // Lambda's own timeout ends a worker first; the Task's is the backstop for an invocation never answered, with
      // room for a cold start's init (up to 10 s) and the invoke itself, which its clock counts and Lambda's does not.
      expect(state.TimeoutSeconds, name).toBeGreaterThanOrEqual((worker?.timeout ?? Number.POSITIVE_INFINITY) + 30);
      expect(state.TimeoutSeconds, name).toBeLessThanOrEqual((worker?.timeout ?? 0) + 60);
      // A worker's timeout reaches Step Functions as Lambda.Unknown or Sandbox.Timedout: each segment resumes from
      // its checkpoint, so running it again repeats nothing.
      const retried = (state.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
      expect(retried, name).toEqual(expect.arrayContaining(['States.Timeout', 'Lambda.Unknown', 'Sandbox.Timedout']));
    }
  }, 60_000);
  /** The job run on `input`, its worker answering at once: which of its Tasks ran, in order. */
  const tasksRun = async (input: object) => {
    const ran: string[] = [];
    const answer = (task: string, payload: Record<string, number | boolean>) => async () => {
      ran.push(task);
      return { Payload: payload };
    };
    const machine = new StateMachine(definition as never);
    const { result } = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: {
          ClearViews: answer('ClearViews', { cleared: 0 }),
          ReplaySegment: answer('ReplaySegment', { done: true, events: 0 }),
        },
      },
      context: { Execution: { Name: 'by-hand', StartTime: new Date().toISOString() } },
    });
    await result;
    return ran;
  };

  it('runs a segment again after a throttle or timeout outlasts its worker’s retries: it resumes from its checkpoint', async () => {
    const ran: string[] = [];
    let throttles = 2;
    const machine = new StateMachine(definition as never);
    const { result } = machine.run({ projections: ['orders'], totalSegments: 1 } as never, {
      overrides: {
        taskResourceLocalHandlers: {
          ReplaySegment: async () => {
            ran.push('ReplaySegment');
            if (throttles-- > 0) {
              // What the worker throws for a throttle, a timeout or a 5xx its own retries did not outlast.
              throw new TransientReplayError(new Error('Rate of requests exceeds the allowed throughput.'));
            }
            return { Payload: { done: true, events: 0 } };
          },
        },
        retryIntervalOverrides: { ReplaySegment: 0 },
      },
      context: { Execution: { Name: 'by-hand', StartTime: new Date().toISOString() } },
    });
    await result;
    expect(ran).toEqual(['ReplaySegment', 'ReplaySegment', 'ReplaySegment']);
  });

  it('hears of every failure the worker counts as transient under the one name it retries, and of no other', () => {
    const transient = [
      Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
        name: 'ProvisionedThroughputExceededException',
        $retryable: { throttling: true },
      }),
      Object.assign(new Error('Internal server error'), {
        name: 'InternalServerError',
        $metadata: { httpStatusCode: 500 },
      }),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    ];
    for (const error of transient)
      expect(asJobError(error)).toMatchObject({ name: 'TransientReplayError', cause: error });
    const refused = Object.assign(new Error('bad input'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(asJobError(refused)).toBe(refused);
  });

  it('retries the blue-green build’s segments on the same errors as the in-place replay’s', () => {
    const retries = (name: string) => {
      const found: unknown[] = [];
      const visit = (value: unknown): void => {
        if (!value || typeof value !== 'object') return;
        for (const [key, inner] of Object.entries(value)) {
          if (key === name) found.push((inner as { Retry: unknown }).Retry);
          visit(inner);
        }
      };
      visit(definition);
      return found;
    };
    expect(retries('RebuildSegment')).toEqual(retries('ReplaySegment'));
    expect(JSON.stringify(retries('RebuildSegment'))).toContain('"TransientReplayError"');
  });

  it('replays in place when the input leaves fromScratch out, as when it is false, and clears first only when true', async () => {
    const input = { projections: ['orders'], totalSegments: 2 };
    expect(await tasksRun(input)).toEqual(['ReplaySegment', 'ReplaySegment']);
    expect(await tasksRun({ ...input, fromScratch: false })).toEqual(['ReplaySegment', 'ReplaySegment']);
    expect(await tasksRun({ ...input, fromScratch: true })).toEqual(['ClearViews', 'ReplaySegment', 'ReplaySegment']);
  });
});

describe('the order saga, run on the payment gateway’s breaker', async () => {
  const definition = JSON.parse(await readFile(join(folder, 'order-saga.asl.json'), 'utf8')) as unknown;
  /** An execution whose first payment call is refused with `refusal`: which Tasks ran, in order. */
  const tasksRun = async (refusal: Error) => {
    const ran: string[] = [];
    let refusals = 1;
    const step = (task: string, outcome: Record<string, string | number>) => async () => {
      ran.push(task);
      if (task === 'AuthorizePayment' && refusals-- > 0) throw refusal;
      return outcome;
    };
    const machine = new StateMachine(definition as never);
    const { result } = machine.run(
      { orderId: 'o-1', correlationId: 'c-1', placed: {}, placedAt: new Date().toISOString() } as never,
      {
        overrides: {
          taskResourceLocalHandlers: {
            AuthorizePayment: step('AuthorizePayment', { outcome: 'PROCEED' }),
            AwaitPayment: step('AwaitPayment', { outcome: 'WAIT', waitSeconds: 1 }),
            ConfirmOrder: step('ConfirmOrder', { outcome: 'PROCEED' }),
          },
          retryIntervalOverrides: { AuthorizePayment: 0 },
          waitTimeOverrides: { WaitForGateway: 0 },
        },
        context: { Execution: { Name: 'o-1', StartTime: new Date().toISOString() } },
      },
    );
    await result;
    return ran;
  };

  it('tries a payment refused during a probe again in place, and one the open breaker refused after a parked wait', async () => {
    expect(await tasksRun(new CircuitProbingError('payment-gateway', 1_000, 1_000))).toEqual([
      'AuthorizePayment',
      'AuthorizePayment',
      'ConfirmOrder',
    ]);
    expect(await tasksRun(new CircuitOpenError('payment-gateway', 1_000, 1_000))).toEqual([
      'AuthorizePayment',
      'AwaitPayment',
      'AuthorizePayment',
      'ConfirmOrder',
    ]);
  });
});
