/**
 * The simulated payment gateway of the `dev` and `test` stages: deterministic, with test tokens in the manner of
 * Stripe's `tok_visa`, and idempotent the way a real gateway is, by keeping what it answered in DynamoDB.
 *
 * | token          | authorize answers                                                                              |
 * | -------------- | ---------------------------------------------------------------------------------------------- |
 * | `tok_visa`     | `APPROVED`                                                                                     |
 * | `tok_declined` | `DECLINED`, reason `card_declined`                                                             |
 * | `tok_flaky`    | throws {@link PaymentGatewayUnavailableError} on the first two attempts of a key, then `APPROVED` |
 * | anything else  | `DECLINED`, reason `unknown_test_token`                                                        |
 *
 * An approval's reference is `sim_auth_<the first 12 hex digits of sha256(idempotencyKey)>`, a refund's
 * `sim_refund_<the same digits>`, so a test can predict both and a reader can pair them.
 *
 * One item per idempotency key (the order id) holds the token and amount of the first call, the attempts so far,
 * the final result once there is one, `charges` (1 after the approval, never more), and the refund state
 * (`refunded`, `refundReference`, `refunds`). So:
 * - a repeated authorize returns the stored result and charges nothing more;
 * - attempts are counted with an atomic `ADD`, so concurrent callers each see their own attempt number, and the
 *   result is written only if there is none yet: of concurrent callers, the losers read the winner's result. Where
 *   the answer does not depend on the attempt (every token but `tok_flaky`), counting and settling are one write;
 * - reusing a key with another token or amount throws a {@link PaymentGatewayRequestError}, as a real gateway refuses;
 * - a refund happens once: a repeat answers the same refund reference and refunds nothing more;
 * - a void (`voidAuthorization`) marks the key `voided`, creating the item if no authorize came yet, and refunds an
 *   approval it finds; an authorize under a voided key is declined with reason `voided`, and an approval is written
 *   only while the key is not voided, so an authorize racing the void either lands before it (and is refunded) or
 *   is declined.
 *
 * **Outage switch.** An item under the key {@link OUTAGE_KEY} beside the ledger says whether the simulated gateway is
 * down (`npm run gateway -- down|up`, {@link simulatorOutage}). While it is, every call is refused with
 * {@link PaymentGatewayUnavailableError} before it touches the ledger, as a gateway that does not answer, and counted
 * on that item (`refusedCalls`), so a test can tell how often callers knocked on a dead gateway.
 *
 * @example
 * const gateway = simulatedPaymentGateway({ client, table: process.env.PAYMENT_SIMULATOR_TABLE });
 * await gateway.authorize({ idempotencyKey: orderId, token: 'tok_visa', amount: { amount: 1299, currency: 'EUR' } });
 * // → { outcome: 'APPROVED', reference: 'sim_auth_…' }
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  type AuthorizationResult,
  type PaymentGateway,
  PaymentGatewayUnavailableError,
  type VoidResult,
} from '../application/paymentGateway.js';
import type { Money } from '../domain/shared/values.js';
import type { TableAdapterOptions } from './table.js';

/** The partition key of the simulator's table (serverless.yml, `PaymentSimulatorTable`). */
export const IDEMPOTENCY_KEY = 'idempotencyKey';

/** The key of the outage switch's item, beside the ledger's order ids (which never start with `#`). */
export const OUTAGE_KEY = '#outage';

/** The documented test tokens. */
export const TEST_TOKENS = {
  approved: 'tok_visa',
  declined: 'tok_declined',
  flaky: 'tok_flaky',
} as const;

/** How many attempts of a key `tok_flaky` answers with {@link PaymentGatewayUnavailableError}. */
export const FLAKY_FAILURES = 2;

/**
 * The gateway refused the request itself: an idempotency key reused with another token or amount, or a refund of
 * an authorization it does not know. Retrying does not help, unlike {@link PaymentGatewayUnavailableError}.
 */
export class PaymentGatewayRequestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PaymentGatewayRequestError';
  }
}

/**
 * The simulator's item schemas, built on first use rather than at import: every function's bundle imports this module
 * through the composition root, and only the payment steps read its items (a cold start builds no schema it never
 * reads: npm run bench -- coldstart).
 */
const itemSchemas = () => {
  /** The outage switch's item: whether the gateway is down, since when, and the calls it refused meanwhile. */
  const SimulatorOutage = z.object({
    down: z.boolean(),
    since: z.string().optional(),
    upAt: z.string().optional(),
    refusedCalls: z.number().int().nonnegative(),
  });
  const StoredResult = z.discriminatedUnion('outcome', [
    z.object({ outcome: z.literal('APPROVED'), reference: z.string() }),
    z.object({ outcome: z.literal('DECLINED'), reason: z.string() }),
  ]);
  /** One item of the simulator's table. */
  const SimulatorRecord = z.object({
    [IDEMPOTENCY_KEY]: z.string(),
    // Absent on an item a void created before any authorize.
    token: z.string().optional(),
    amount: z.number().optional(),
    currency: z.string().optional(),
    attempts: z.number(),
    charges: z.number(),
    refunds: z.number(),
    refunded: z.boolean(),
    result: StoredResult.optional(),
    refundReference: z.string().optional(),
    createdAt: z.string(),
    decidedAt: z.string().optional(),
    refundedAt: z.string().optional(),
    voided: z.boolean().optional(),
    voidedAt: z.string().optional(),
  });
  return { SimulatorOutage, SimulatorRecord };
};
let built: ReturnType<typeof itemSchemas> | undefined;
const schemas = () => (built ??= itemSchemas());

export type SimulatorOutage = z.infer<ReturnType<typeof itemSchemas>['SimulatorOutage']>;
type SimulatorRecord = z.infer<ReturnType<typeof itemSchemas>['SimulatorRecord']>;

const digest = (idempotencyKey: string): string =>
  createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 12);

/** The deterministic reference of the approval for `idempotencyKey`. */
export const authorizationReference = (idempotencyKey: string): string => `sim_auth_${digest(idempotencyKey)}`;

/** The deterministic reference of the refund for `idempotencyKey`. */
export const refundReference = (idempotencyKey: string): string => `sim_refund_${digest(idempotencyKey)}`;

/** What the simulator answers to `token` on the `attempt`-th call of a key (1-based); throws while `tok_flaky` fails. */
const decide = (idempotencyKey: string, token: string, attempt: number): AuthorizationResult => {
  switch (token) {
    case TEST_TOKENS.approved:
      return { outcome: 'APPROVED', reference: authorizationReference(idempotencyKey) };
    case TEST_TOKENS.declined:
      return { outcome: 'DECLINED', reason: 'card_declined' };
    case TEST_TOKENS.flaky:
      if (attempt <= FLAKY_FAILURES) {
        throw new PaymentGatewayUnavailableError(
          `Simulated outage: attempt ${attempt} of ${FLAKY_FAILURES} failing attempts for ${TEST_TOKENS.flaky}.`,
        );
      }
      return { outcome: 'APPROVED', reference: authorizationReference(idempotencyKey) };
    default:
      return { outcome: 'DECLINED', reason: 'unknown_test_token' };
  }
};

const sameAmount = (record: SimulatorRecord, amount: Money): boolean =>
  record.amount === amount.amount && record.currency === amount.currency;

/** What an authorize under a voided key answers. */
const VOIDED: AuthorizationResult = { outcome: 'DECLINED', reason: 'voided' };

/** The simulated {@link PaymentGateway} on the DynamoDB table `table`; `now` stamps the items (default: the clock). */
export const simulatedPaymentGateway = ({
  client,
  table,
  now = () => new Date(),
}: TableAdapterOptions): PaymentGateway => {
  const read = async (idempotencyKey: string): Promise<SimulatorRecord | undefined> => {
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: { [IDEMPOTENCY_KEY]: idempotencyKey }, ConsistentRead: true }),
    );
    return Item ? schemas().SimulatorRecord.parse(Item) : undefined;
  };

  /** The first call's parameters and zeroed counts (but `charges`), set on the item that a key's first call creates. */
  const firstCall =
    'SET #token = if_not_exists(#token, :token), #amount = if_not_exists(#amount, :amount), ' +
    '#currency = if_not_exists(#currency, :currency), ' +
    '#refunds = if_not_exists(#refunds, :zero), #refunded = if_not_exists(#refunded, :false), ' +
    '#createdAt = if_not_exists(#createdAt, :now)';
  /** A key is refused when its first call had another token or amount. */
  const sameParameters =
    '(attribute_not_exists(#token) OR (#token = :token AND #amount = :amount AND #currency = :currency))';
  const firstCallNames = {
    '#token': 'token',
    '#amount': 'amount',
    '#currency': 'currency',
    '#charges': 'charges',
    '#refunds': 'refunds',
    '#refunded': 'refunded',
    '#createdAt': 'createdAt',
    '#attempts': 'attempts',
  };
  const firstCallValues = (token: string, amount: Money) => ({
    ':token': token,
    ':amount': amount.amount,
    ':currency': amount.currency,
    ':zero': 0,
    ':one': 1,
    ':false': false,
    ':now': now().toISOString(),
  });

  /** Counts one more attempt, creating the item on the first; refuses a key first used with other parameters. */
  const countAttempt = async (idempotencyKey: string, token: string, amount: Money): Promise<SimulatorRecord> => {
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { [IDEMPOTENCY_KEY]: idempotencyKey },
          UpdateExpression: `${firstCall}, #charges = if_not_exists(#charges, :zero) ADD #attempts :one`,
          ConditionExpression: sameParameters,
          ExpressionAttributeNames: firstCallNames,
          ExpressionAttributeValues: firstCallValues(token, amount),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return schemas().SimulatorRecord.parse(Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new PaymentGatewayRequestError(
          `Idempotency key ${idempotencyKey} was first used with another token or amount.`,
          { cause: error },
        );
      }
      throw error;
    }
  };

  /**
   * For a token whose answer does not depend on the attempt, counts the attempt and settles `result` in one write:
   * a key's first result stands, and a repeat answers it. `undefined` when the write's condition refuses (the key is
   * voided, or was first used with other parameters): the two-step path below then answers as it does.
   */
  const countAndSettle = async (
    idempotencyKey: string,
    token: string,
    amount: Money,
    result: AuthorizationResult,
  ): Promise<AuthorizationResult | undefined> => {
    const approved = result.outcome === 'APPROVED';
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { [IDEMPOTENCY_KEY]: idempotencyKey },
          // Charged once: `charges` is 1 from the approval on, however often it is repeated.
          UpdateExpression:
            `${firstCall}, #result = if_not_exists(#result, :result), #decidedAt = if_not_exists(#decidedAt, :now)` +
            `, #charges = ${approved ? ':one' : 'if_not_exists(#charges, :zero)'} ADD #attempts :one`,
          ConditionExpression: `${sameParameters} AND attribute_not_exists(#voided)`,
          ExpressionAttributeNames: {
            ...firstCallNames,
            '#result': 'result',
            '#decidedAt': 'decidedAt',
            '#voided': 'voided',
          },
          ExpressionAttributeValues: { ...firstCallValues(token, amount), ':result': result },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return schemas().SimulatorRecord.parse(Attributes).result;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  };

  /** Writes `result` unless another caller wrote one first; answers the result that stands. */
  const settle = async (idempotencyKey: string, result: AuthorizationResult): Promise<AuthorizationResult> => {
    try {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { [IDEMPOTENCY_KEY]: idempotencyKey },
          // An UpdateItem rather than a Put: a Put would replace the item and lose concurrent attempt counts.
          UpdateExpression:
            result.outcome === 'APPROVED'
              ? 'SET #result = :result, #decidedAt = :now ADD #charges :one'
              : 'SET #result = :result, #decidedAt = :now',
          // An approval only while the key is not voided: a void that came first wins.
          ConditionExpression:
            result.outcome === 'APPROVED'
              ? 'attribute_not_exists(#result) AND attribute_not_exists(#voided)'
              : 'attribute_not_exists(#result)',
          ExpressionAttributeNames: {
            '#result': 'result',
            '#decidedAt': 'decidedAt',
            ...(result.outcome === 'APPROVED' ? { '#charges': 'charges', '#voided': 'voided' } : {}),
          },
          ExpressionAttributeValues: {
            ':result': result,
            ':now': now().toISOString(),
            ...(result.outcome === 'APPROVED' ? { ':one': 1 } : {}),
          },
        }),
      );
      return result;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Another caller settled first: its result is the one. Or a void came first: decline.
      const record = await read(idempotencyKey);
      if (record?.result) return record.result;
      if (record?.voided) return settle(idempotencyKey, VOIDED);
      throw new Error(`The result for ${idempotencyKey} vanished after it was written.`, { cause: error });
    }
  };

  /** Refuses the call, counting it, while the outage switch says the gateway is down. */
  const refuseWhileDown = async (operation: string) => {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key: { [IDEMPOTENCY_KEY]: OUTAGE_KEY } }));
    if (!Item || !schemas().SimulatorOutage.parse(Item).down) return;
    await client.send(
      new UpdateCommand({
        TableName: table,
        Key: { [IDEMPOTENCY_KEY]: OUTAGE_KEY },
        UpdateExpression: 'ADD #refusedCalls :one',
        ExpressionAttributeNames: { '#refusedCalls': 'refusedCalls' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    throw new PaymentGatewayUnavailableError(`Simulated outage: the gateway is down (${operation} refused).`);
  };

  const gateway: PaymentGateway = {
    async authorize({ idempotencyKey, token, amount }) {
      await refuseWhileDown('authorize');
      // One write where the answer is known before the attempt is counted (every token but tok_flaky).
      if (token !== TEST_TOKENS.flaky) {
        const settled = await countAndSettle(idempotencyKey, token, amount, decide(idempotencyKey, token, 1));
        if (settled) return settled;
      }
      const record = await countAttempt(idempotencyKey, token, amount);
      if (record.result) return record.result;
      if (record.voided) return settle(idempotencyKey, VOIDED);
      return settle(idempotencyKey, decide(idempotencyKey, token, record.attempts));
    },

    async refund({ idempotencyKey, reference, amount }) {
      await refuseWhileDown('refund');
      const refund = refundReference(idempotencyKey);
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: { [IDEMPOTENCY_KEY]: idempotencyKey },
            UpdateExpression: 'SET #refunded = :true, #refundReference = :refund, #refundedAt = :now ADD #refunds :one',
            ConditionExpression:
              'attribute_exists(#key) AND #refunded = :false AND #result.#outcome = :approved AND ' +
              '#result.#reference = :reference AND #amount = :amount AND #currency = :currency',
            ExpressionAttributeNames: {
              '#key': IDEMPOTENCY_KEY,
              '#refunded': 'refunded',
              '#refundReference': 'refundReference',
              '#refundedAt': 'refundedAt',
              '#refunds': 'refunds',
              '#result': 'result',
              '#outcome': 'outcome',
              '#reference': 'reference',
              '#amount': 'amount',
              '#currency': 'currency',
            },
            ExpressionAttributeValues: {
              ':true': true,
              ':false': false,
              ':refund': refund,
              ':now': now().toISOString(),
              ':one': 1,
              ':approved': 'APPROVED',
              ':reference': reference,
              ':amount': amount.amount,
              ':currency': amount.currency,
            },
          }),
        );
        return { reference: refund };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Refunded already, or not a refund we can make: the item tells which.
        const record = await read(idempotencyKey);
        const approval = record?.result?.outcome === 'APPROVED' ? record.result : undefined;
        if (!record || !approval || approval.reference !== reference) {
          throw new PaymentGatewayRequestError(
            `No approved authorization ${reference} under idempotency key ${idempotencyKey}.`,
            { cause: error },
          );
        }
        if (!sameAmount(record, amount)) {
          throw new PaymentGatewayRequestError(
            `Authorization ${reference} was for ${record.amount} ${record.currency}; a refund is in full.`,
            { cause: error },
          );
        }
        if (record.refunded && record.refundReference) return { reference: record.refundReference };
        throw new Error(`The refund of ${reference} failed its condition for no known reason.`, { cause: error });
      }
    },

    async voidAuthorization({ idempotencyKey }): Promise<VoidResult> {
      await refuseWhileDown('void');
      const stamp = now().toISOString();
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { [IDEMPOTENCY_KEY]: idempotencyKey },
          UpdateExpression:
            'SET #voided = :true, #voidedAt = if_not_exists(#voidedAt, :now), ' +
            '#attempts = if_not_exists(#attempts, :zero), #charges = if_not_exists(#charges, :zero), ' +
            '#refunds = if_not_exists(#refunds, :zero), #refunded = if_not_exists(#refunded, :false), ' +
            '#createdAt = if_not_exists(#createdAt, :now)',
          ExpressionAttributeNames: {
            '#voided': 'voided',
            '#voidedAt': 'voidedAt',
            '#attempts': 'attempts',
            '#charges': 'charges',
            '#refunds': 'refunds',
            '#refunded': 'refunded',
            '#createdAt': 'createdAt',
          },
          ExpressionAttributeValues: { ':true': true, ':false': false, ':zero': 0, ':now': stamp },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = schemas().SimulatorRecord.parse(Attributes);
      if (record.result?.outcome !== 'APPROVED' || record.amount === undefined || record.currency === undefined) {
        return { outcome: 'NOTHING_AUTHORIZED' };
      }
      const amount = { amount: record.amount, currency: record.currency };
      const { reference } = record.result;
      const refunded = await gateway.refund({ idempotencyKey, reference, amount });
      return { outcome: 'REFUNDED', authorization: { reference, amount }, refundReference: refunded.reference };
    },
  };
  return gateway;
};

/**
 * The simulator's outage switch (`npm run gateway -- down|up|status`). Taking it down starts a fresh count of refused
 * calls, unless it is down already: then the outage goes on as it was, its start and its count kept. Bringing it up
 * keeps the count, so it can be read after the outage, and records when it came up, once.
 */
export const simulatorOutage = ({ client, table, now = () => new Date() }: TableAdapterOptions) => ({
  async down(): Promise<void> {
    const item: SimulatorOutage = { down: true, since: now().toISOString(), refusedCalls: 0 };
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { [IDEMPOTENCY_KEY]: OUTAGE_KEY, ...item },
          ConditionExpression: 'attribute_not_exists(#down) OR #down = :false',
          ExpressionAttributeNames: { '#down': 'down' },
          ExpressionAttributeValues: { ':false': false },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  },
  async up(): Promise<SimulatorOutage> {
    // `upAt` is when the outage ended: bringing up a gateway that is up already changes nothing.
    const { Attributes } = await client.send(
      new UpdateCommand({
        TableName: table,
        Key: { [IDEMPOTENCY_KEY]: OUTAGE_KEY },
        UpdateExpression:
          'SET #down = :false, #upAt = if_not_exists(#upAt, :now), #refusedCalls = if_not_exists(#refusedCalls, :zero)',
        ExpressionAttributeNames: { '#down': 'down', '#upAt': 'upAt', '#refusedCalls': 'refusedCalls' },
        ExpressionAttributeValues: { ':false': false, ':now': now().toISOString(), ':zero': 0 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return schemas().SimulatorOutage.parse(Attributes);
  },
  async status(): Promise<SimulatorOutage> {
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: { [IDEMPOTENCY_KEY]: OUTAGE_KEY }, ConsistentRead: true }),
    );
    return Item ? schemas().SimulatorOutage.parse(Item) : { down: false, refusedCalls: 0 };
  },
});
