import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { executionArnOf } from '../adapters/executions.js';
import { orderAggregate } from '../application/aggregates.js';
import { parseEvent } from '../application/handleCommand.js';
import { type SagaInput, sagaInput } from '../application/saga.js';
import { order, orderStreamId, type OrderStatus } from '../domain/order/index.js';
import { fold } from '../domain/shared/decider.js';
import type { EventStore } from '../eventstore/types.js';

/** Starts one execution of the order saga, named by the order id; false when one of that name exists already. */
export type StartExecution = (
  name: string,
  input: SagaInput,
) => Promise<{ started: true; executionArn: string } | { started: false }>;

/** What {@link startOrderSaga} did. */
export type SagaStart =
  | { outcome: 'STARTED'; executionArn: string; input: SagaInput }
  | { outcome: 'ALREADY_STARTED' }
  | { outcome: 'NOT_PENDING'; status: Exclude<OrderStatus, 'PENDING'> }
  | { outcome: 'NO_STOCK_HELD' }
  | { outcome: 'NO_SUCH_ORDER' };

/**
 * Starts an order's saga by hand, as `startSaga` would have from its StockReserved (`npm run order -- <orderId>
 * --start-saga`): when the starter's record went to the failure queue, or an EXPRESS execution failed. Its input is
 * the starter's own (`sagaInput`: the order as placed, and when), which every Task reads; an input of the order id
 * alone fails the execution at its first state. Only a PENDING order that holds its stock has a saga to run; the
 * steps are idempotent, so one that already ran carries on where the order stands.
 */
export const startOrderSaga = async (store: EventStore, orderId: string, start: StartExecution): Promise<SagaStart> => {
  // One read, strongly consistent: the events are folded for the status, and give the saga its input.
  const events = await store.readStream(orderStreamId(orderId));
  const state = fold(
    order,
    events.map((event) => parseEvent(orderAggregate.events, event)),
    order.initialState(),
  );
  if (state.status === 'NONE') return { outcome: 'NO_SUCH_ORDER' };
  if (state.status !== 'PENDING') return { outcome: 'NOT_PENDING', status: state.status };
  const reserved = events.find((event) => event.type === 'StockReserved');
  if (!reserved) return { outcome: 'NO_STOCK_HELD' };
  const input = await sagaInput(reserved, events[0], store);
  const started = await start(orderId, input);
  return started.started
    ? { outcome: 'STARTED', executionArn: started.executionArn, input }
    : { outcome: 'ALREADY_STARTED' };
};

/**
 * {@link StartExecution} on the stage's order saga (its ARN, or how to find it once a start needs it), and the status
 * of an execution it found already there (by name), for what to tell the operator. On STANDARD it asks first: Step Functions answers a start with the same name and
 * input as a running execution with success, starting nothing, and "started" must never be said of one already there.
 */
export type SagaStarter = {
  start: StartExecution;
  /** The status of the execution a start found already there by that name; undefined if none was (or on EXPRESS). */
  existing(name: string): string | undefined;
};

export const sagaStarter = (
  sfn: Pick<SFNClient, 'send'>,
  stateMachineArn: string | (() => Promise<string>),
  type: 'STANDARD' | 'EXPRESS',
): SagaStarter => {
  const found = new Map<string, string>();
  const arn = typeof stateMachineArn === 'string' ? async () => stateMachineArn : stateMachineArn;
  const start: StartExecution = async (name, input) => {
    const stateMachineArn = await arn();
    if (type === 'STANDARD') {
      const executionArn = executionArnOf(stateMachineArn, name);
      try {
        const { status = 'ended' } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        found.set(name, status);
        return { started: false };
      } catch (error) {
        if (!(error instanceof ExecutionDoesNotExist)) throw error;
      }
    }
    try {
      const { executionArn = '' } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return { started: true, executionArn };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return { started: false };
      throw error;
    }
  };
  return { start, existing: (name) => found.get(name) };
};
