import { DescribeExecutionCommand, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { PendingOrders, SagaExecutions } from '../application/sweeper.js';
import { PENDING_SHARDS } from '../projections/orders.js';
import { executionArnOf } from './executions.js';

/** The orders table's sparse index of PENDING orders (serverless.yml, projections/orders.ts). */
export const PENDING_INDEX = 'pendingSince';

/**
 * {@link PendingOrders} on the orders read model's sparse `pendingSince` index: each shard queried for
 * `pendingSince < cutoff`, oldest first. The index follows the projection, so an order found here may have settled a
 * moment ago; the sweeper checks the order's own stream before it acts.
 */
export const dynamoPendingOrders = ({
  client,
  table,
}: {
  client: DynamoDBDocumentClient;
  table: string;
}): PendingOrders => ({
  async placedBefore(cutoff, limit) {
    const found: { orderId: string; pendingSince: string }[] = [];
    for (let shard = 0; shard < PENDING_SHARDS; shard++) {
      let fromShard = 0;
      for await (const page of paginateQuery(
        { client, pageSize: Math.min(limit, 100) },
        {
          TableName: table,
          IndexName: PENDING_INDEX,
          KeyConditionExpression: '#shard = :shard AND #since < :cutoff',
          ExpressionAttributeNames: { '#shard': 'pendingShard', '#since': 'pendingSince' },
          ExpressionAttributeValues: { ':shard': String(shard), ':cutoff': cutoff },
        },
      )) {
        const items = (page.Items ?? []) as { orderId: string; pendingSince: string }[];
        found.push(...items);
        fromShard += items.length;
        if (fromShard >= limit) break;
      }
    }
    return found
      .sort((a, b) => a.pendingSince.localeCompare(b.pendingSince))
      .slice(0, limit)
      .map(({ orderId }) => orderId);
  },
});

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
