import { describe, expect, it } from 'vitest';
import {
  type AuthorizePayment,
  type DeclinePayment,
  PaymentAuthorized,
  type PaymentCommand,
  PaymentDeclined,
  PaymentEvent,
  PaymentRefunded,
  payment,
  paymentStreamId,
} from '../../../domain/payment/index.js';
import { fold } from '../../../domain/shared/decider.js';
import { DomainError, PaymentStateError } from '../../../domain/shared/errors.js';
import { given } from '../../support/givenWhenThen.js';

const orderId = 'order-1';
const amount = { amount: 3997, currency: 'EUR' };
const gatewayReference = 'gw-auth-42';
const spec = given(payment);

const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { orderId, amount, gatewayReference } };
const declined: PaymentEvent = { type: 'PaymentDeclined', data: { orderId, amount, reason: 'insufficient funds' } };
const refunded: PaymentEvent = { type: 'PaymentRefunded', data: { orderId, amount, gatewayReference } };

const authorize = (data: Partial<AuthorizePayment['data']> = {}): PaymentCommand => ({
  type: 'AuthorizePayment',
  data: { orderId, amount, gatewayReference, ...data },
});
const decline = (data: Partial<DeclinePayment['data']> = {}): PaymentCommand => ({
  type: 'DeclinePayment',
  data: { orderId, amount, reason: 'insufficient funds', ...data },
});
const refund: PaymentCommand = { type: 'RefundPayment', data: { orderId } };

describe('payment decider', () => {
  describe('AuthorizePayment', () => {
    it('records the gateway’s approval', () => {
      spec([]).when(authorize()).then([authorized]);
    });

    it('changes nothing when the payment is already authorized, even with another reference (a redelivered step)', () => {
      spec([authorized])
        .when(authorize({ gatewayReference: 'gw-auth-43', amount: { amount: 1, currency: 'EUR' } }))
        .then([]);
    });

    it('changes nothing once the authorization was refunded: an order is charged at most once', () => {
      spec([authorized, refunded]).when(authorize()).then([]);
    });

    it('refuses to authorize a declined payment', () => {
      const error = spec([declined]).when(authorize()).thenThrows(PaymentStateError, {
        code: 'INVALID_PAYMENT_TRANSITION',
        kind: 'conflict',
        orderId,
        status: 'DECLINED',
        attempted: 'authorize',
      });
      expect(error).toBeInstanceOf(DomainError);
      expect(error.name).toBe('PaymentStateError');
      expect(error.message).toBe(`Payment of order ${orderId} is DECLINED; cannot authorize.`);
    });
  });

  describe('DeclinePayment', () => {
    it('records the gateway’s refusal', () => {
      spec([]).when(decline()).then([declined]);
    });

    it('changes nothing when the payment is already declined', () => {
      spec([declined])
        .when(decline({ reason: 'card expired' }))
        .then([]);
    });

    it.each([
      ['AUTHORIZED', [authorized]],
      ['REFUNDED', [authorized, refunded]],
    ])('refuses to decline a payment that is %s', (status, history) => {
      spec(history).when(decline()).thenThrows(PaymentStateError, {
        code: 'INVALID_PAYMENT_TRANSITION',
        kind: 'conflict',
        status,
        attempted: 'decline',
      });
    });
  });

  describe('RefundPayment', () => {
    it('refunds the authorized amount under the authorization’s gateway reference', () => {
      spec([authorized]).when(refund).then([refunded]);
    });

    it.each([
      ['nothing was authorized (compensation before authorization)', []],
      ['the payment was declined', [declined]],
      ['the payment was already refunded', [authorized, refunded]],
    ])('changes nothing when %s', (_, history) => {
      spec(history).when(refund).then([]);
    });
  });

  describe('evolve', () => {
    it('starts with no payment', () => {
      expect(payment.initialState()).toEqual({ status: 'NONE' });
    });

    it.each([
      ['authorized', [authorized], { status: 'AUTHORIZED', orderId, amount, gatewayReference }],
      ['declined', [declined], { status: 'DECLINED', orderId, amount, reason: 'insufficient funds' }],
      ['refunded', [authorized, refunded], { status: 'REFUNDED', orderId, amount, gatewayReference }],
    ])('folds a payment %s into its state', (_, history, expected) => {
      expect(fold(payment, history)).toEqual(expected);
    });
  });

  it('names one stream per order’s payment', () => {
    expect(paymentStreamId(orderId)).toBe('payment-order-1');
  });
});

// Each event a command decides is checked against these schemas before its append.
describe('what a payment event may hold', () => {
  it('accept every event the decider decides', () => {
    for (const event of [authorized, declined, refunded]) expect(PaymentEvent.parse(event)).toEqual(event);
  });

  it.each([
    ['a negative amount', { ...authorized.data, amount: { amount: -1, currency: 'EUR' } }],
    ['a fractional amount', { ...authorized.data, amount: { amount: 39.97, currency: 'EUR' } }],
    [
      'an amount beyond safe integers',
      { ...authorized.data, amount: { amount: Number.MAX_SAFE_INTEGER + 1, currency: 'EUR' } },
    ],
    ['a lower-case currency', { ...authorized.data, amount: { amount: 1, currency: 'eur' } }],
    ['a four-letter currency', { ...authorized.data, amount: { amount: 1, currency: 'EURO' } }],
    ['an empty gateway reference', { ...authorized.data, gatewayReference: '' }],
    ['an unknown extra field', { ...authorized.data, cvv: '123' }],
  ])('PaymentAuthorized rejects %s', (_, data) => {
    expect(PaymentAuthorized.safeParse({ type: 'PaymentAuthorized', data }).success).toBe(false);
  });

  it('PaymentDeclined requires a reason', () => {
    expect(PaymentDeclined.safeParse({ ...declined, data: { ...declined.data, reason: '' } }).success).toBe(false);
  });

  it('PaymentRefunded names the authorization it gives back', () => {
    expect(PaymentRefunded.safeParse({ type: 'PaymentRefunded', data: { orderId, amount } }).success).toBe(false);
  });
});
