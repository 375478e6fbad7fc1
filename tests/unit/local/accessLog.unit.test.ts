import { describe, expect, it } from 'vitest';
import { accessLogFormat, renderAccessLog } from '../../../local/accessLog.js';
import type { ServerlessConfig } from '../../../local/serverlessConfig.js';

const configWith = (httpApi: unknown): ServerlessConfig => ({
  service: 'orderflow',
  provider: { stage: 'test', region: 'eu-west-1', ...(httpApi === undefined ? {} : { logs: { httpApi } }) },
});

describe('the local gateway’s access log', () => {
  it('renders each $context variable as API Gateway does: a missing one as -, a value escaped so JSON stays JSON', () => {
    const line = renderAccessLog(
      '{"path":"$context.path","status":"$context.status","error":"$context.error.message"}',
      {
        path: '/orders/"x"\\\n',
        status: 401,
        'error.message': '',
      },
    );
    expect(JSON.parse(line)).toEqual({ path: '/orders/"x"\\\n', status: '401', error: '-' });
  });

  it('takes the format serverless.yml names, the framework’s own for `true`, and none when it logs no access', () => {
    expect(accessLogFormat(configWith({ format: '$context.requestId' }))).toBe('$context.requestId');
    expect(accessLogFormat(configWith(true))).toContain('"routeKey":"$context.routeKey"');
    expect(accessLogFormat(configWith(false))).toBeUndefined();
    expect(accessLogFormat(configWith(undefined))).toBeUndefined();
  });
});
