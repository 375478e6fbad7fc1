import { request } from 'node:http';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { type KinesisLocal, startKinesalite } from '../../../local/kinesisLocal.js';

let kinesis: KinesisLocal | undefined;
afterEach(async () => {
  await kinesis?.stop();
});

/** A Kinesis call as a web page would send it, or any client naming `host`. */
const call = (endpoint: string, headers: Record<string, string>) =>
  fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'Kinesis_20131202.ListStreams',
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/kinesis/aws4_request',
      ...headers,
    },
    body: '{}',
  });

describe('the local change stream', () => {
  it('answers the stack’s own clients, and no web page, whatever origin it names', async () => {
    kinesis = await startKinesalite();
    expect((await kinesis.client.send(new ListStreamsCommand({}))).StreamNames).toEqual([]);
    for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1:3000']) {
      const answer = await call(kinesis.endpoint, { origin });
      expect(answer.status, origin).toBe(403);
      expect(answer.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
    const preflight = await fetch(kinesis.endpoint, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
  });

  it('refuses a request naming another host, as a page reaching it by DNS rebinding would', async () => {
    kinesis = await startKinesalite();
    // fetch sets Host itself: node:http sends the one given.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const sent = request(kinesis?.endpoint ?? '', { method: 'POST', headers: { host: 'rebind.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      sent.on('error', reject);
      sent.end('{}');
    });
    expect(status).toBe(403);
  });
});
