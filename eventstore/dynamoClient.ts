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
): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(instrument(new DynamoDBClient(config)), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
