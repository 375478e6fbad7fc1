import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { PaymentGatewayUnavailableError } from '../../application/paymentGateway.js';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import {
  PaymentGatewayRequestError,
  simulatedPaymentGateway,
  simulatorOutage,
} from '../../adapters/simulatedPaymentGateway.js';
import type { Money } from '../../domain/shared/values.js';
import { localStack } from '../support/stack.js';
import { simulatorItem } from '../support/simulator.js';

const { client } = localStack();
const table = inject('environment').PAYMENT_SIMULATOR_TABLE;
if (!table) throw new Error('serverless.yml sets no PAYMENT_SIMULATOR_TABLE');

const now = new Date('2026-11-23T10:00:00.000Z');
const gateway = simulatedPaymentGateway({ client, table, now: () => now });
const amount: Money = { amount: 4200, currency: 'EUR' };

const expectedReference = (key: string, prefix: string): string =>
  `${prefix}${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;

/** The simulator's item for `key`, read straight from the table. */
const stored = (key: string) => simulatorItem(client, table, key);

/** Authorizes with `token` and answers whether it threw, without stopping at the first failure. */
const authorizeAll = (key: string, token: string, times: number) =>
  Promise.allSettled(Array.from({ length: times }, () => gateway.authorize({ idempotencyKey: key, token, amount })));

describe('simulated payment gateway', () => {
  describe('authorize', () => {
    it('approves tok_visa with a reference derived from the idempotency key', async () => {
      const key = randomUUID();
      const result = await gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount });
      expect(result).toEqual({ outcome: 'APPROVED', reference: expectedReference(key, 'sim_auth_') });
      expect(result).toEqual(await gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount }));
      expect(await stored(key)).toMatchObject({
        token: 'tok_visa',
        amount: 4200,
        currency: 'EUR',
        attempts: 2,
        charges: 1,
        refunds: 0,
        refunded: false,
        result,
        createdAt: now.toISOString(),
        decidedAt: now.toISOString(),
      });
    });

    it('declines tok_declined with card_declined and charges nothing', async () => {
      const key = randomUUID();
      expect(await gateway.authorize({ idempotencyKey: key, token: 'tok_declined', amount })).toEqual({
        outcome: 'DECLINED',
        reason: 'card_declined',
      });
      expect(await stored(key)).toMatchObject({ attempts: 1, charges: 0 });
    });

    it('declines a token it does not know with unknown_test_token', async () => {
      const key = randomUUID();
      expect(await gateway.authorize({ idempotencyKey: key, token: 'tok_mastercard', amount })).toEqual({
        outcome: 'DECLINED',
        reason: 'unknown_test_token',
      });
    });

    it('fails tok_flaky twice as unavailable, then approves, and answers the same approval afterwards', async () => {
      const key = randomUUID();
      const request = { idempotencyKey: key, token: 'tok_flaky', amount };
      await expect(gateway.authorize(request)).rejects.toBeInstanceOf(PaymentGatewayUnavailableError);
      await expect(gateway.authorize(request)).rejects.toBeInstanceOf(PaymentGatewayUnavailableError);
      expect(await stored(key)).toMatchObject({ attempts: 2, charges: 0 });
      expect((await stored(key))?.result).toBeUndefined();

      const approval = await gateway.authorize(request);
      expect(approval).toEqual({ outcome: 'APPROVED', reference: expectedReference(key, 'sim_auth_') });
      expect(await gateway.authorize(request)).toEqual(approval);
      expect(await stored(key)).toMatchObject({ attempts: 4, charges: 1, result: approval });
    });

    it('gives 10 concurrent tok_visa authorizations of one key one approval, charged once', async () => {
      const key = randomUUID();
      const settled = await authorizeAll(key, 'tok_visa', 10);
      const results = settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : outcome.reason));
      expect(new Set(results.map((result) => JSON.stringify(result)))).toEqual(
        new Set([JSON.stringify({ outcome: 'APPROVED', reference: expectedReference(key, 'sim_auth_') })]),
      );
      expect(await stored(key)).toMatchObject({ attempts: 10, charges: 1 });
    });

    it('gives 10 concurrent tok_flaky authorizations of one key two outages and one approval, charged once', async () => {
      const key = randomUUID();
      const settled = await authorizeAll(key, 'tok_flaky', 10);
      const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
      const approvals = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      // The atomic attempt counter hands out 1..10: exactly the callers with 1 and 2 see the outage.
      expect(failures).toHaveLength(2);
      for (const failure of failures) expect(failure).toBeInstanceOf(PaymentGatewayUnavailableError);
      expect(approvals).toHaveLength(8);
      const approval = { outcome: 'APPROVED', reference: expectedReference(key, 'sim_auth_') };
      for (const result of approvals) expect(result).toEqual(approval);
      expect(await stored(key)).toMatchObject({ attempts: 10, charges: 1, result: approval });
    });

    it('refuses a key reused with another amount or token, and keeps the first result', async () => {
      const key = randomUUID();
      const approval = await gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount });
      await expect(
        gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount: { ...amount, amount: 4201 } }),
      ).rejects.toBeInstanceOf(PaymentGatewayRequestError);
      await expect(
        gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount: { ...amount, currency: 'USD' } }),
      ).rejects.toThrow(/another token or amount/);
      await expect(gateway.authorize({ idempotencyKey: key, token: 'tok_declined', amount })).rejects.toThrow(
        PaymentGatewayRequestError,
      );
      expect(await stored(key)).toMatchObject({
        amount: 4200,
        currency: 'EUR',
        attempts: 1,
        charges: 1,
        result: approval,
      });
    });
  });

  describe('refund', () => {
    const approved = async () => {
      const key = randomUUID();
      const result = await gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount });
      if (result.outcome !== 'APPROVED') throw new Error('tok_visa must approve');
      return { key, reference: result.reference };
    };

    it('refunds once; a repeat answers the same refund reference and refunds nothing more', async () => {
      const { key, reference } = await approved();
      const first = await gateway.refund({ idempotencyKey: key, reference, amount });
      expect(first).toEqual({ reference: expectedReference(key, 'sim_refund_') });
      expect(await gateway.refund({ idempotencyKey: key, reference, amount })).toEqual(first);
      expect(await stored(key)).toMatchObject({
        refunded: true,
        refundReference: first.reference,
        refunds: 1,
        charges: 1,
        refundedAt: now.toISOString(),
      });
    });

    it('refunds once under 10 concurrent refunds', async () => {
      const { key, reference } = await approved();
      const refunds = await Promise.all(
        Array.from({ length: 10 }, () => gateway.refund({ idempotencyKey: key, reference, amount })),
      );
      expect(new Set(refunds.map((refund) => refund.reference))).toEqual(
        new Set([expectedReference(key, 'sim_refund_')]),
      );
      expect(await stored(key)).toMatchObject({ refunds: 1 });
    });

    it('refuses a reference it did not issue, and refunds nothing', async () => {
      const { key } = await approved();
      await expect(
        gateway.refund({ idempotencyKey: key, reference: 'sim_auth_000000000000', amount }),
      ).rejects.toBeInstanceOf(PaymentGatewayRequestError);
      expect(await stored(key)).toMatchObject({ refunded: false, refunds: 0 });
    });

    it('refuses a refund under an unknown key or of a declined authorization', async () => {
      const unknown = randomUUID();
      await expect(
        gateway.refund({ idempotencyKey: unknown, reference: expectedReference(unknown, 'sim_auth_'), amount }),
      ).rejects.toThrow(PaymentGatewayRequestError);
      expect(await stored(unknown)).toBeUndefined();

      const declined = randomUUID();
      await gateway.authorize({ idempotencyKey: declined, token: 'tok_declined', amount });
      await expect(
        gateway.refund({ idempotencyKey: declined, reference: expectedReference(declined, 'sim_auth_'), amount }),
      ).rejects.toThrow(PaymentGatewayRequestError);
    });

    it('refuses a refund of another amount than the authorization', async () => {
      const { key, reference } = await approved();
      await expect(
        gateway.refund({ idempotencyKey: key, reference, amount: { ...amount, amount: 100 } }),
      ).rejects.toThrow(/a refund is in full/);
      expect(await stored(key)).toMatchObject({ refunded: false, refunds: 0 });
    });
  });
  describe('voidAuthorization (an authorization whose answer was lost)', () => {
    it('refunds an approval under the key in full, once, however often it is asked', async () => {
      const key = randomUUID();
      const approval = await gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount });
      const reference = expectedReference(key, 'sim_auth_');
      expect(approval).toEqual({ outcome: 'APPROVED', reference });

      const voids = await Promise.all([1, 2, 3].map(() => gateway.voidAuthorization({ idempotencyKey: key })));
      for (const result of voids) {
        expect(result).toEqual({
          outcome: 'REFUNDED',
          authorization: { reference, amount },
          refundReference: expectedReference(key, 'sim_refund_'),
        });
      }
      expect(await stored(key)).toMatchObject({ charges: 1, refunds: 1, refunded: true, voided: true });
    });

    it('finds nothing to refund under an unknown key, and declines any authorize under it afterwards', async () => {
      const key = randomUUID();
      expect(await gateway.voidAuthorization({ idempotencyKey: key })).toEqual({ outcome: 'NOTHING_AUTHORIZED' });
      expect(await gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount })).toEqual({
        outcome: 'DECLINED',
        reason: 'voided',
      });
      expect(await stored(key)).toMatchObject({ charges: 0, refunds: 0, voided: true, token: 'tok_visa' });
      expect(await gateway.voidAuthorization({ idempotencyKey: key })).toEqual({ outcome: 'NOTHING_AUTHORIZED' });
    });

    it('leaves a declined authorization as it is', async () => {
      const key = randomUUID();
      await gateway.authorize({ idempotencyKey: key, token: 'tok_declined', amount });
      expect(await gateway.voidAuthorization({ idempotencyKey: key })).toEqual({ outcome: 'NOTHING_AUTHORIZED' });
      expect(await stored(key)).toMatchObject({ charges: 0, refunds: 0, result: { outcome: 'DECLINED' } });
    });

    it('never leaves an approval unrefunded when an authorize races the void', async () => {
      for (let round = 0; round < 10; round++) {
        const key = randomUUID();
        const [approval, voided] = await Promise.all([
          gateway.authorize({ idempotencyKey: key, token: 'tok_visa', amount }),
          gateway.voidAuthorization({ idempotencyKey: key }),
        ]);
        const item = await stored(key);
        if (approval.outcome === 'APPROVED') {
          // The authorize landed first: the void found it, or a second void does.
          const settled =
            voided.outcome === 'REFUNDED' ? voided : await gateway.voidAuthorization({ idempotencyKey: key });
          expect(settled.outcome).toBe('REFUNDED');
          expect(await stored(key)).toMatchObject({ charges: 1, refunds: 1, refunded: true });
        } else {
          expect(approval).toEqual({ outcome: 'DECLINED', reason: 'voided' });
          expect(item).toMatchObject({ charges: 0, refunds: 0 });
        }
      }
    });
  });
});

describe('the simulator’s outage switch', () => {
  it('keeps an outage going as it was when taken down again: its start and its count of refused calls', async () => {
    // A table of its own: the stack's gateway serves other tests' sagas.
    const own = `outage-${randomUUID()}`;
    await client.send(
      new CreateTableCommand({
        TableName: own,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'idempotencyKey', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'idempotencyKey', KeyType: 'HASH' }],
      }),
    );
    try {
      let at = new Date('2026-12-01T12:00:00.000Z');
      const outage = simulatorOutage({ client, table: own, now: () => at });
      const down = simulatedPaymentGateway({ client, table: own, now: () => at });
      await outage.down();
      const refused = () => down.authorize({ idempotencyKey: randomUUID(), token: 'tok_visa', amount });
      await expect(refused()).rejects.toBeInstanceOf(PaymentGatewayUnavailableError);
      await expect(refused()).rejects.toBeInstanceOf(PaymentGatewayUnavailableError);
      at = new Date('2026-12-01T12:05:00.000Z');
      await outage.down();
      expect(await outage.status()).toMatchObject({ down: true, since: '2026-12-01T12:00:00.000Z', refusedCalls: 2 });
      expect(await outage.up()).toMatchObject({ down: false, refusedCalls: 2, upAt: '2026-12-01T12:05:00.000Z' });
      // Up again while up: it has been up since the outage ended.
      at = new Date('2026-12-01T12:06:00.000Z');
      expect(await outage.up()).toMatchObject({ down: false, refusedCalls: 2, upAt: '2026-12-01T12:05:00.000Z' });
      // Down again once up: a new outage, counted afresh.
      await outage.down();
      expect(await outage.status()).toMatchObject({ down: true, since: '2026-12-01T12:06:00.000Z', refusedCalls: 0 });
      expect((await outage.status()).upAt).toBeUndefined();
      at = new Date('2026-12-01T12:07:00.000Z');
      expect(await outage.up()).toMatchObject({ down: false, refusedCalls: 0, upAt: '2026-12-01T12:07:00.000Z' });
    } finally {
      await client.send(new DeleteTableCommand({ TableName: own }));
    }
  });
});
