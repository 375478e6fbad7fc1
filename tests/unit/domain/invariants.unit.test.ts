import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocations,
  InventoryEvent,
  inventory,
  type InventoryCommand,
  type InventoryState,
} from '../../../domain/inventory/index.js';
import {
  OrderEvent,
  order,
  terminalStatuses,
  type OrderCommand,
  type OrderLine,
  type OrderStatus,
} from '../../../domain/order/index.js';
import { PaymentEvent, payment, type PaymentCommand } from '../../../domain/payment/index.js';
import type { Decider } from '../../../domain/shared/decider.js';
import { DomainError } from '../../../domain/shared/errors.js';

const numRuns = 400;

/** Decides like a command handler would: a refusal (a DomainError) is `undefined`; any other error is a bug. */
const attempt = <State, Command, Event>(
  decider: Decider<State, Command, Event>,
  command: Command,
  state: State,
): Event[] | undefined => {
  try {
    return decider.decide(command, state);
  } catch (error) {
    if (error instanceof DomainError) return undefined;
    throw error;
  }
};

describe('inventory invariants', () => {
  const sku = 'SKU-1';
  const orderId = fc.constantFrom('o1', 'o2', 'o3', 'o4');
  const quantity = fc.integer({ min: 1, max: 8 });

  const register: fc.Arbitrary<InventoryCommand> = fc.integer({ min: 0, max: 15 }).map((initialStock) => ({
    type: 'RegisterProduct',
    data: { sku, name: 'Widget', unitPrice: { amount: 500, currency: 'EUR' }, initialStock },
  }));
  const command: fc.Arbitrary<InventoryCommand> = fc.oneof(
    { weight: 1, arbitrary: register },
    {
      weight: 2,
      arbitrary: quantity.map((q): InventoryCommand => ({ type: 'RestockProduct', data: { sku, quantity: q } })),
    },
    {
      weight: 5,
      arbitrary: fc
        .tuple(orderId, quantity)
        .map(([id, q]): InventoryCommand => ({ type: 'ReserveStock', data: { sku, orderId: id, quantity: q } })),
    },
    ...(['ReleaseReservation', 'ConfirmReservation', 'ReturnStock'] as const).map((type) => ({
      weight: 3,
      arbitrary: orderId.map((id): InventoryCommand => ({ type, data: { sku, orderId: id } })),
    })),
  );
  /** Mostly a registered product, sometimes none, so the unregistered paths run too. */
  const scenario = fc
    .tuple(fc.option(register, { freq: 10 }), fc.array(command, { minLength: 5, maxLength: 40, size: 'max' }))
    .map(([first, rest]) => (first ? [first, ...rest] : rest));

  const checkCounters = (state: InventoryState, supplied: number) => {
    if (state.status !== 'REGISTERED') return;
    expect(state.available).toBeGreaterThanOrEqual(0);
    expect(state.reserved).toBeGreaterThanOrEqual(0);
    expect(state.sold).toBeGreaterThanOrEqual(0);
    expect(state.initialStock + state.restocked).toBe(supplied);
    expect(state.available + state.reserved + state.sold).toBe(state.initialStock + state.restocked);
    const held = (status: string) =>
      Object.values(allocations(state.orders))
        .filter((allocation) => allocation.status === status)
        .reduce((sum, allocation) => sum + allocation.quantity, 0);
    expect(state.reserved).toBe(held('RESERVED'));
    expect(state.sold).toBe(held('SOLD'));
  };

  it('keeps stock non-negative and available + reserved + sold = initial + restocked after every event', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(scenario, (commands) => {
        let state = inventory.initialState();
        let supplied = 0;
        for (const cmd of commands) {
          const events = attempt(inventory, cmd, state) ?? [];
          expect(events.length).toBeLessThanOrEqual(1);
          for (const event of events) {
            expect(InventoryEvent.parse(event)).toEqual(event);
            if (event.type === 'ProductRegistered') supplied = event.data.initialStock;
            if (event.type === 'ProductRestocked') supplied += event.data.quantity;
            state = inventory.evolve(state, event);
            checkCounters(state, supplied);
            seen.set(event.type, (seen.get(event.type) ?? 0) + 1);
          }
        }
      }),
      { numRuns },
    );
    // Not vacuous: every kind of event was decided and checked, many times.
    for (const type of InventoryEvent.options.map((option) => option.shape.type.value)) {
      expect(seen.get(type) ?? 0, type).toBeGreaterThan(20);
    }
  });

  it('decides nothing the second time for reserve, release, confirm and return', () => {
    const repeatable = new Set(['ReserveStock', 'ReleaseReservation', 'ConfirmReservation', 'ReturnStock']);
    const exercised = new Map<string, number>();
    fc.assert(
      fc.property(scenario, (commands) => {
        let state = inventory.initialState();
        for (const cmd of commands) {
          const events = attempt(inventory, cmd, state);
          if (events === undefined) continue;
          state = events.reduce(inventory.evolve, state);
          if (!repeatable.has(cmd.type)) continue;
          expect(inventory.decide(cmd, state)).toEqual([]);
          if (events.length > 0) exercised.set(cmd.type, (exercised.get(cmd.type) ?? 0) + 1);
        }
      }),
      { numRuns },
    );
    // Not vacuous: each command was repeated right after it had changed something.
    for (const type of repeatable) expect(exercised.get(type) ?? 0, type).toBeGreaterThan(20);
  });
});

describe('order invariants', () => {
  const orderId = 'order-1';
  const lineSets: OrderLine[][] = [
    [{ sku: 'A-1', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }],
    [
      { sku: 'A-1', quantity: 2, unitPrice: { amount: 100, currency: 'EUR' } },
      { sku: 'B-2', quantity: 1, unitPrice: { amount: 250, currency: 'EUR' } },
    ],
  ];
  /** Two contents only, so a later PlaceOrder is as often a retry as a clash. */
  const place: fc.Arbitrary<OrderCommand> = fc
    .record({ lines: fc.constantFrom(...lineSets), paymentToken: fc.constantFrom('tok_a', 'tok_b') })
    .map(({ lines, paymentToken }) => ({
      type: 'PlaceOrder',
      data: { orderId, customerId: 'customer-1', lines, paymentToken },
    }));
  const command: fc.Arbitrary<OrderCommand> = fc.oneof(
    place,
    fc.constant<OrderCommand>({ type: 'ConfirmOrder', data: { orderId } }),
    fc
      .constantFrom('OUT_OF_STOCK' as const, 'PAYMENT_DECLINED' as const)
      .map((reason): OrderCommand => ({ type: 'RejectOrder', data: { orderId, reason } })),
    fc.constant<OrderCommand>({ type: 'CancelOrder', data: { orderId } }),
  );
  const scenario = fc
    .tuple(fc.option(place, { freq: 10 }), fc.array(command, { maxLength: 25, size: 'max' }))
    .map(([first, rest]) => (first ? [first, ...rest] : rest));

  it('never leaves a terminal state: later commands are refused or change nothing', () => {
    const afterTerminal = { refused: 0, unchanged: 0, byStatus: new Map<OrderStatus, number>() };
    fc.assert(
      fc.property(scenario, (commands) => {
        let state = order.initialState();
        for (const cmd of commands) {
          const terminal =
            state.status !== 'NONE' && terminalStatuses.includes(state.status) ? state.status : undefined;
          const events = attempt(order, cmd, state);
          for (const event of events ?? []) expect(OrderEvent.parse(event)).toEqual(event);
          const next = (events ?? []).reduce(order.evolve, state);
          if (terminal !== undefined) {
            if (events === undefined) afterTerminal.refused++;
            else expect(events).toEqual([]);
            if (events !== undefined) afterTerminal.unchanged++;
            expect(next.status).toBe(terminal);
            afterTerminal.byStatus.set(terminal, (afterTerminal.byStatus.get(terminal) ?? 0) + 1);
          }
          state = next;
        }
      }),
      { numRuns },
    );
    // Not vacuous: both terminal states were reached and probed, with refusals and with no-ops.
    expect(afterTerminal.refused).toBeGreaterThan(20);
    expect(afterTerminal.unchanged).toBeGreaterThan(20);
    for (const status of terminalStatuses) expect(afterTerminal.byStatus.get(status) ?? 0, status).toBeGreaterThan(20);
  });
});

describe('payment invariants', () => {
  const orderId = 'order-1';
  const command: fc.Arbitrary<PaymentCommand> = fc.oneof(
    fc
      .record({ amount: fc.integer({ min: 0, max: 10_000 }), gatewayReference: fc.constantFrom('gw-1', 'gw-2') })
      .map(({ amount, gatewayReference }): PaymentCommand => ({
        type: 'AuthorizePayment',
        data: { orderId, amount: { amount, currency: 'EUR' }, gatewayReference },
      })),
    fc.constant<PaymentCommand>({
      type: 'DeclinePayment',
      data: { orderId, amount: { amount: 100, currency: 'EUR' }, reason: 'declined' },
    }),
    fc.constant<PaymentCommand>({ type: 'RefundPayment', data: { orderId } }),
  );

  it('is authorized at most once, and refunds at most once exactly what was authorized', () => {
    let retriedAfterAuthorization = 0;
    let refundsChecked = 0;
    fc.assert(
      fc.property(fc.array(command, { maxLength: 20, size: 'max' }), (commands) => {
        let state = payment.initialState();
        const appended: PaymentEvent[] = [];
        for (const cmd of commands) {
          if (cmd.type === 'AuthorizePayment' && appended.some((event) => event.type === 'PaymentAuthorized')) {
            retriedAfterAuthorization++;
          }
          const events = attempt(payment, cmd, state) ?? [];
          for (const event of events) expect(PaymentEvent.parse(event)).toEqual(event);
          appended.push(...events);
          state = events.reduce(payment.evolve, state);
        }
        const authorizations = appended.filter((event) => event.type === 'PaymentAuthorized');
        const refunds = appended.filter((event) => event.type === 'PaymentRefunded');
        expect(authorizations.length).toBeLessThanOrEqual(1);
        expect(refunds.length).toBeLessThanOrEqual(authorizations.length);
        const [authorization] = authorizations;
        const [refund] = refunds;
        if (authorization && refund) {
          expect(refund.data).toEqual(authorization.data);
          refundsChecked++;
        }
      }),
      { numRuns },
    );
    // Not vacuous: authorization was attempted again after it had succeeded, and refunds were compared.
    expect(retriedAfterAuthorization).toBeGreaterThan(20);
    expect(refundsChecked).toBeGreaterThan(20);
  });
});
