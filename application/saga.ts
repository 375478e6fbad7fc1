import {
  keepsPayment,
  order,
  type ExistingOrder,
  orderStreamId,
  type OrderState,
  type OrderStatus,
  type PlacedOrder,
  type RejectionReason,
} from '../domain/order/index.js';
import { payment, type PaymentState, paymentStreamId } from '../domain/payment/index.js';
import { fold } from '../domain/shared/decider.js';
import { OrderNotFoundError } from '../domain/shared/errors.js';
import { orderAggregate, paymentAggregate } from './aggregates.js';
import type { EventStore, StoredEvent } from '../eventstore/types.js';
import { type CommandContext, handleCommand, load, type Loaded, parseEvent } from './handleCommand.js';
import { isGatewayUnavailable, type PaymentGateway } from './paymentGateway.js';

/**
 * The order saga's steps, one use case each (statemachines/order-saga.asl.json runs them). Each is safe to run
 * twice, concurrently too (Lambda and Step Functions retry; an EXPRESS workflow may start twice): decisions that
 * were already taken append nothing. A step answers `PROCEED`, or `STOP` when the order is no longer PENDING
 * (cancelled meanwhile, or settled by another execution), and throws a named business error that the state
 * machine catches to compensate.
 *
 * The saga starts for an order that holds its stock: placement reserved it, or rejected the order out of stock and
 * started nothing (ADR 0014). Every step that moves stock appends to the order's own stream, and the same write moves
 * its SKUs' balances (ADR 0013): a cancellation appended meanwhile makes the step lose the race on the order's version,
 * read again and decide on what it finds.
 */
export type StepOutcome = 'PROCEED' | 'STOP';

/** Business failure: the gateway declined the payment. Caught by the saga as `PaymentDeclinedError`. */
export class PaymentDeclinedError extends Error {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super(`Order ${orderId}: payment declined (${reason}).`);
    this.name = 'PaymentDeclinedError';
  }
}

/**
 * The order as placed: the saga's execution carries it from the `OrderPlaced` that started it, so its steps need not
 * read the order to know its lines and total, which never change. Not its payment token: an execution's input is
 * kept in its history (90 days for STANDARD) and in the local stand-in's file, and anyone who may describe an
 * execution would read customers' tokens there. The payment step reads the order for its token.
 */
export type CarriedOrder = Omit<PlacedOrder, 'paymentToken'>;

/** What the state the saga assumes holds in place of the token it does not carry; no decision a step makes reads it. */
const NOT_CARRIED = '[not carried]';

export const carried = ({ paymentToken: _, ...order }: PlacedOrder): CarriedOrder => order;

/**
 * The order as a step expects to find it, without reading it: placed with its stock reserved, at the version
 * placement's append leaves every order that starts a saga (2: ADR 0014). If anything else was appended (a
 * cancellation, an awaited payment), the step's version condition fails and it reads the order instead.
 */
const assumedOrder = (placed: CarriedOrder | undefined): Loaded<OrderState> | undefined => {
  if (!placed) return undefined;
  const state = order.evolve(order.initialState(), {
    type: 'OrderPlaced',
    data: { ...placed, paymentToken: NOT_CARRIED },
  });
  // Reserved as the decider reserves it, not spelled out again here; its version is where placement's one append
  // ends, never inside it, which the store's concurrency needs (ADR 0016).
  const reservation = order.decide({ type: 'ReserveStock', data: { orderId: placed.orderId } }, state);
  return { state: fold(order, reservation, state), version: 1 + reservation.length };
};

/**
 * The order as its stream stands; OrderNotFoundError if it has none. `eventually`: read eventually consistently, and
 * strongly only when the replica has nothing of it yet (one `Query` in the common case, whose read units are the same
 * for the few small items an order has as for one).
 */
const loadOrder = async (
  orderId: string,
  context: CommandContext,
  { eventually = false }: { eventually?: boolean } = {},
): Promise<ExistingOrder> => {
  const read = (consistent: boolean) => load(context.store, orderAggregate, orderStreamId(orderId), { consistent });
  const first = await read(!eventually);
  const { state } = eventually && first.state.status === 'NONE' ? await read(true) : first;
  if (state.status === 'NONE') throw new OrderNotFoundError(orderId);
  return state;
};

/** An order's first stored event as its `OrderPlaced`: its data and when; OrderNotFoundError if it is not one. */
const asPlaced = (first: StoredEvent | undefined, orderId: string): { placed: PlacedOrder; recordedAt: string } => {
  const event = first && parseEvent(orderAggregate.events, first);
  if (!first || event?.type !== 'OrderPlaced') throw new OrderNotFoundError(orderId);
  return { placed: event.data, recordedAt: first.recordedAt };
};

/**
 * Authorizes the order's total through the gateway, keyed by the order id, and records the answer; an order no
 * longer PENDING when the step reads it is not charged. A decline is recorded, then thrown. The order is not read
 * again afterwards (ADR 0015): if it was cancelled or given up (rejected
 * `UNAVAILABLE`) while the gateway answered, the compensation that settled it owns its payment. It refunds what the
 * payment stream records, and with nothing recorded it voids the order's key at the gateway, which refunds an
 * approval that came first and declines one that comes later. The next step, `ConfirmOrder`, then finds the order
 * settled and stops.
 */
export const authorizePayment = async (
  orderId: string,
  context: CommandContext,
  gateway: PaymentGateway,
  placed?: CarriedOrder,
): Promise<StepOutcome> => {
  // The token is not carried, so the order is read all the same: an order cancelled (or given up) before this step
  // is not charged. One cancelled while the gateway answers, or that the replica has not shown yet, is the
  // compensation's to refund (ADR 0015).
  const order = await loadOrder(orderId, context, { eventually: placed !== undefined });
  if (order.status !== 'PENDING') return 'STOP';
  // A free order (every line priced 0) has nothing to pay: no gateway takes an authorization of nothing (Stripe, for
  // one, refuses any amount below its minimum), and a refusal would reject a gift. Nothing is recorded: a
  // cancellation finds no payment, and voids a key the gateway never saw, which holds nothing.
  if (order.total.amount === 0) return 'PROCEED';
  // Carried, the payment is assumed not yet authorized: the gateway answers a repeated key as it did the first time,
  // and the append's condition sends a repeat to the recorded answer.
  const none = { state: payment.initialState(), version: 0 };
  const { state: current } = placed ? none : await load(context.store, paymentAggregate, paymentStreamId(orderId));
  if (current.status === 'DECLINED') throw new PaymentDeclinedError(orderId, current.reason);
  if (current.status === 'NONE') {
    const answer = await gateway.authorize({ idempotencyKey: orderId, token: order.paymentToken, amount: order.total });
    const { state } = await handleCommand(
      paymentAggregate,
      paymentStreamId(orderId),
      (state) =>
        payment.decide(
          answer.outcome === 'DECLINED'
            ? { type: 'DeclinePayment', data: { orderId, amount: order.total, reason: answer.reason } }
            : {
                type: 'AuthorizePayment',
                data: { orderId, amount: order.total, gatewayReference: answer.reference },
              },
          state,
        ),
      context,
      placed && none,
    );
    if (state.status === 'DECLINED') throw new PaymentDeclinedError(orderId, state.reason);
  }
  return 'PROCEED';
};

/** How the parked payment step waits (stage params; ADR 0007). */
export type PaymentWaitPolicy = {
  /** The first wait. */
  firstWaitSeconds: number;
  /** No wait is longer: the most an order waits after the gateway is back. */
  maxWaitSeconds: number;
  /** From the execution's start: past it, the order is rejected PAYMENT_UNAVAILABLE. */
  boundSeconds: number;
};

/** What the parked payment step does next: wait and try again, give the order up, or stop (it settled meanwhile). */
export type PaymentWait = { outcome: 'WAIT'; waitSeconds: number; until: string } | { outcome: 'GIVE_UP' | 'STOP' };

/**
 * The next wait of a parked payment step, in whole seconds: as long as it has waited so far (so the waits double),
 * at least the first wait, at most the max, and never past the bound. At or past the bound: give up.
 */
export const nextPaymentWait = ({
  startedAt,
  since,
  now,
  policy,
}: {
  startedAt: Date;
  since: Date;
  now: Date;
  policy: PaymentWaitPolicy;
}): { outcome: 'WAIT'; waitSeconds: number } | { outcome: 'GIVE_UP' } => {
  const remaining = (startedAt.getTime() + policy.boundSeconds * 1000 - now.getTime()) / 1000;
  if (remaining <= 0) return { outcome: 'GIVE_UP' };
  const waited = Math.max(0, (now.getTime() - since.getTime()) / 1000);
  const wait = Math.min(Math.max(policy.firstWaitSeconds, waited), policy.maxWaitSeconds, remaining);
  return { outcome: 'WAIT', waitSeconds: Math.max(1, Math.ceil(wait)) };
};

/**
 * Parks the payment step of an order whose gateway is unavailable (its breaker is open, or it kept failing): the
 * first time, the order records that it awaits payment and until when at most, so `GET /orders/{id}` says why it is
 * still PENDING; each time, it answers how long to wait before trying again. Past the bound, measured from the
 * execution's start (`startedAt`), it answers GIVE_UP, and the saga rejects the order PAYMENT_UNAVAILABLE. An order
 * that is no longer PENDING (cancelled while it waited) answers STOP.
 *
 * The order's recorded bound stands: a saga started again for it (`npm run order -- <id> --start-saga`) gives up when
 * the order said it would, not a bound later, so what the customer was told holds.
 */
export const awaitPayment = async (
  orderId: string,
  { startedAt: executionStart, now, policy }: { startedAt: Date; now: Date; policy: PaymentWaitPolicy },
  context: CommandContext,
): Promise<PaymentWait> => {
  const placed = await loadOrder(orderId, context);
  if (placed.status !== 'PENDING') return { outcome: 'STOP' };
  const recorded = placed.awaitingPayment?.until;
  // The bound counts from when the first wait's saga started: what the order recorded, or this execution's start.
  const startedAt = recorded ? new Date(Date.parse(recorded) - policy.boundSeconds * 1000) : executionStart;
  const until = new Date(startedAt.getTime() + policy.boundSeconds * 1000).toISOString();
  if (nextPaymentWait({ startedAt, since: now, now, policy }).outcome === 'GIVE_UP') return { outcome: 'GIVE_UP' };
  const { state } = await handleCommand(
    orderAggregate,
    orderStreamId(orderId),
    (current) => order.decide({ type: 'AwaitPayment', data: { orderId, since: now.toISOString(), until } }, current),
    context,
  );
  if (state.status !== 'PENDING') return { outcome: 'STOP' };
  const since = new Date(state.awaitingPayment?.since ?? now.toISOString());
  const next = nextPaymentWait({ startedAt, since, now, policy });
  return next.outcome === 'WAIT' ? { ...next, until: state.awaitingPayment?.until ?? until } : next;
};

/**
 * Confirms the order, which sells the units it holds reserved: `OrderConfirmed` and each SKU's balance in one
 * transaction, appended under the order's version condition, which is the check that it is still PENDING. So no
 * unit is ever sold to an order left unconfirmed, and a cancellation appended meanwhile makes the step lose the race,
 * read again and stop. Run again, it appends nothing; a cancelled (or otherwise settled) order stays as it is, and the
 * saga stops.
 */
export const confirmOrder = async (
  orderId: string,
  context: CommandContext,
  placed?: CarriedOrder,
): Promise<StepOutcome> => {
  // When, for the window in which its customer may still cancel it: the append's own time (its `recordedAt`), so that
  // the event and its envelope say one instant.
  const now = context.now ?? new Date();
  const confirmedAt = now.toISOString();
  const { state } = await handleCommand(
    orderAggregate,
    orderStreamId(orderId),
    (current) =>
      current.status === 'PENDING' || current.status === 'CONFIRMED'
        ? order.decide({ type: 'ConfirmOrder', data: { orderId, confirmedAt } }, current)
        : [],
    { ...context, now },
    assumedOrder(placed),
  );
  return state.status === 'CONFIRMED' ? 'PROCEED' : 'STOP';
};

/**
 * Rejects the order for `reason`, which gives back the units it holds reserved in the same write. The saga's
 * RejectOrder state runs after a declined payment, so a carried order is assumed to hold its stock reserved. An order
 * that is no longer PENDING (cancelled meanwhile) stays as it is.
 */
export const rejectOrder = async (
  orderId: string,
  reason: RejectionReason,
  context: CommandContext,
  placed?: CarriedOrder,
): Promise<StepOutcome> => {
  await reject(orderId, reason, context, assumedOrder(placed));
  return 'PROCEED';
};

const reject = (
  orderId: string,
  reason: RejectionReason,
  context: CommandContext,
  assumed: Loaded<OrderState> | undefined,
) =>
  handleCommand(
    orderAggregate,
    orderStreamId(orderId),
    (current) =>
      current.status === 'PENDING' || current.status === 'REJECTED'
        ? order.decide({ type: 'RejectOrder', data: { orderId, reason } }, current)
        : [],
    context,
    assumed,
  );

/** Refunds an authorized payment in full, through the gateway (idempotent by order id) and then in the stream. */
export const refundPayment = async (
  orderId: string,
  context: CommandContext,
  gateway: PaymentGateway,
): Promise<void> => {
  const { state } = await load(context.store, paymentAggregate, paymentStreamId(orderId));
  if (state.status === 'AUTHORIZED') await refundAuthorized(orderId, state, context, gateway);
};

/** Refunds the authorization `state` holds: at the gateway, then in the payment stream. */
const refundAuthorized = async (
  orderId: string,
  state: Extract<PaymentState, { gatewayReference: string }>,
  context: CommandContext,
  gateway: PaymentGateway,
): Promise<void> => {
  await gateway.refund({ idempotencyKey: orderId, reference: state.gatewayReference, amount: state.amount });
  await handleCommand(
    paymentAggregate,
    paymentStreamId(orderId),
    (current) => payment.decide({ type: 'RefundPayment', data: { orderId } }, current),
    context,
  );
};

/**
 * What a cancellation sets off (from its `OrderCancelled` event): the payment voided ({@link voidPayment}). An
 * authorization, recorded or not, is refunded, and with none the order's key is voided at the gateway, so that a saga
 * authorizing it at this moment is declined, or refunded here. The stock needs nothing: the cancellation gave back
 * what the order held in the write that appended it (ADR 0013). Idempotent: run it as often as the stream delivers
 * the event, or a parked retry runs it.
 */
export const compensateCancellation = async (
  orderId: string,
  context: CommandContext,
  gateway: PaymentGateway,
): Promise<PaymentUndone> => {
  const placed = await loadOrder(orderId, context);
  if (placed.status !== 'CANCELLED') return 'NOTHING';
  return voidPayment(orderId, context, gateway);
};

/** What {@link voidPayment} did: refunded an authorization (recorded, or found at the gateway), or found none. */
export type PaymentUndone = 'REFUNDED' | 'NOTHING';

/**
 * Compensation: gives back whatever the order's payment may hold, whether or not the saga recorded it. An
 * authorization in the payment stream is refunded ({@link refundPayment}). With nothing recorded, the authorize step
 * may still have been approved and lost the answer, so the gateway is told to void the order's key: an approval
 * there is refunded and recorded here as authorized and refunded, and no later authorize under the key can succeed.
 * A declined or refunded payment holds nothing. Idempotent.
 */
export const voidPayment = async (
  orderId: string,
  context: CommandContext,
  gateway: PaymentGateway,
): Promise<PaymentUndone> => {
  const { state } = await load(context.store, paymentAggregate, paymentStreamId(orderId));
  if (state.status === 'AUTHORIZED') {
    // The stream was just read: refund what it holds without reading it again.
    await refundAuthorized(orderId, state, context, gateway);
    return 'REFUNDED';
  }
  if (state.status !== 'NONE') return 'NOTHING';
  const voided = await gateway.voidAuthorization({ idempotencyKey: orderId });
  if (voided.outcome === 'NOTHING_AUTHORIZED') return 'NOTHING';
  const { reference: gatewayReference, amount } = voided.authorization;
  await handleCommand(
    paymentAggregate,
    paymentStreamId(orderId),
    (current) => {
      const authorized = payment.decide(
        { type: 'AuthorizePayment', data: { orderId, amount, gatewayReference } },
        current,
      );
      const after = authorized.reduce(payment.evolve, current);
      return [...authorized, ...payment.decide({ type: 'RefundPayment', data: { orderId } }, after)];
    },
    context,
  );
  return 'REFUNDED';
};

/**
 * Where a compensation's payment part waits while the payment gateway is unavailable (adapters/compensationParking.ts:
 * an execution of the compensation state machine, named by the order id (`-2`, … after one), that retries it with backoff, for days if
 * need be). The change stream's retries, and an EXPRESS execution's five minutes, cannot outlast an outage; this can.
 */
export type CompensationParking = {
  /**
   * Parks the order's compensation; false when the same kind of compensation of the order is parked already and
   * waits (it came again). A compensation of another kind is parked beside it: a give-up's parked void may be about
   * to end with nothing to do (the order was confirmed) just as the order's cancellation needs its refund.
   */
  park(request: { orderId: string; correlationId: string; kind: CompensationKind }): Promise<boolean>;
};

/**
 * What {@link abandonOrder} did with the payment: undone, or parked until the gateway answers (by this give-up, or
 * already by one before it).
 */
export type AbandonedPayment = PaymentUndone | 'PARKED' | 'ALREADY_PARKED';

/** What {@link abandonOrder} did, and the order's status after it. */
export type Abandonment =
  | { outcome: 'REJECTED'; payment: AbandonedPayment }
  | { outcome: 'NOT_PENDING'; status: Exclude<OrderStatus, 'PENDING'> };

/** Whether a give-up that rejected the order left its void to the parked one, the gateway being unavailable. */
export const voidParked = (abandonment: Abandonment): boolean =>
  abandonment.outcome === 'REJECTED' && (abandonment.payment === 'PARKED' || abandonment.payment === 'ALREADY_PARKED');

/** Why an order is given up: a step failed for good, or the payment gateway stayed unavailable past the bound. */
export type GiveUpReason = Extract<RejectionReason, 'UNAVAILABLE' | 'PAYMENT_UNAVAILABLE'>;

/**
 * Gives up an order that a saga step failed for good: the saga's catch-all compensation, and the sweeper's; and, with
 * `PAYMENT_UNAVAILABLE`, an order whose payment gateway stayed unavailable past the bound (GiveUpPayment). It undoes
 * whatever the order may hold, including what the failed step may have committed before it failed, then rejects it
 * for `reason`. It never touches an order that is no longer PENDING: a CONFIRMED one stays confirmed with its stock
 * sold and its payment kept (ConfirmOrder may have committed before it failed), a CANCELLED one is its
 * cancellation's to compensate, and a REJECTED one was settled already.
 *
 * The order is claimed before its payment is touched, so a confirmation racing the give-up (a saga that started
 * late, or a second EXPRESS execution) either wins, and keeps its payment, or loses its version condition:
 * 1. The void is parked first ({@link CompensationParking}): it outlives anything that fails after, and
 *    {@link voidSettledPayment} runs it only once the order is settled, never for a CONFIRMED one.
 * 2. Then the order rejected, appended at the order's version (so a step that settled it meanwhile makes this lose
 *    the race and stop, its payment untouched), which gives back the units it holds reserved in the same write.
 * 3. Then, the order rejected, the payment voided at once ({@link voidPayment} refunds what was authorized, recorded
 *    or not), so the customer's money does not wait for the parked void; while the gateway is unavailable (as it is
 *    whenever GiveUpPayment runs) the parked void does it once the gateway answers.
 *
 * If it fails part way, the order is still PENDING, or REJECTED with its void parked: a retry, or the sweeper, runs it
 * again. Idempotent.
 */
export const abandonOrder = async (
  orderId: string,
  context: CommandContext,
  gateway: PaymentGateway,
  parking: CompensationParking,
  reason: GiveUpReason = 'UNAVAILABLE',
): Promise<Abandonment> => {
  const placed = await loadOrder(orderId, context);
  if (placed.status !== 'PENDING') return { outcome: 'NOT_PENDING', status: placed.status };
  const parked = await parking.park({ orderId, correlationId: context.metadata.correlationId, kind: 'GIVE_UP' });
  const { state, events } = await handleCommand(
    orderAggregate,
    orderStreamId(orderId),
    (current) =>
      current.status === 'PENDING' ? order.decide({ type: 'RejectOrder', data: { orderId, reason } }, current) : [],
    context,
  );
  if (events.length === 0) {
    if (state.status === 'PENDING' || state.status === 'NONE') {
      throw new Error(`Order ${orderId} is ${state.status} after losing the race to settle it.`);
    }
    return { outcome: 'NOT_PENDING', status: state.status };
  }
  try {
    return { outcome: 'REJECTED', payment: await voidPayment(orderId, context, gateway) };
  } catch (error) {
    if (!isGatewayUnavailable(error)) throw error;
    return { outcome: 'REJECTED', payment: parked ? 'PARKED' : 'ALREADY_PARKED' };
  }
};

/** Whose compensation is parked: a cancellation's, or a give-up's (the saga's catch-all, or the sweeper's). */
export type CompensationKind = 'CANCELLATION' | 'GIVE_UP';

/**
 * Runs a compensation's payment part (`undo`) for the order; when the payment gateway is unavailable (it refused, timed
 * out, or its breaker is open), parks it instead ({@link CompensationParking}). `alreadyParked`: it was parked before
 * (the same compensation came again). Any other error is thrown.
 */
export const undoOrPark = async <T>(
  undo: () => Promise<T>,
  {
    orderId,
    context,
    parking,
    kind,
  }: { orderId: string; context: CommandContext; parking: CompensationParking; kind: CompensationKind },
): Promise<{ outcome: 'DONE'; done: T } | { outcome: 'PARKED'; alreadyParked: boolean; cause: Error }> => {
  try {
    return { outcome: 'DONE', done: await undo() };
  } catch (error) {
    if (!isGatewayUnavailable(error)) throw error;
    const parked = await parking.park({ orderId, correlationId: context.metadata.correlationId, kind });
    return { outcome: 'PARKED', alreadyParked: !parked, cause: error };
  }
};

/**
 * A parked compensation's payment part, for an order that was cancelled or given up while the gateway was
 * unavailable: its payment voided ({@link voidPayment}). A CONFIRMED order keeps its payment (a step confirmed it as
 * it was being given up). An order still PENDING was parked by a give-up that has not rejected it yet (it parks
 * first): STILL_PENDING, to wait and look again. Idempotent.
 */
export const voidSettledPayment = async (
  orderId: string,
  context: CommandContext,
  gateway: PaymentGateway,
): Promise<PaymentUndone | 'STILL_PENDING'> => {
  const placed = await loadOrder(orderId, context);
  if (placed.status === 'PENDING') return 'STILL_PENDING';
  if (keepsPayment(placed.status)) return 'NOTHING';
  return voidPayment(orderId, context, gateway);
};

/** What an order saga's execution carries: the order as placed, and when, so its steps need not read them. */
export type SagaInput = { orderId: string; correlationId: string; placed: CarriedOrder; placedAt: string };

/**
 * The saga for an order whose stock was just reserved (`reserved`, its StockReserved): placement appends it with the
 * `OrderPlaced` it follows, and an order rejected out of stock has none, so it starts no saga (ADR 0014). The order as
 * placed comes from its `OrderPlaced` when the caller has it at hand (the same batch of changes); otherwise it is read
 * from the order's stream, strongly consistently, as committed with the reservation.
 */
export const sagaInput = async (
  reserved: StoredEvent,
  atHand: StoredEvent | undefined,
  store: EventStore,
): Promise<SagaInput> => {
  const [stored] = atHand ? [atHand] : await store.readStream(reserved.streamId, { toVersion: 1 });
  const { placed, recordedAt } = asPlaced(stored, String(reserved.data.orderId));
  const { correlationId } = reserved.metadata;
  return { orderId: placed.orderId, correlationId, placed: carried(placed), placedAt: recordedAt };
};
