import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { stateOf } from '../../../functions/saga/abandonOrder.js';
import { sagaHandler } from '../../../functions/saga/sagaHandler.js';
import { muteStdout, tapLogs } from '../../../functions/observability/logger.js';
import { projectRoot } from '../../../local/paths.js';
import { unitEnvironment } from '../../support/lambdaEvents.js';

Object.assign(process.env, unitEnvironment);

type Line = {
  level: string;
  message: string;
  awsRequestId?: string;
  orderId?: string;
  error?: Record<string, unknown>;
};

/** A step that fails with `error`, run on a valid input: the lines it logged, and what it threw. */
const failing = async (
  error: Error,
  event: unknown = { orderId: 'o-1', correlationId: 'c-1', executionName: 'o-1' },
) => {
  const lines: Line[] = [];
  const stopTap = tapLogs((line) => lines.push(JSON.parse(line) as Line), 'debug');
  const unmute = muteStdout();
  stops.push(stopTap, unmute);
  const handler = sagaHandler('ConfirmOrder', () => Promise.reject(error));
  const context = { functionName: 'confirmOrder', awsRequestId: 'req-42' } as Context;
  const thrown: unknown = await handler(event, context).catch((e: unknown) => e);
  return {
    lines: lines.filter((line) => line.message?.startsWith('saga step') && line.message !== 'saga step started'),
    thrown,
  };
};
const stops: (() => void)[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

describe('a saga step that fails', () => {
  it('says a decline at info, by name, joined to Lambda’s lines by the request id: the bank’s answer, no fault', async () => {
    const declined = Object.assign(new Error('card declined'), { name: 'PaymentDeclinedError' });
    const { lines, thrown } = await failing(declined);
    expect(thrown).toBe(declined);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'saga step failed',
        awsRequestId: 'req-42',
        orderId: 'o-1',
        error: { name: 'PaymentDeclinedError', message: 'card declined' },
      }),
    ]);
  });

  // Every error a saga state machine's Catch or Retry names that a step throws (States.* and Lambda.* are Step
  // Functions' and Lambda's own): read from the ASL, so that a rule added there and not here fails this test.
  const caughtByTheStateMachines = [
    ...new Set(
      ['order-saga', 'compensation'].flatMap((machine) => {
        const asl = readFileSync(join(projectRoot, 'statemachines', `${machine}.asl.json`), 'utf8');
        return [...asl.matchAll(/"ErrorEquals":\s*\[([^\]]*)\]/g)].flatMap(
          ([, names]) => JSON.parse(`[${names ?? ''}]`) as string[],
        );
      }),
    ),
  ].filter((name) => !/^(States|Lambda)\./.test(name));

  it('knows errors from the state machines’ rules', () => {
    expect(caughtByTheStateMachines).toEqual(expect.arrayContaining(['PaymentDeclinedError', 'TimeoutError']));
  });

  it.each(caughtByTheStateMachines)(
    'says %s, which the state machines catch or retry, in one line below error (a decline at info, else warn)',
    async (name) => {
      const { lines } = await failing(Object.assign(new Error('expected'), { name }));
      expect(lines.map((line) => line.level)).toEqual([name === 'PaymentDeclinedError' ? 'info' : 'warn']);
    },
  );

  it('logs anything else whole, its stack included, at error: a defect or an outage', async () => {
    const { lines } = await failing(new TypeError('cannot read properties of undefined'));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', message: 'saga step failed', awsRequestId: 'req-42' }),
    ]);
    expect(lines[0]?.error).toMatchObject({ name: 'TypeError', stack: expect.stringContaining('TypeError') });
  });

  it('reads the order from its stream when the execution carries it in a shape this code does not read', async () => {
    const lines: Line[] = [];
    stops.push(
      tapLogs((line) => lines.push(JSON.parse(line) as Line), 'debug'),
      muteStdout(),
    );
    const seen: unknown[] = [];
    const handler = sagaHandler('ConfirmOrder', (input) => {
      seen.push(input.placed);
      return Promise.resolve('PROCEED' as const);
    });
    const context = { functionName: 'confirmOrder', awsRequestId: 'req-43' } as Context;
    const base = { orderId: 'o-1', correlationId: 'c-1', executionName: 'o-1' };
    const today = {
      orderId: 'o-1',
      customerId: 'customer-1',
      lines: [{ sku: 'MUG-1', quantity: 1, unitPrice: { amount: 1200, currency: 'EUR' } }],
      total: { amount: 1200, currency: 'EUR' },
    };
    // Started before a shape change: its copy lacks what today's OrderPlaced requires.
    const { lines: _, ...older } = today;

    expect(await handler({ ...base, placed: older }, context)).toEqual({ outcome: 'PROCEED' });
    expect(await handler({ ...base, placed: today }, context)).toEqual({ outcome: 'PROCEED' });

    // Nothing carried at all (an execution started before orders were carried) is no stale copy to mention.
    expect(await handler(base, context)).toEqual({ outcome: 'PROCEED' });

    expect(seen).toEqual([undefined, today, undefined]);
    expect(lines.filter((line) => line.message.startsWith('carried order'))).toEqual([
      expect.objectContaining({ level: 'info', awsRequestId: 'req-43' }),
    ]);
  });

  it('logs an input it cannot read, which no line of the step would otherwise name', async () => {
    const { lines, thrown } = await failing(new Error('never run'), { orderId: 42 });
    expect(thrown).toBeInstanceOf(Error);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', message: 'saga step input refused', awsRequestId: 'req-42' }),
    ]);
  });
});

describe('a saga step’s lines', () => {
  it('name the state that ran the function: GiveUpPayment and AbandonOrder run one function, told apart by reason', async () => {
    const lines: { message?: string; step?: string }[] = [];
    stops.push(
      tapLogs((line) => lines.push(JSON.parse(line) as { message?: string; step?: string }), 'debug'),
      muteStdout(),
    );
    const handler = sagaHandler(stateOf, () => Promise.resolve('PROCEED' as const));
    const context = { functionName: 'abandonOrder', awsRequestId: 'req-7' } as Context;
    const base = { orderId: 'o-1', correlationId: 'c-1', executionName: 'o-1' };
    await handler({ ...base, reason: 'PAYMENT_UNAVAILABLE' }, context);
    await handler(base, context);
    expect(lines.filter((line) => line.message === 'saga step finished').map((line) => line.step)).toEqual([
      'GiveUpPayment',
      'AbandonOrder',
    ]);
  });
});
