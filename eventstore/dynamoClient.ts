import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The document client every adapter shares. On AWS it needs no configuration; locally the endpoint comes from the
 * SDK's own `AWS_ENDPOINT_URL_DYNAMODB`, so the same code talks to DynamoDB Local. `instrument` sees the base client
 * before it is wrapped (the functions capture it for X-Ray there, as the X-Ray SDK's docs do; the document client
 * shares its middleware stack).
 */
export const documentClient = (
  config: DynamoDBClientConfig = {},
  { instrument = (client) => client }: { instrument?: (client: DynamoDBClient) => DynamoDBClient } = {},
): DynamoDBDocumentClient => {
  const base = new DynamoDBClient(config);
  // Without a logger of ours, the SDK's logs to a logger that discards them, yet first copies every request and
  // response to mask sensitive fields: a few per cent of the CPU of a busy local stack, spent on nothing.
  if (!config.logger) base.middlewareStack.remove('loggerMiddleware');
  return DynamoDBDocumentClient.from(instrument(base), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
};
