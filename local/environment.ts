import { localAwsEnv } from './dynamoLocal.js';
import type { ServerlessConfig } from './serverlessConfig.js';

/**
 * The environment the handlers see locally: serverless.yml's, plus the SDK's own endpoint variable that points
 * DynamoDB clients at DynamoDB Local. The handlers' code has no local branch.
 */
export const stackEnvironment = (
  config: ServerlessConfig,
  endpoints: { dynamodb: string; kinesis?: string },
): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(config.provider.environment ?? {}).map(([key, value]) => [key, String(value)])),
  ...localAwsEnv,
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  ...(endpoints.kinesis ? { AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis } : {}),
  // The SDK's notice that its 2027 releases need Node 22; the deployed functions run nodejs22.x.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
