import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/** The payment simulator's item for an idempotency key (an order id), read straight from its table, consistently. */
export const simulatorItem = async (
  client: DynamoDBDocumentClient,
  table: string,
  key: string,
): Promise<Record<string, unknown> | undefined> =>
  (await client.send(new GetCommand({ TableName: table, Key: { idempotencyKey: key }, ConsistentRead: true }))).Item;
