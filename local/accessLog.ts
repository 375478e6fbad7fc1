import type { ServerlessConfig } from './serverlessConfig.js';

/** osls's format when `provider.logs.httpApi` is `true` (lib/plugins/aws/package/compile/events/http-api.js). */
const frameworkDefaultFormat = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
});

/** The HTTP API access log format serverless.yml deploys (`provider.logs.httpApi`), or none when it logs no access. */
export const accessLogFormat = (config: ServerlessConfig): string | undefined => {
  const setting = (config.provider as { logs?: { httpApi?: boolean | { format?: string } } }).logs?.httpApi;
  if (!setting) return undefined;
  return setting === true ? frameworkDefaultFormat : (setting.format ?? frameworkDefaultFormat);
};

/** What the local gateway knows of a request, by `$context` variable name (without the `$context.` prefix). */
export type AccessContext = Record<string, string | number | undefined>;

/**
 * One access log line, `format`'s `$context.*` variables replaced as API Gateway replaces them: a value it does not
 * have is `-`. Values are escaped for a JSON string, so that a JSON format stays JSON whatever the client sent.
 */
export const renderAccessLog = (format: string, context: AccessContext): string =>
  format.replace(/\$context\.([A-Za-z0-9_.]+)/g, (_, name: string) => {
    const value = context[name];
    return value === undefined || value === '' ? '-' : JSON.stringify(String(value)).slice(1, -1);
  });
