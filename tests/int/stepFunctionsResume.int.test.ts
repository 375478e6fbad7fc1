import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { addInvocationHook } from '../../local/lambda.js';
import { loadServerlessConfig } from '../../local/serverlessConfig.js';
import { startStepFunctions } from '../../local/stepFunctions.js';

/*
 * What the Step Functions stand-in keeps of the executions a stop left running (checkpoints/<stage>/executions.json),
 * in the cases that run no Task to its end: an execution already past its TimeoutSeconds, one started and stopped
 * meanwhile, a start that failed before resuming, a file that cannot be read. (tests/int/stackRestart.int.test.ts
 * resumes a parked compensation end to end.)
 */
const config = await loadServerlessConfig('test');
const arnOf = (resource: string) =>
  `arn:aws:states:${config.provider.region}:000000000000:stateMachine:${String(config.resources?.Resources?.[resource]?.Properties?.StateMachineName)}`;
const sagaArn = arnOf('OrderSagaStateMachine');
const dirs: string[] = [];
/** A Step Functions client of the stand-in at `endpoint`, which takes any credentials. */
const sfnClient = (endpoint: string, region = config.provider.region) =>
  new SFNClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
/** A machine of one Succeed state: its executions end at once, running nothing. */
const tinyName = `${config.service}-${config.provider.stage}-tiny`;
const tinyArn = `arn:aws:states:${config.provider.region}:000000000000:stateMachine:${tinyName}`;
const tiny = {
  ...config,
  resources: {
    Resources: {
      TinyStateMachine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          StateMachineName: tinyName,
          Definition: { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } },
        },
      },
    },
  },
};

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Where an executions file would be, in a folder of its own that the test's end removes. */
const newFile = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'orderflow-executions-'));
  dirs.push(dir);
  return join(dir, 'executions.json');
};

const givenFile = async (content: string) => {
  const file = await newFile();
  await writeFile(file, content);
  return file;
};

/**
 * A stand-in for `machines` that keeps every ended execution a minute, its executions file, a client, and how to start
 * an execution of a machine by name: answers its ARN.
 */
const keepingEnded = async (machines: typeof config) => {
  const file = await newFile();
  const stepFunctions = await startStepFunctions({
    config: machines,
    executionsFile: file,
    rerunEnded: () => true,
    endedKeptMs: 60_000,
  });
  await stepFunctions.resume();
  const sfn = sfnClient(stepFunctions.endpoint);
  const start = async (machineName: string, name: string) =>
    (
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: `arn:aws:states:${config.provider.region}:000000000000:stateMachine:${machineName}`,
          name,
          input: '{}',
        }),
      )
    ).executionArn ?? '';
  return { file, stepFunctions, sfn, start };
};

const leftRunning = (startDate: Date, stateMachineArn = sagaArn) => [
  {
    stateMachineArn,
    executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:order-1`,
    name: 'order-1',
    input: JSON.stringify({ orderId: 'order-1', correlationId: 'c-1' }),
    startDate: startDate.toISOString(),
  },
];

describe('executions left running across a restart of the local stack', () => {
  it('ends one already past its TimeoutSeconds, counted from its first start, as TIMED_OUT without running it', async () => {
    const file = await givenFile(JSON.stringify(leftRunning(new Date(Date.now() - 3_600_000))));
    const lines: string[] = [];
    const stepFunctions = await startStepFunctions({ config, executionsFile: file, log: (line) => lines.push(line) });
    try {
      expect(await stepFunctions.resume()).toBe(0);
      const [execution] = stepFunctions.executions.values();
      expect(execution).toMatchObject({ name: 'order-1', status: 'TIMED_OUT', error: 'States.Timeout', states: [] });
      expect(lines.join('\n')).toMatch(/order-1: timed out/);
      expect(lines).toContain('1 execution(s) the last stop left running had passed their TimeoutSeconds');
      // Nothing runs any more, so nothing is left for the next start.
      await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      await stepFunctions.stop();
    }
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('runs one still within its time with its first start as $$.Execution.StartTime, where a parked wait is bounded from', async () => {
    const parkedAt = new Date(Date.now() - 60_000);
    const file = await givenFile(JSON.stringify(leftRunning(parkedAt, arnOf('CompensationStateMachine'))));
    const seen: unknown[] = [];
    // What the Task is invoked with, and no further: the handler itself is not this test's.
    const removeHook = addInvocationHook({
      before: (_, event) => {
        seen.push(event);
        throw new Error('not run in this test');
      },
    });
    const stepFunctions = await startStepFunctions({ config, executionsFile: file });
    try {
      expect(await stepFunctions.resume()).toBe(1);
      // The compensation's first Task runs once its machine's handlers load: seconds on a busy machine.
      await expect.poll(() => seen.length, { timeout: 15_000 }).toBeGreaterThan(0);
      expect(seen[0]).toMatchObject({ orderId: 'order-1', startedAt: parkedAt.toISOString() });
    } finally {
      await stepFunctions.stop();
      removeHook();
    }
  });

  it('keeps the file up to date between starts and stops: a start is in it once answered, an end leaves it', async () => {
    const file = await newFile();
    // Its Task waits until this test ends it, so the execution runs as long as the test needs.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const removeHook = addInvocationHook({ before: () => held.then(() => Promise.reject(new Error('released'))) });
    const stepFunctions = await startStepFunctions({ config, executionsFile: file });
    const sfn = sfnClient(stepFunctions.endpoint);
    const listed = async () =>
      (JSON.parse(await readFile(file, 'utf8').catch(() => '[]')) as { name: string }[]).map((e) => e.name);
    try {
      await stepFunctions.resume();
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: arnOf('CompensationStateMachine'),
          name: 'order-2',
          input: JSON.stringify({ orderId: 'order-2', correlationId: 'c-2' }),
        }),
      );
      // No stop has run: a crash now (the process killed) would resume it at the next start.
      expect(await listed()).toEqual(['order-2']);
      await sfn.send(new StopExecutionCommand({ executionArn }));
      await expect.poll(listed).toEqual([]);
    } finally {
      release();
      removeHook();
      sfn.destroy();
      await stepFunctions.stop();
    }
  });

  it('keeps a succeeded execution a while after it ends, to run again after a crash, and never after a clean stop', async () => {
    const file = await newFile();
    const options = { config: tiny, rerunEnded: (name: string) => name === tinyName, endedKeptMs: 1_000 };
    const listed = async (path: string) =>
      JSON.parse(await readFile(path, 'utf8').catch(() => '[]')) as { name: string; endedAt?: string }[];
    const first = await startStepFunctions({ ...options, executionsFile: file });
    const sfn = sfnClient(first.endpoint);
    try {
      await first.resume();
      const { executionArn = '' } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: tinyArn, name: 'order-3', input: '{"orderId":"order-3"}' }),
      );
      await expect.poll(() => first.executions.get(executionArn)?.status).toBe('SUCCEEDED');
      // Ended, and still in the file, marked so: DynamoDB Local, killed now, might drop what it wrote last.
      await expect
        .poll(async () => (await listed(file)).map((e) => [e.name, typeof e.endedAt]))
        .toEqual([['order-3', 'string']]);
      // The stack killed now: the next start runs it again, and says why.
      const crashed = join(dirname(file), 'crashed.json');
      await writeFile(crashed, await readFile(file, 'utf8'));
      const lines: string[] = [];
      const second = await startStepFunctions({ ...options, executionsFile: crashed, log: (line) => lines.push(line) });
      try {
        expect(await second.resume()).toBe(1);
        await expect.poll(() => second.executions.get(executionArn)?.status).toBe('SUCCEEDED');
        expect(lines.join('\n')).toMatch(
          /running again 1 execution\(s\) that had ended just before the stack was killed/,
        );
      } finally {
        await second.stop();
      }
      // A while after its end, a write leaves it out.
      await expect.poll(() => listed(file), { timeout: 5_000 }).toEqual([]);
    } finally {
      sfn.destroy();
      await first.stop();
    }
  });

  it('keeps no execution that was stopped, and runs none again that had ended past its TimeoutSeconds', async () => {
    // A machine that waits: stopped while it waits, it ends ABORTED.
    const waitName = `${config.service}-${config.provider.stage}-waits`;
    const waits = {
      ...config,
      resources: {
        Resources: {
          WaitsStateMachine: {
            Type: 'AWS::StepFunctions::StateMachine',
            Properties: {
              StateMachineName: waitName,
              Definition: {
                TimeoutSeconds: 60,
                StartAt: 'Wait',
                States: { Wait: { Type: 'Wait', Seconds: 30, Next: 'Done' }, Done: { Type: 'Succeed' } },
              },
            },
          },
        },
      },
    };
    const { file, stepFunctions, sfn, start } = await keepingEnded(waits);
    try {
      const executionArn = await start(waitName, 'order-5');
      await sfn.send(new StopExecutionCommand({ executionArn }));
      await expect.poll(() => stepFunctions.executions.get(executionArn)?.status).toBe('ABORTED');
      await expect.poll(() => readFile(file, 'utf8').catch(() => 'none')).toBe('none');
    } finally {
      sfn.destroy();
      await stepFunctions.stop();
    }

    // One that had ended just before a crash, its start now past the machine's TimeoutSeconds.
    const late = await givenFile(
      JSON.stringify([
        {
          stateMachineArn: `arn:aws:states:${config.provider.region}:000000000000:stateMachine:${waitName}`,
          executionArn: `arn:aws:states:${config.provider.region}:000000000000:execution:${waitName}:order-6`,
          name: 'order-6',
          input: '{}',
          startDate: new Date(Date.now() - 120_000).toISOString(),
          endedAt: new Date(Date.now() - 1_000).toISOString(),
        },
      ]),
    );
    const lines: string[] = [];
    const restarted = await startStepFunctions({
      config: waits,
      executionsFile: late,
      rerunEnded: () => true,
      log: (line) => lines.push(line),
    });
    try {
      expect(await restarted.resume()).toBe(0);
      expect(restarted.executions.size).toBe(0);
      expect(lines.join('\n')).toMatch(/1 execution\(s\) that had ended just before the stack was killed are past/);
      expect(lines.join('\n')).not.toMatch(/passed their TimeoutSeconds/);
    } finally {
      await restarted.stop();
    }
  });

  it('writes no ended execution at a clean stop: only a crash runs one again', async () => {
    const { file, stepFunctions, sfn, start } = await keepingEnded(tiny);
    try {
      const executionArn = await start(tinyName, 'order-4');
      await expect.poll(() => stepFunctions.executions.get(executionArn)?.status).toBe('SUCCEEDED');
      await expect.poll(() => readFile(file, 'utf8').catch(() => '')).toContain('order-4');
    } finally {
      sfn.destroy();
      await stepFunctions.stop();
    }
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('leaves the last stop’s list for the next start when this one stops before resuming it (a failed start)', async () => {
    const content = JSON.stringify(leftRunning(new Date()));
    const file = await givenFile(content);
    const stepFunctions = await startStepFunctions({ config, executionsFile: file });
    await stepFunctions.stop();
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('sets an unreadable file aside with a warning, and resumes nothing from it', async () => {
    const file = await givenFile('[{"stateMachineArn": "trunc');
    const lines: string[] = [];
    const stepFunctions = await startStepFunctions({ config, executionsFile: file, log: (line) => lines.push(line) });
    try {
      expect(await stepFunctions.resume()).toBe(0);
      expect(lines.join('\n')).toMatch(/WARNING: .*executions\.json cannot be read.*set aside/);
      expect(await readFile(`${file}.unreadable`, 'utf8')).toBe('[{"stateMachineArn": "trunc');
    } finally {
      await stepFunctions.stop();
    }
  });
});

describe('the executions the stand-in keeps', () => {
  it('keeps the latest ended executions whole, of older STANDARD ones what DescribeExecution answers, their names still taken, and forgets the oldest of those', async () => {
    // Every Task waits until the test ends: each execution runs until it is stopped (or fails on its thin input).
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const removeHook = addInvocationHook({ before: () => held });
    const stepFunctions = await startStepFunctions({ config, keepFinished: 2, keepNames: 1 });
    const sfn = sfnClient(stepFunctions.endpoint);
    const start = (name: string) =>
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: sagaArn,
          name,
          input: JSON.stringify({ orderId: name, correlationId: 'c-1', placed: {}, placedAt: '' }),
        }),
      );
    try {
      for (const name of ['order-a', 'order-b', 'order-c']) {
        const { executionArn } = await start(name);
        await sfn.send(new StopExecutionCommand({ executionArn }));
        await expect.poll(() => stepFunctions.executions.get(executionArn ?? '')?.stopDate).toBeDefined();
      }
      // The oldest lost its history; the latest two kept theirs.
      await expect
        .poll(() => [...stepFunctions.executions.values()].map((e) => `${e.name} ${e.history.length > 0}`))
        .toEqual(['order-a false', 'order-b true', 'order-c true']);
      const [oldest] = stepFunctions.executions.values();
      // Described as on AWS, and its name still taken on a STANDARD machine.
      expect(await sfn.send(new DescribeExecutionCommand({ executionArn: oldest?.executionArn ?? '' }))).toMatchObject({
        name: 'order-a',
        status: oldest?.status,
        input: expect.stringContaining('order-a'),
      });
      await expect(start('order-a')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });

      // A fourth ends: order-b loses its history, and order-a, past keepNames, is forgotten, its name free again.
      const { executionArn } = await start('order-d');
      await sfn.send(new StopExecutionCommand({ executionArn }));
      await expect
        .poll(() => [...stepFunctions.executions.values()].map((e) => `${e.name} ${e.history.length > 0}`))
        .toEqual(['order-b false', 'order-c true', 'order-d true']);
      await expect(start('order-a')).resolves.toMatchObject({ executionArn: oldest?.executionArn });
    } finally {
      release();
      removeHook();
      sfn.destroy();
      await stepFunctions.stop();
    }
  });

  it('lists a machine’s executions as AWS does: newest first, by status, a page at a time, and not an EXPRESS one’s', async () => {
    const removeHook = addInvocationHook({ before: () => new Promise<never>(() => undefined) });
    const stepFunctions = await startStepFunctions({ config });
    const sfn = sfnClient(stepFunctions.endpoint);
    const list = (input: Omit<ConstructorParameters<typeof ListExecutionsCommand>[0], 'stateMachineArn'>) =>
      sfn.send(new ListExecutionsCommand({ stateMachineArn: sagaArn, ...input }));
    const names = (page: Awaited<ReturnType<typeof list>>) => page.executions?.map((e) => e.name);
    try {
      for (const name of ['order-1', 'order-2', 'order-3', 'order-4', 'order-5']) {
        const { executionArn } = await sfn.send(
          new StartExecutionCommand({
            stateMachineArn: sagaArn,
            name,
            input: JSON.stringify({ orderId: name, correlationId: 'c-1', placed: {}, placedAt: '' }),
          }),
        );
        if (name !== 'order-3') await sfn.send(new StopExecutionCommand({ executionArn }));
        // Start times a millisecond apart at least, so newest-first is one order.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(names(await list({}))).toEqual(['order-5', 'order-4', 'order-3', 'order-2', 'order-1']);
      expect(await list({ statusFilter: 'RUNNING' })).toMatchObject({
        executions: [{ name: 'order-3', status: 'RUNNING' }],
      });
      const aborted = await list({ statusFilter: 'ABORTED' });
      expect(names(aborted)).toEqual(['order-5', 'order-4', 'order-2', 'order-1']);
      expect(aborted.executions?.every((e) => e.stopDate instanceof Date)).toBe(true);

      // Pages of two, each taking up after the last; one started meanwhile moves no later page.
      const first = await list({ maxResults: 2 });
      expect(names(first)).toEqual(['order-5', 'order-4']);
      await sfn.send(new StartExecutionCommand({ stateMachineArn: sagaArn, name: 'order-6', input: '{}' }));
      const second = await list({ maxResults: 2, nextToken: first.nextToken });
      expect(names(second)).toEqual(['order-3', 'order-2']);
      const third = await list({ maxResults: 2, nextToken: second.nextToken });
      expect(third).toMatchObject({ executions: [{ name: 'order-1' }] });
      expect(third.nextToken).toBeUndefined();

      await expect(list({ nextToken: 'not-a-token' })).rejects.toMatchObject({ name: 'InvalidToken' });
      await expect(list({ maxResults: 1001 })).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(
        sfn.send(new ListExecutionsCommand({ stateMachineArn: `${sagaArn}-unknown` })),
      ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    } finally {
      removeHook();
      sfn.destroy();
      await stepFunctions.stop();
    }

    // prod runs the saga EXPRESS, whose executions AWS does not list.
    const prod = await loadServerlessConfig('prod');
    const express = await startStepFunctions({ config: prod });
    const prodSfn = sfnClient(express.endpoint, prod.provider.region);
    try {
      const prodSaga = `arn:aws:states:${prod.provider.region}:000000000000:stateMachine:${String(prod.resources?.Resources?.OrderSagaStateMachine?.Properties?.StateMachineName)}`;
      await expect(prodSfn.send(new ListExecutionsCommand({ stateMachineArn: prodSaga }))).rejects.toMatchObject({
        name: 'StateMachineTypeNotSupported',
      });
    } finally {
      prodSfn.destroy();
      await express.stop();
    }
  });
});
