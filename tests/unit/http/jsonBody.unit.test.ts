import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { jsonBody } from '../../../functions/http/middlewares.js';
import { ProblemError } from '../../../functions/http/problem.js';

type Request = Parameters<NonNullable<ReturnType<typeof jsonBody>['before']>>[0];

/** The body middleware alone, before a handler: what it left in the event, or the problem it threw. */
const parse = (body: string, { base64 = false } = {}): unknown => {
  const event = {
    headers: { 'content-type': 'application/json' },
    body: base64 ? Buffer.from(body, 'latin1').toString('base64') : body,
    isBase64Encoded: base64,
  } as unknown as APIGatewayProxyEventV2;
  try {
    void jsonBody({ required: true }).before?.({ event } as unknown as Request);
    return (event as { body: unknown }).body;
  } catch (error) {
    return error instanceof ProblemError ? `${error.status} ${error.slug}: ${error.detail}` : error;
  }
};

describe('the JSON body of a request', () => {
  it('is read from bytes (base64) as strict UTF-8: a byte that is not is a 400, never a U+FFFD stored for good', () => {
    expect(parse('{"name":"Caf\u00e9"}', { base64: true })).toBe('400 malformed-json: The body is not valid UTF-8.');
    const utf8 = Buffer.from('{"name":"Café"}', 'utf8').toString('latin1');
    expect(parse(utf8, { base64: true })).toEqual({ name: 'Café' });
  });

  it('refuses an escaped lone surrogate, in a value or a key, and takes an escaped pair', () => {
    expect(parse('{"name":"Tea \\ud800"}')).toMatch(/^400 malformed-json: .*surrogate/);
    expect(parse('{"na\\udc00me":"Tea"}')).toMatch(/^400 malformed-json: .*surrogate/);
    expect(parse('{"name":"Tea \\ud83c\\udf75"}')).toEqual({ name: 'Tea 🍵' });
  });

  it('refuses a text body holding U+FFFD, which a gateway puts where bytes were not UTF-8, and takes its escape', () => {
    // What the local stack, and API Gateway, hand over for `{"name":"caf\xe9"}`: the bad byte already replaced.
    expect(parse('{"name":"caf\ufffd"}')).toMatch(/^400 malformed-json: The body is not valid UTF-8/);
    expect(parse('{"name":"caf\\ufffd"}')).toEqual({ name: 'caf\ufffd' });
    // Handed over as bytes, it is read strictly: U+FFFD correctly encoded is UTF-8 like any other character.
    const bytes = Buffer.from('{"name":"caf\ufffd"}', 'utf8').toString('latin1');
    expect(parse(bytes, { base64: true })).toEqual({ name: 'caf\ufffd' });
  });

  it('reads a body nested thousands deep as the JSON it is, for the schema to refuse, not as malformed', () => {
    const deep = `{"x":${'['.repeat(6000)}1${']'.repeat(6000)}}`;
    expect(parse(deep)).toMatchObject({ x: [expect.any(Array)] });
    const hidden = `{"x":${'['.repeat(6000)}"\\ud800"${']'.repeat(6000)}}`;
    expect(parse(hidden)).toMatch(/^400 malformed-json: .*surrogate/);
  });
});
