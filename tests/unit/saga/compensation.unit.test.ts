import { describe, expect, it } from 'vitest';
import { CircuitOpenError } from '../../../application/circuitBreaker.js';
import { compensateOrPark, retryParkedCompensation } from '../../../application/compensation.js';
import { cancelOrder } from '../../../application/orders.js';
import type { PaymentGateway } from '../../../application/paymentGateway.js';
import { readStock } from '../../../application/products.js';
import {
  authorizePayment,
  compensateCancellation,
  confirmOrder,
  type PaymentWaitPolicy,
} from '../../../application/saga.js';
import { memoryGateway } from '../../support/memoryGateway.js';
import { memoryParking } from '../../support/memoryParking.js';
import { memoryStore, testContext } from '../../support/memoryStore.js';
import { twoMugsPlaced } from '../../support/shop.js';

const policy: PaymentWaitPolicy = { firstWaitSeconds: 5, maxWaitSeconds: 300, boundSeconds: 3600 };
const parkedAt = new Date('2026-11-30T10:00:00.000Z');
const at = (seconds: number) => new Date(parkedAt.getTime() + seconds * 1000);

const given = async () => {
  const store = memoryStore();
  const context = testContext(store);
  const gateway = memoryGateway();
  const orderId = await twoMugsPlaced(context);
  const cancel = () => cancelOrder({ orderId, caller: { sub: 'customer-1', isAdmin: false } }, context);
  // Placement reserved the order's 2 mugs (ADR 0014): the saga goes on from there.
  const confirmed = async () => {
    await authorizePayment(orderId, context, gateway.gateway);
    await confirmOrder(orderId, context);
  };
  const stock = async () => (await readStock(store, 'MUG-1')).stock;
  const payment = async () => (await store.readStream(`payment-${orderId}`)).map((e) => e.type);
  return { context, ...gateway, orderId, cancel, confirmed, stock, payment, ...memoryParking() };
};

describe('compensateOrPark: a cancellation compensated as its event arrives', () => {
  it('refunds a confirmed order’s payment and returns its sold stock when the gateway answers', async () => {
    const { context, gateway, parking, parked, orderId, cancel, confirmed, stock, payment } = await given();
    await confirmed();
    await cancel();
    expect(await compensateOrPark(orderId, context, gateway, parking)).toEqual({
      outcome: 'COMPENSATED',
      payment: 'REFUNDED',
    });
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await payment()).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(parked).toEqual([]);
  });

  it('returns the stock and parks the payment once when the gateway is down; a redelivery finds it parked', async () => {
    const { context, gateway, parking, parked, orderId, cancel, confirmed, stock, payment, down } = await given();
    await confirmed();
    await cancel();
    down();
    const first = await compensateOrPark(orderId, context, gateway, parking);
    expect(first).toMatchObject({ outcome: 'PARKED', alreadyParked: false });
    expect(first.outcome === 'PARKED' && first.cause.name).toBe('PaymentGatewayUnavailableError');
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await payment()).toEqual(['PaymentAuthorized']);
    expect(parked).toEqual([{ orderId, correlationId: 'c-1', kind: 'CANCELLATION' }]);

    expect(await compensateOrPark(orderId, context, gateway, parking)).toMatchObject({
      outcome: 'PARKED',
      alreadyParked: true,
    });
    expect(parked).toHaveLength(1);
  });

  it('parks on an open breaker too', async () => {
    const { context, gateway, parking, parked, orderId, cancel } = await given();
    await cancel();
    const breakerOpen: PaymentGateway = {
      ...gateway,
      voidAuthorization: () => Promise.reject(new CircuitOpenError('payment-gateway', 1000, 1000)),
    };
    expect(await compensateOrPark(orderId, context, breakerOpen, parking)).toMatchObject({ outcome: 'PARKED' });
    expect(parked).toHaveLength(1);
  });

  it('throws any other failure, unparked, for the stream to retry and then send to the failure queue', async () => {
    const { context, gateway, parking, parked, orderId, cancel, confirmed } = await given();
    await confirmed();
    await cancel();
    const refusing: PaymentGateway = {
      ...gateway,
      refund: () => Promise.reject(new Error('No approved authorization under this key')),
    };
    await expect(compensateOrPark(orderId, context, refusing, parking)).rejects.toThrow('No approved authorization');
    expect(parked).toEqual([]);
  });
});

describe('retryParkedCompensation: a parked compensation tried again', () => {
  it('waits, longer each time, while the gateway is down, then refunds once it is back', async () => {
    const { context, gateway, orderId, cancel, confirmed, payment, keys, down, up } = await given();
    await confirmed();
    await cancel();
    down();
    const until = at(3600).toISOString();
    const waits = [];
    for (const now of [0, 5, 10, 20, 40, 80, 160, 320, 620]) {
      waits.push(await retryParkedCompensation(orderId, { parkedAt, now: at(now), policy }, context, gateway));
    }
    expect(waits).toEqual(
      [5, 5, 10, 20, 40, 80, 160, 300, 300].map((waitSeconds) => ({
        outcome: 'WAIT',
        waitSeconds,
        until,
        waitingFor: 'GATEWAY',
      })),
    );
    expect(await payment()).toEqual(['PaymentAuthorized']);

    up();
    expect(await retryParkedCompensation(orderId, { parkedAt, now: at(920), policy }, context, gateway)).toEqual({
      outcome: 'COMPENSATED',
      payment: 'REFUNDED',
    });
    expect(await payment()).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(keys.get(orderId)).toMatchObject({ refunded: true });
  });

  it('gives up at the bound, never waiting past it', async () => {
    const { context, gateway, orderId, cancel, down } = await given();
    await cancel();
    down();
    expect(await retryParkedCompensation(orderId, { parkedAt, now: at(3590), policy }, context, gateway)).toEqual({
      outcome: 'WAIT',
      waitSeconds: 10,
      until: at(3600).toISOString(),
      waitingFor: 'GATEWAY',
    });
    expect(await retryParkedCompensation(orderId, { parkedAt, now: at(3600), policy }, context, gateway)).toEqual({
      outcome: 'GIVE_UP',
      waitingFor: 'GATEWAY',
    });
  });
});

describe('a cancellation owns its order’s payment', () => {
  it('voids the key of an order cancelled before any authorization, so a saga authorizing it now is declined', async () => {
    const { context, gateway, calls, orderId, cancel, payment } = await given();
    await cancel();
    expect(await compensateCancellation(orderId, context, gateway)).toBe('NOTHING');
    expect(calls).toEqual([`void ${orderId}`]);
    expect(
      await gateway.authorize({
        idempotencyKey: orderId,
        token: 'tok_visa',
        amount: { amount: 2500, currency: 'EUR' },
      }),
    ).toEqual({ outcome: 'DECLINED', reason: 'voided' });
    expect(await payment()).toEqual([]);
  });

  it('refunds an approval the saga got but had not recorded yet', async () => {
    const { context, gateway, keys, orderId, cancel, payment } = await given();
    await gateway.authorize({ idempotencyKey: orderId, token: 'tok_visa', amount: { amount: 2500, currency: 'EUR' } });
    await cancel();
    expect(await compensateCancellation(orderId, context, gateway)).toBe('REFUNDED');
    expect(await payment()).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(keys.get(orderId)).toMatchObject({ refunded: true, voided: true });
  });

  it('refunds an approval the saga recorded after the order was cancelled: the saga reads nothing and stops at ConfirmOrder', async () => {
    const { context, gateway, orderId, cancel, payment, stock } = await given();
    // The gateway approves, and the order is cancelled before the saga records the approval.
    const approvesThenCancelled: PaymentGateway = {
      ...gateway,
      authorize: async (request) => {
        const answer = await gateway.authorize(request);
        await cancel();
        return answer;
      },
    };
    expect(await authorizePayment(orderId, context, approvesThenCancelled)).toBe('PROCEED');
    expect(await payment()).toEqual(['PaymentAuthorized']);
    expect(await confirmOrder(orderId, context)).toBe('STOP');

    expect(await compensateCancellation(orderId, context, gateway)).toBe('REFUNDED');
    expect(await payment()).toEqual(['PaymentAuthorized', 'PaymentRefunded']);
    expect(await stock()).toEqual({ available: 10, reserved: 0, sold: 0 });
  });
});
