import { compensationNames } from '../adapters/compensationParking.js';
import { executionArnOf } from '../adapters/executions.js';
import type { Circuit } from '../application/circuitBreaker.js';
import { PAYMENT_CIRCUIT } from '../application/paymentGateway.js';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  paginateGetExecutionHistory,
  paginateListStateMachines,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { order, OrderEvent, type OrderState, orderStreamId } from '../domain/order/index.js';
import { payment, PaymentEvent, paymentStreamId } from '../domain/payment/index.js';
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { ZodType } from 'zod';
import { isTransient } from '../eventstore/errors.js';
import { type EventItem, itemEvents, storedItemEvents } from '../eventstore/eventItems.js';
import { STREAM_ID } from '../eventstore/tableKeys.js';
import type { StoredEvent } from '../eventstore/types.js';
import type { OrderView } from '../projections/orders.js';
import { parkedIn } from '../projections/readModelVersions.js';
import { type SagaConsumer, sagaConsumers } from '../functions/streams/sagaConsumers.js';
import type { StageClients } from './stage.js';
import { newerSchema } from '../eventstore/upcasting.js';

/** One event of the order, as the report shows it: the envelope's facts, and its data without secrets. */
export type ReportedEvent = {
  streamId: string;
  version: number;
  type: string;
  recordedAt: string;
  correlationId: string;
  actor: string;
  data: Record<string, unknown>;
};

/** Where the saga of an order is, as Step Functions knows it. */
export type SagaReport =
  | {
      kind: 'execution';
      executionArn: string;
      status: string;
      startDate?: string;
      stopDate?: string;
      error?: string;
      cause?: string;
      /**
       * The states the execution went through, in order: every state entered, from its history; or, where the
       * history is not served, the Task states that left a `<State>Result` or `<State>Error`
       * in the output of a finished execution.
       */
      states: string[];
      statesFrom: 'history' | 'output' | 'none';
    }
  | { kind: 'not-started'; stateMachineArn: string }
  | {
      /** EXPRESS executions keep no record Step Functions can be asked about: their log group is the only one. */
      kind: 'express';
      stateMachineName: string;
      logGroup: string;
    }
  /** Step Functions could not be asked (a permission missing, a throttle): `unread` says why. */
  | { kind: 'unknown' };

/** The first event of a stream the domain cannot read, where its fold stopped. */
export type Unreadable = { version: number; type: string; reason: string };

export type FromEvents = {
  /** As of the last event folded: before {@link FromEvents.unreadable}, if an event could not be read. */
  status: OrderState['status'];
  version: number;
  /** The first event the domain cannot read, where the fold stopped. */
  unreadable?: Unreadable;
};

export type OrderReport = {
  orderId: string;
  stage: string;
  /** The order as its events say, folded by the domain's own `evolve`, and the version of its stream. */
  fromEvents: FromEvents;
  /** The order's stream and its payment's, merged in the order they were recorded. */
  events: ReportedEvent[];
  /** The read model (the `orders` table), with the stream version it has applied. */
  view: { view: OrderView; version: number } | undefined;
  /** Whether the live read model parked the order's stream: an event the projection could not apply. */
  viewParked: boolean;
  /**
   * The saga's consumers that parked the order's stream, on a change they could not read: `startSaga` (its saga never
   * started), `compensateCancellation` (its cancellation's payment was never voided or refunded).
   */
  sagaParked: SagaConsumer[];
  saga: SagaReport;
  /** The order's parked compensations (executions `<orderId>`, `<orderId>-2`, …), oldest first. */
  compensations: { name: string; status: string; startDate?: string; stopDate?: string }[];
  /**
   * While the order is PENDING and its payment step parked: since when it waits for the payment gateway, the bound it
   * is given up at, and the gateway's circuit breaker as it stands (absent: never tripped).
   */
  awaitingPayment?: { since: string; until: string; circuit: Circuit | undefined };
  /**
   * The order is settled without its payment (REJECTED or CANCELLED), yet the payment is still authorized and no
   * compensation runs to void or refund it: one was lost (a failed compensation, or a stack stopped under it). Never
   * said of a payment whose events cannot all be read: a void this code cannot read may be the one that settled it.
   */
  paymentLeftAuthorized?: boolean;
  /** The first event of the payment's stream the domain cannot read: the payment's status is not known past it. */
  paymentUnreadable?: Unreadable;
  /**
   * The sources that could not be read, and why: the report shows the rest. Only the events themselves are needed;
   * an operator short of one permission still learns what the others say.
   */
  unread: { source: string; error: string }[];
};

/**
 * A stream's events read from the table itself, each upcast as the store would: the store's reads refuse a stream whose
 * versions do not run on (a version twice, one missing), which is when an operator most needs to see them.
 */
const storedStream = async (clients: StageClients, streamId: string): Promise<StoredEvent[]> => {
  const events: StoredEvent[] = [];
  const pages = paginateQuery(
    { client: clients.client },
    {
      TableName: clients.tables.events,
      ConsistentRead: true,
      KeyConditionExpression: '#streamId = :streamId',
      ExpressionAttributeNames: { '#streamId': STREAM_ID },
      ExpressionAttributeValues: { ':streamId': streamId },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      // Upcast as the store reads them, so an older event folds as it would there; as stored if it cannot be (a
      // missing step), which the fold then names.
      const stored = item as EventItem;
      try {
        events.push(...itemEvents(stored, clients.schemas));
      } catch {
        events.push(...storedItemEvents(stored));
      }
    }
  }
  return events;
};

export class OrderNotFoundError extends Error {
  constructor(readonly orderId: string) {
    super(`no such order: ${orderId}`);
    this.name = 'OrderNotFoundError';
  }
}

/** Keys whose values never leave the event store through this report (the payment token of OrderPlaced). */
const secretKeys = new Set(['paymentToken']);
const withoutSecrets = (data: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, secretKeys.has(key) ? '[redacted]' : value]));

const reported = (event: StoredEvent): ReportedEvent => ({
  streamId: event.streamId,
  version: event.version,
  type: event.type,
  recordedAt: event.recordedAt,
  correlationId: event.metadata.correlationId,
  actor: event.metadata.actor,
  data: withoutSecrets(event.data),
});

const iso = (date: Date | undefined): string | undefined => date?.toISOString();

const enteredStates = (events: HistoryEvent[]): string[] =>
  events.flatMap((event) => (event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : []));

/** The Task states whose ResultPath (`$.<State>Result`) or Catch (`$.<State>Error`) left a mark in the output. */
const statesInOutput = (output: string | undefined): string[] => {
  if (!output) return [];
  const parsed = JSON.parse(output) as unknown;
  if (typeof parsed !== 'object' || parsed === null) return [];
  return Object.keys(parsed).flatMap((key) => {
    const state = /^(\w+?)(?:Result|Error)$/.exec(key)?.[1];
    return state ? [state] : [];
  });
};

/** A state machine's ARN: the one the functions are given (locally), or the deployed one of that name. */
const stateMachineArn = async (clients: StageClients, { name, arn }: { name: string; arn?: string }) => {
  if (arn) return arn;
  for await (const page of paginateListStateMachines({ client: clients.sfn }, {})) {
    const found = page.stateMachines?.find((machine) => machine.name === name);
    if (found?.stateMachineArn) return found.stateMachineArn;
  }
  throw new Error(`No state machine ${name} in this account and region: is the stage deployed?`);
};

/** The ARN of the stage's order saga: the one the saga starter is given, or the deployed one of that name. */
export const sagaStateMachineArn = (clients: StageClients): Promise<string> =>
  stateMachineArn(clients, clients.orderSaga);

/**
 * The order as its events say, folded up to the first event this code cannot read (a type or shape from a newer
 * writer, or a bad write): the report still shows everything else, and says where the fold stopped, which is what an
 * operator needs then; `--compensate` acts on the same state.
 */
export const foldOrder = (events: StoredEvent[]): { state: OrderState; unreadable?: Unreadable } =>
  foldReadable(order, OrderEvent, events);

/** A stream folded by its decider up to the first event its schema does not read, which is named. */
const foldReadable = <S, E>(
  decider: { initialState: () => S; evolve: (state: S, event: E) => S },
  schema: ZodType<E>,
  events: StoredEvent[],
): { state: S; unreadable?: Unreadable } => {
  let state = decider.initialState();
  for (const event of events) {
    const newer = newerSchema(event);
    if (newer) return { state, unreadable: { version: event.version, type: event.type, reason: newer.message } };
    const parsed = schema.safeParse({ type: event.type, data: event.data });
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? 'it does not parse';
      return { state, unreadable: { version: event.version, type: event.type, reason } };
    }
    state = decider.evolve(state, parsed.data);
  }
  return { state };
};

/** The ARN of the stage's compensation state machine, where compensations are parked. */
export const compensationStateMachineArn = (clients: StageClients): Promise<string> =>
  stateMachineArn(clients, clients.compensation);

/** The order's parked compensations, by the names the parking gives them (adapters/compensationParking.ts). */
const compensationsReport = async (clients: StageClients, orderId: string): Promise<OrderReport['compensations']> => {
  const machineArn = await compensationStateMachineArn(clients);
  const found: OrderReport['compensations'] = [];
  for (const name of compensationNames(orderId)) {
    try {
      const execution = await clients.sfn.send(
        new DescribeExecutionCommand({ executionArn: executionArnOf(machineArn, name) }),
      );
      found.push({
        name,
        status: execution.status ?? 'UNKNOWN',
        ...(execution.startDate ? { startDate: iso(execution.startDate) } : {}),
        ...(execution.stopDate ? { stopDate: iso(execution.stopDate) } : {}),
      });
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) break;
      throw error;
    }
  }
  return found;
};

const sagaReport = async (clients: StageClients, orderId: string): Promise<SagaReport> => {
  const { name, type, logGroup } = clients.orderSaga;
  if (type === 'EXPRESS') return { kind: 'express', stateMachineName: name, logGroup };
  const stateMachineArn = await sagaStateMachineArn(clients);
  // A STANDARD execution is named by its order id, so its ARN follows from the state machine's.
  const executionArn = executionArnOf(stateMachineArn, orderId);
  try {
    const execution = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const history = await readHistory(clients, executionArn);
    const states = history ? enteredStates(history) : statesInOutput(execution.output);
    return {
      kind: 'execution',
      executionArn,
      status: execution.status ?? 'UNKNOWN',
      ...(execution.startDate ? { startDate: iso(execution.startDate) } : {}),
      ...(execution.stopDate ? { stopDate: iso(execution.stopDate) } : {}),
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
      states,
      statesFrom: history ? 'history' : states.length > 0 ? 'output' : 'none',
    };
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist || (error as Error).name === 'ExecutionDoesNotExist') {
      return { kind: 'not-started', stateMachineArn };
    }
    throw error;
  }
};

/** The execution's history, or undefined where a Step Functions endpoint does not serve it. */
const readHistory = async (clients: StageClients, executionArn: string): Promise<HistoryEvent[] | undefined> => {
  const events: HistoryEvent[] = [];
  try {
    for await (const page of paginateGetExecutionHistory(
      { client: clients.sfn },
      { executionArn, includeExecutionData: false },
    )) {
      events.push(...(page.events ?? []));
    }
    return events;
  } catch (error) {
    if ((error as Error).name === 'UnknownOperationException') return undefined;
    throw error;
  }
};

/**
 * Everything the stage knows about one order, from its three sources: the events in the store, the read model, and
 * the saga's execution. Throws {@link OrderNotFoundError} when none of them knows the order.
 *
 * @example
 * const report = await orderReport(await stageClients('local'), '3f0c…');
 * report.view?.view.status; // 'CONFIRMED'
 */
export const orderReport = async (clients: StageClients, orderId: string): Promise<OrderReport> => {
  const streamId = orderStreamId(orderId);
  const unread: OrderReport['unread'] = [];
  const noteUnread = (source: string, error: unknown) =>
    unread.push({ source, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  const orElse = <T>(source: string, read: () => Promise<T>, fallback: T): Promise<T> =>
    read().catch((error: unknown) => {
      noteUnread(source, error);
      return fallback;
    });
  const readModel = () =>
    clients.liveSlot('orders').then(async (slot) => ({
      view: await clients.viewStore('orders', slot).get({ orderId }),
      parked: await clients.parking.parked(parkedIn('orders', slot), [streamId]),
    }));
  // A stream the store refuses (its versions broken, or an upcaster that throws on one of its events) is read as
  // stored, each item upcast where it can be: the fold below then names the event it stops at.
  const stream = (id: string) =>
    clients.store.readStream(id).catch((error: unknown) => {
      if (isTransient(error)) throw error;
      noteUnread(`${id}'s events (as the store reads them)`, error);
      return storedStream(clients, id);
    });
  const sagaParkings = async (): Promise<SagaConsumer[]> => {
    const each = await Promise.all(sagaConsumers.map((name) => clients.parking.parked(name, [streamId])));
    return sagaConsumers.filter((_, i) => each[i]?.has(streamId));
  };
  const [orderEvents, paymentEvents, { view, parked }, sagaParked, saga, compensations] = await Promise.all([
    stream(streamId),
    stream(paymentStreamId(orderId)),
    orElse('read model', readModel, { view: undefined, parked: new Set<string>() }),
    orElse('parked saga changes', sagaParkings, []),
    orElse<SagaReport>('saga', () => sagaReport(clients, orderId), { kind: 'unknown' }),
    orElse('parked compensations', () => compensationsReport(clients, orderId), []),
  ]);
  const events = [...orderEvents, ...paymentEvents]
    .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt))
    .map(reported);
  if (events.length === 0 && !view && saga.kind !== 'execution') throw new OrderNotFoundError(orderId);
  const { state, unreadable } = foldOrder(orderEvents);
  const fromEvents: FromEvents = {
    status: state.status,
    version: orderEvents.at(-1)?.version ?? 0,
    ...(unreadable ? { unreadable } : {}),
  };
  const waiting = state.status === 'PENDING' ? state.awaitingPayment : undefined;
  const awaitingPayment = waiting && {
    ...waiting,
    circuit: await orElse(
      'circuit breaker',
      async () => (await clients.circuits.read(PAYMENT_CIRCUIT))?.circuit,
      undefined,
    ),
  };
  // The payment as its own events say, folded as the order's is, up to an event this code cannot read; a
  // compensation still running (or waiting to be redriven) will settle it.
  const { state: paymentState, unreadable: paymentUnreadable } = foldReadable(payment, PaymentEvent, paymentEvents);
  const compensating = compensations.some((c) => c.status === 'RUNNING' || c.status === 'PENDING_REDRIVE');
  const paymentLeftAuthorized =
    !paymentUnreadable &&
    paymentState.status === 'AUTHORIZED' &&
    (state.status === 'REJECTED' || state.status === 'CANCELLED') &&
    !compensating;
  return {
    orderId,
    stage: clients.stage,
    fromEvents,
    events,
    view,
    viewParked: parked.has(streamId),
    sagaParked,
    saga,
    compensations,
    ...(awaitingPayment ? { awaitingPayment } : {}),
    ...(paymentLeftAuthorized ? { paymentLeftAuthorized } : {}),
    ...(paymentUnreadable ? { paymentUnreadable } : {}),
    unread,
  };
};

/** The report's saga line: a status, and what it means. */
export const sagaSummary = (report: OrderReport): [string, string] => {
  const { saga } = report;
  switch (saga.kind) {
    case 'execution':
      // Without a history (the local stand-in serves none), only Task states that left a mark in the output are known.
      return [
        saga.status,
        saga.states.join(' → ') || (saga.status === 'RUNNING' ? '(no states known yet)' : '(no states recorded)'),
      ];
    case 'not-started':
      // Rejected out of stock by the write that placed it: such an order starts no saga (ADR 0014), and none is missing.
      if (report.events.some((event) => event.type === 'OrderRejected' && event.data.reason === 'OUT_OF_STOCK')) {
        return ['NONE', 'none expected: rejected OUT_OF_STOCK when placed, which starts no saga'];
      }
      // Parked by the saga starter: it never started, whatever the events say now.
      if (report.sagaParked.includes('startSaga')) {
        return ['NOT STARTED', 'startSaga parked its change (below): no saga was started for it'];
      }
      // A settled order's saga ended, and its record may be gone: not found, not a saga that never started.
      return [
        report.fromEvents.status === 'PENDING' ? 'NOT STARTED' : 'NOT FOUND',
        report.stage === 'local'
          ? 'no execution named by this order id (the local stand-in forgets ended executions when npm start stops)'
          : 'no execution named by this order id',
      ];
    case 'express':
      return ['EXPRESS', `no execution record; see log group ${saga.logGroup}`];
    case 'unknown':
      return ['UNKNOWN', 'could not be read (below)'];
  }
};
