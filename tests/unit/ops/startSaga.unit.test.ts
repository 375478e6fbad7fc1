import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { cancelOrder } from '../../../application/orders.js';
import type { SagaInput } from '../../../application/saga.js';
import { projectRoot } from '../../../local/paths.js';
// For its Promise.withResolvers, which aws-local-stepfunctions needs and Node 20 lacks.
import '../../../local/stepFunctions.js';
import { startOrderSaga, type StartExecution } from '../../../ops/startSaga.js';
import { memoryStore, testContext } from '../../support/memoryStore.js';
import { twoMugsPlaced } from '../../support/shop.js';

const given = async () => {
  const store = memoryStore();
  const context = testContext(store);
  const orderId = await twoMugsPlaced(context);
  const starts: { name: string; input: SagaInput }[] = [];
  const start: StartExecution = async (name, input) => {
    starts.push({ name, input });
    return { started: true, executionArn: `arn:execution:${name}` };
  };
  return { store, context, orderId, starts, start };
};

/**
 * The deployed saga run on that input, every Task answering PROCEED (as sagaHandler wraps it): whether its paths all
 * find what they read. Answers the Tasks it ran, each with the order id its input carried.
 */
const runSaga = async (input: object) => {
  const definition = JSON.parse(await readFile(join(projectRoot, 'statemachines', 'order-saga.asl.json'), 'utf8'));
  const ran: string[] = [];
  const proceed = (task: string) => async (taskInput: unknown) => {
    const { orderId, placed } = taskInput as { orderId?: string; placed?: { orderId?: string } };
    ran.push(`${task} ${orderId ?? '?'}/${placed?.orderId ?? '?'}`);
    return { outcome: 'PROCEED' };
  };
  const tasks = ['AuthorizePayment', 'AwaitPayment', 'GiveUpPayment', 'ConfirmOrder', 'AbandonOrder', 'RejectOrder'];
  const machine = new StateMachine(definition as never);
  const { result } = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: Object.fromEntries(tasks.map((task) => [task, proceed(task)])) },
    context: { Execution: { Name: 'by-hand', StartTime: new Date().toISOString() } },
  });
  await result;
  return ran;
};

describe('startOrderSaga: an order’s saga started by hand, as its starter would', () => {
  it('starts it with the starter’s input, which the deployed saga runs through; the order id alone fails it', async () => {
    const { store, orderId, starts, start } = await given();
    const started = await startOrderSaga(store, orderId, start);
    expect(started).toMatchObject({ outcome: 'STARTED', executionArn: `arn:execution:${orderId}` });
    expect(starts).toEqual([
      {
        name: orderId,
        input: {
          orderId,
          correlationId: expect.any(String),
          placed: expect.objectContaining({
            orderId,
            customerId: 'customer-1',
            total: { amount: 2500, currency: 'EUR' },
          }),
          placedAt: expect.any(String),
        },
      },
    ]);
    // Never the payment token: an execution's input stays in its history.
    expect(JSON.stringify(starts)).not.toContain('tok_visa');
    // The happy path, each Task handed the order the execution carries.
    await expect(runSaga(starts[0]?.input ?? {})).resolves.toEqual([
      `AuthorizePayment ${orderId}/${orderId}`,
      `ConfirmOrder ${orderId}/${orderId}`,
    ]);
    // What the runbook once said to send: every Task reads `$.placed`, so the execution fails at its first state.
    await expect(runSaga({ orderId, correlationId: 'c-1' })).rejects.toThrow(/\$\.placed/);
  });

  it('says when an execution of that name exists, and starts none for an order that is settled or unknown', async () => {
    const { store, context, orderId, start } = await given();
    expect(await startOrderSaga(store, orderId, async () => ({ started: false }))).toEqual({
      outcome: 'ALREADY_STARTED',
    });
    expect(await startOrderSaga(store, 'no-such-order', start)).toEqual({ outcome: 'NO_SUCH_ORDER' });
    await cancelOrder({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, context);
    expect(await startOrderSaga(store, orderId, start)).toEqual({ outcome: 'NOT_PENDING', status: 'CANCELLED' });
  });
});
