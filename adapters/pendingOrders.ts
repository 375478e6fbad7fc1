import { DescribeExecutionCommand, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { PendingOrders, SagaExecutions } from '../application/sweeper.js';
import { PENDING_SHARDS } from '../projections/orders.js';
import { executionArnOf } from './executions.js';

/** The orders table's sparse index of PENDING orders (serverless.yml, projections/orders.ts). */
export const PENDING_INDEX = 'pendingSince';

type PendingItem = { orderId: string; pendingSince: string };

/**
 * {@link PendingOrders} on the orders read model's sparse `pendingSince` index: each shard queried for
 * `pendingSince < cutoff`, oldest first, a page at a time, and the shards merged by age. The index follows the
 * projection, so an order found here may have settled a moment ago; the sweeper checks the order's own stream before
 * it acts.
 */
export const dynamoPendingOrders = ({
  client,
  table,
}: {
  client: DynamoDBDocumentClient;
  table: string;
}): PendingOrders => {
  async function* shardItems(shard: number, cutoff: string): AsyncGenerator<PendingItem> {
    for await (const page of paginateQuery(
      { client, pageSize: 100 },
      {
        TableName: table,
        IndexName: PENDING_INDEX,
        KeyConditionExpression: '#shard = :shard AND #since < :cutoff',
        ExpressionAttributeNames: { '#shard': 'pendingShard', '#since': 'pendingSince' },
        ExpressionAttributeValues: { ':shard': String(shard), ':cutoff': cutoff },
      },
    )) {
      yield* (page.Items ?? []) as PendingItem[];
    }
  }
  return {
    async *placedBefore(cutoff) {
      const shards = Array.from({ length: PENDING_SHARDS }, (_, shard) => shardItems(shard, cutoff));
      try {
        const heads = await Promise.all(shards.map((shard) => shard.next()));
        for (;;) {
          // The oldest of the shards' next orders.
          let oldest: { index: number; item: PendingItem } | undefined;
          heads.forEach((head, index) => {
            if (!head.done && (!oldest || head.value.pendingSince < oldest.item.pendingSince)) {
              oldest = { index, item: head.value };
            }
          });
          if (!oldest) return;
          yield oldest.item.orderId;
          heads[oldest.index] = await (shards[oldest.index] as AsyncGenerator<PendingItem>).next();
        }
      } finally {
        // A sweep that stops early (or a shard that failed) ends every shard's reading too.
        await Promise.allSettled(shards.map((shard) => shard.return(undefined)));
      }
    },
  };
};

/**
 * {@link SagaExecutions} on Step Functions: a STANDARD execution is named by its order id, so DescribeExecution
 * answers whether it still runs (none at all: not running). An EXPRESS execution cannot be described: `undefined`.
 */
export const stepFunctionsExecutions = ({
  client,
  stateMachineArn,
  type,
}: {
  client: SFNClient;
  stateMachineArn: string;
  type: 'STANDARD' | 'EXPRESS';
}): SagaExecutions => ({
  async running(orderId) {
    if (type === 'EXPRESS') return undefined;
    const executionArn = executionArnOf(stateMachineArn, orderId);
    try {
      const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
      return status === 'RUNNING';
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return false;
      throw error;
    }
  },
});
