import { inject } from 'vitest';
import { jwtSettings, type LocalIssuer, localIssuer } from '../../local/auth.js';
import { stackEnvironment } from '../../local/environment.js';
import { type ApiServer, startApi } from '../../local/httpServer.js';
import { loadServerlessConfig, type ServerlessConfig } from '../../local/serverlessConfig.js';

export type TestApi = {
  api: ApiServer;
  issuer: LocalIssuer;
  config: ServerlessConfig;
  /** fetch against the API, with a bearer token for `as` (a customer id, or `{ admin }`) unless `as` is null. */
  call(
    method: string,
    path: string,
    options?: {
      as?: string | { admin: string } | null;
      body?: unknown;
      rawBody?: string | Uint8Array;
      headers?: Record<string, string>;
    },
  ): Promise<{
    status: number;
    headers: Headers;
    json: Record<string, unknown> & { errors?: unknown[] };
    text: string;
  }>;
};

/**
 * The API of serverless.yml's `test` stage, served by the local API Gateway stand-in on a free port, with the
 * handlers talking to the DynamoDB Local of the global setup.
 */
export const startTestApi = async ({ accessLog }: { accessLog?: (line: string) => void } = {}): Promise<TestApi> => {
  const config = await loadServerlessConfig('test');
  Object.assign(process.env, stackEnvironment(config, { dynamodb: inject('dynamoEndpoint') }));
  const issuer = await localIssuer(jwtSettings(config));
  const api = await startApi({ config, issuer, ...(accessLog ? { accessLog } : {}) });
  const call: TestApi['call'] = async (method, path, { as = 'customer-1', body, rawBody, headers = {} } = {}) => {
    const token =
      as === null
        ? undefined
        : typeof as === 'string'
          ? await issuer.sign(as)
          : await issuer.sign(as.admin, { admin: true });
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined || rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(rawBody !== undefined ? { body: rawBody } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parse = (): Record<string, unknown> => {
      try {
        return text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    const json = parse();
    return { status: response.status, headers: response.headers, json, text };
  };
  return { api, issuer, config, call };
};
