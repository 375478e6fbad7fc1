import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoEventStore } from '../../../eventstore/dynamoEventStore.js';
import { ConcurrencyError } from '../../../eventstore/errors.js';
import { eventSchemaRegistry } from '../../../eventstore/upcasting.js';

/**
 * The store over a client that refuses every write with `error`: what DynamoDB answers that DynamoDB Local never does
 * (it reports no TransactionConflict), so only a stubbed client shows how the store reads it.
 */
const refusingStore = (error: unknown) =>
  dynamoEventStore({
    client: { send: () => Promise.reject(error) } as unknown as DynamoDBDocumentClient,
    eventsTable: 'events',
    snapshotsTable: 'snapshots',
    schemas: eventSchemaRegistry(),
  });
const metadata = { correlationId: 'c', causationId: 'c', commandId: 'c', actor: 'test' };
/** A new order's placement: its stream created, and its SKU's balance moved in the same transaction. */
const placement = (store: ReturnType<typeof refusingStore>) =>
  store.append([{ streamId: 'order-x', expectedVersion: 0, events: [{ type: 'OrderPlaced', data: {} }] }], metadata, {
    moves: [{ balanceId: 'stock-MUG-1', delta: { available: -1, reserved: 1 } }],
  });

/** A transaction DynamoDB cancelled, with one reason per item, in the order they were sent. */
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('the DynamoDB store reads a transaction another one held as a race', () => {
  it('answers ConcurrencyError, not a stream that already exists, so its writer backs off and tries again', async () => {
    // The balance was held by another buyer's transaction (a hot SKU), the new stream's item was not the cause.
    const held = cancelled('None', 'TransactionConflict');

    const error = await placement(refusingStore(held)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ streamIds: ['order-x'], alreadyCreated: false });
  });

  it('answers a stream already there when its own creation was refused', async () => {
    const exists = cancelled('ConditionalCheckFailed', 'None');

    const error = await placement(refusingStore(exists)).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'ConcurrencyError', streamIds: ['order-x'], alreadyCreated: true });
  });
});
