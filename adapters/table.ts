import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What an adapter over one DynamoDB table is given: the client, the table's name, and a clock to stamp items. */
export type TableAdapterOptions = { client: DynamoDBDocumentClient; table: string; now?: () => Date };
