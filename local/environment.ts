import { localAwsEnv } from './dynamoLocal.js';
import type { ServerlessConfig } from './serverlessConfig.js';

/**
 * A CloudFormation value as the local stack resolves it: a `Ref` to a state machine is its local ARN, to a table
 * its name, to a stream its name; plain values stay as they are.
 */
const resolve = (config: ServerlessConfig, value: unknown): string => {
  const ref = (value as { Ref?: string } | null)?.Ref;
  if (typeof ref === 'string') {
    const resource = config.resources?.Resources?.[ref];
    const properties = resource?.Properties ?? {};
    if (resource?.Type === 'AWS::StepFunctions::StateMachine') {
      return `arn:aws:states:${config.provider.region}:000000000000:stateMachine:${String(properties.StateMachineName)}`;
    }
    if (resource?.Type === 'AWS::DynamoDB::Table') return String(properties.TableName);
    if (resource?.Type === 'AWS::Kinesis::Stream') return String(properties.Name);
    throw new Error(`The local stack cannot resolve Ref ${ref}`);
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
};

/**
 * The environment the handlers see locally: serverless.yml's (the provider's and every function's; they share one
 * process), plus the SDK's own endpoint variables pointing each client at its stand-in. Their code has no local
 * branch.
 */
export const stackEnvironment = (
  config: ServerlessConfig,
  endpoints: { dynamodb: string; kinesis?: string; sfn?: string },
): Record<string, string> => {
  const declared = [
    config.provider.environment ?? {},
    ...Object.values(config.functions ?? {}).map((fn) => fn.environment ?? {}),
  ];
  return {
    ...Object.fromEntries(
      declared.flatMap((environment) =>
        Object.entries(environment).map(([key, value]) => [key, resolve(config, value)]),
      ),
    ),
    ...localAwsEnv,
    // The region the config was resolved in (serverless.yml falls back to AWS_REGION): the handlers' ARNs and a later
    // load of the config in this process then agree with the stand-ins' (DynamoDB Local shares one database across
    // regions).
    AWS_REGION: String(config.provider.region),
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    ...(endpoints.kinesis ? { AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis } : {}),
    ...(endpoints.sfn ? { AWS_ENDPOINT_URL_SFN: endpoints.sfn } : {}),
    // The SDK's notice that its 2027 releases need Node 22; the deployed functions run nodejs22.x.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
};

/**
 * A reader of one variable of the functions' environment as serverless.yml sets it (a table's name, a setting), which
 * refuses a variable it does not set rather than answer nothing.
 */
export const environmentVariable =
  (environment: Record<string, unknown>) =>
  (variable: string): string => {
    const value = environment[variable];
    if (typeof value !== 'string' || !value) throw new Error(`serverless.yml sets no ${variable}`);
    return value;
  };
