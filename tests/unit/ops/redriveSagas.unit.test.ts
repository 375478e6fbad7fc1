import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { cancelOrder, placeOrder } from '../../../application/orders.js';
import type { SagaInput } from '../../../application/saga.js';
import { redriveSagas } from '../../../ops/redriveSagas.js';
import { type SagaStarter, sagaStarter } from '../../../ops/startSaga.js';
import { memoryParking } from '../../support/memoryParking.js';
import { memoryParkingLot } from '../../support/memoryParkingLot.js';
import { memoryStore, testContext } from '../../support/memoryStore.js';
import { twoMugsPlaced } from '../../support/shop.js';

const arn = 'arn:aws:states:eu-west-1:000000000000:stateMachine:orderflow-unit-order-saga';
const input = { orderId: 'o-1' } as SagaInput;

/** An SFN client that answers each command as `answer` says, and records what it was sent. */
const sfn = (answer: (command: unknown) => unknown) => {
  const sent: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      return answer(command);
    },
  } as unknown as Pick<SFNClient, 'send'>;
  return { client, sent };
};
const notThere = () => {
  throw new ExecutionDoesNotExist({ message: 'none', $metadata: {} });
};

describe('sagaStarter', () => {
  it('on STANDARD asks first, and starts nothing where an execution of the name is there, telling its status', async () => {
    const { client, sent } = sfn(() => ({ status: 'FAILED' }));
    const starter = sagaStarter(client, arn, 'STANDARD');
    expect(await starter.start('o-1', input)).toEqual({ started: false });
    expect(sent.map((c) => c?.constructor)).toEqual([DescribeExecutionCommand]);
    expect(starter.existing('o-1')).toBe('FAILED');
  });

  it('starts with the name and the input as given, once none is there; on EXPRESS without asking', async () => {
    for (const type of ['STANDARD', 'EXPRESS'] as const) {
      const { client, sent } = sfn((command) =>
        command instanceof DescribeExecutionCommand ? notThere() : { executionArn: 'arn:execution:o-1' },
      );
      const starter = sagaStarter(client, async () => arn, type);
      expect(await starter.start('o-1', input)).toEqual({ started: true, executionArn: 'arn:execution:o-1' });
      const start = sent.at(-1) as StartExecutionCommand;
      expect(start).toBeInstanceOf(StartExecutionCommand);
      expect(start.input).toEqual({ stateMachineArn: arn, name: 'o-1', input: JSON.stringify(input) });
      expect(sent.length).toBe(type === 'STANDARD' ? 2 : 1);
      expect(starter.existing('o-1')).toBeUndefined();
    }
  });

  it('says not started when the start finds the name taken, and passes on any other failure', async () => {
    const taken = sfn(() => {
      throw new ExecutionAlreadyExists({ message: 'taken', $metadata: {} });
    });
    expect(await sagaStarter(taken.client, arn, 'EXPRESS').start('o-1', input)).toEqual({ started: false });
    const denied = sfn(() => {
      throw new Error('AccessDenied');
    });
    await expect(sagaStarter(denied.client, arn, 'STANDARD').start('o-1', input)).rejects.toThrow('AccessDenied');
  });
});

describe('redriveSagas', () => {
  const given = async () => {
    const store = memoryStore();
    const context = testContext(store);
    const orderId = await twoMugsPlaced(context);
    const lot = memoryParkingLot();
    const park = (projection: 'startSaga' | 'compensateCancellation', streamId: string) =>
      lot.park({ projection, streamId, version: 1, error: 'earlier', parkedAt: '' });
    const compensations = memoryParking();
    const starter = (existing?: string): SagaStarter => ({
      start: async () => ({ started: false }),
      existing: () => existing,
    });
    const redrive = (s: SagaStarter, only?: string) =>
      redriveSagas({ parking: lot, store, starter: s, parkCompensation: compensations.parking.park }, only);
    return { store, context, orderId, lot, park, starter, redrive, compensations };
  };

  it('takes up only the stream it is given', async () => {
    const { orderId, park, lot, starter, redrive } = await given();
    await park('startSaga', `order-${orderId}`);
    await park('startSaga', 'order-other');
    expect((await redrive(starter(), 'order-other')).map((r) => r.streamId)).toEqual(['order-other']);
    expect((await lot.list('startSaga')).map((p) => p.streamId)).toEqual([`order-${orderId}`]);
  });

  it('counts a saga started already as done while its execution runs, has succeeded, or cannot be asked (EXPRESS)', async () => {
    for (const existing of [undefined, 'RUNNING', 'SUCCEEDED']) {
      const { orderId, park, lot, starter, redrive } = await given();
      await park('startSaga', `order-${orderId}`);
      expect(await redrive(starter(existing))).toEqual([
        expect.objectContaining({ outcome: 'completed', detail: 'its saga was started already' }),
      ]);
      expect(await lot.list('startSaga')).toEqual([]);
    }
  });

  it('is done with an order that has no saga to start, or does not exist', async () => {
    const { orderId, context, park, lot, starter, redrive } = await given();
    await cancelOrder({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, context);
    await park('startSaga', `order-${orderId}`);
    await park('startSaga', 'order-unknown');
    expect((await redrive(starter())).map(({ outcome, detail }) => ({ outcome, detail }))).toEqual([
      { outcome: 'completed', detail: 'the order is CANCELLED: no saga to start' },
      { outcome: 'completed', detail: 'no such order' },
    ]);
    expect(await lot.list('startSaga')).toEqual([]);
  });

  it('keeps an entry whose work failed even when parking it again fails too, and goes on with the others', async () => {
    const { orderId, park, lot, redrive, compensations, context } = await given();
    await park('startSaga', `order-${orderId}`);
    const { orderId: other } = await placeOrder(
      { customerId: 'customer-1', items: [{ sku: 'MUG-1', quantity: 1 }], paymentToken: 'tok_visa' },
      context,
    );
    await cancelOrder({ orderId: other, caller: { sub: 'customer-1', isAdmin: false } }, context);
    await park('compensateCancellation', `order-${other}`);
    const failing: SagaStarter = {
      start: () => Promise.reject(new Error('throttled')),
      existing: () => undefined,
    };
    const parkAgain = lot.park;
    lot.park = () => Promise.reject(new Error('AccessDenied'));
    const results = await redrive(failing);
    lot.park = parkAgain;
    expect(results).toEqual([
      expect.objectContaining({ consumer: 'startSaga', outcome: 'parked-again', detail: 'Error: throttled' }),
      expect.objectContaining({ consumer: 'compensateCancellation', outcome: 'completed' }),
    ]);
    expect((await lot.list('startSaga')).map((p) => p.streamId)).toEqual([`order-${orderId}`]);
    expect(compensations.parked).toEqual([expect.objectContaining({ orderId: other, kind: 'CANCELLATION' })]);
  });
});
