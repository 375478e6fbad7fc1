/**
 * What the bundles get for `@aws-sdk/credential-provider-node` (serverless.yml's `custom.esbuild.alias`): the default
 * credential chain cut to its first link, the environment. On Lambda that link always answers, with the execution
 * role's credentials, and the chain never reaches the others: SSO, ini files, processes, web identity, the container
 * and instance metadata. Those and the STS and SSO clients they load were a fifth of every package. Only the bundles
 * get this; the local stack, the tests and the ops commands run the SDK's own chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentity } from '@smithy/types';

export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);

// The chain's other exports, as the SDK defines them.
export const credentialsWillNeedRefresh = (credentials?: AwsCredentialIdentity) =>
  credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials?: AwsCredentialIdentity) =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
