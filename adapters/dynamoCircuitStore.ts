import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { CircuitStore } from '../application/circuitBreaker.js';
import type { TableAdapterOptions } from './table.js';

/** The partition key of the circuits table (serverless.yml, `CircuitsTable`): the circuit's name. */
export const CIRCUIT_KEY = 'name';

const CircuitItem = z.object({
  state: z.enum(['CLOSED', 'OPEN', 'HALF_OPEN']),
  failures: z.array(z.number()),
  openSince: z.number().optional(),
  openedAt: z.number().optional(),
  probeUntil: z.number().optional(),
  version: z.number().int().positive(),
  updatedAt: z.string(),
});

/**
 * The circuits of a stage in DynamoDB: one item per circuit, each write a `PutItem` conditioned on the version it
 * read, so concurrent Lambdas never overwrite each other's transition. Reads are eventually consistent: a stale read
 * only loses its write's condition and is read again (or lets a call through that the next read would refuse).
 */
export const dynamoCircuitStore = ({ client, table, now = () => new Date() }: TableAdapterOptions): CircuitStore => ({
  async read(name) {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key: { [CIRCUIT_KEY]: name } }));
    if (!Item) return undefined;
    const { version, updatedAt: _, ...circuit } = CircuitItem.parse(Item);
    return { circuit, version };
  },
  async write(name, circuit, version) {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { [CIRCUIT_KEY]: name, ...circuit, version: version + 1, updatedAt: now().toISOString() },
          ConditionExpression: version === 0 ? 'attribute_not_exists(#key)' : '#version = :version',
          ExpressionAttributeNames: version === 0 ? { '#key': CIRCUIT_KEY } : { '#version': 'version' },
          ...(version === 0 ? {} : { ExpressionAttributeValues: { ':version': version } }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },
});
