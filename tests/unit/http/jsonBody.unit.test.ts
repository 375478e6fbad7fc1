import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { jsonBody, repeatedName } from '../../../functions/http/middlewares.js';
import { ProblemError } from '../../../functions/http/problem.js';

type Request = Parameters<NonNullable<ReturnType<typeof jsonBody>['before']>>[0];

/** The body middleware alone, before a handler: what it left in the event, or the problem it threw. */
const parse = (
  body: string,
  { base64 = false, headers = {} }: { base64?: boolean; headers?: object } = {},
): unknown => {
  const event = {
    headers: { 'content-type': 'application/json', ...headers },
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

  it('refuses a body that names a field twice, at any depth, escapes read, saying where', () => {
    expect(parse('{"sku":"A","price":{"amount":1},"price":{"amount":99999}}')).toBe(
      '400 malformed-json: The body names #/price more than once; send each field once.',
    );
    expect(parse('{"items":[{"sku":"A"},{"sku":"B","quantity":1,"qu\\u0061ntity":3}]}')).toMatch(
      /^400 malformed-json: The body names #\/items\/1\/quantity more than once/,
    );
    // The same name in two objects, or as a value, is no repeat.
    expect(parse('{"a":{"b":"a"},"b":{"a":"b","c":"\\"b\\":"}}')).toEqual({ a: { b: 'a' }, b: { a: 'b', c: '"b":' } });
  });

  it('refuses a body in a content coding it does not decode, and takes identity', () => {
    expect(parse('{"a":1}', { headers: { 'content-encoding': 'gzip' } })).toBe(
      '415 unsupported-media-type: Send the body without a content coding; gzip is not decoded.',
    );
    expect(parse('{"a":1}', { headers: { 'content-encoding': 'identity, br' } })).toMatch(/^415 .*; br is not/);
    expect(parse('{"a":1}', { headers: { 'content-encoding': 'identity' } })).toEqual({ a: 1 });
    // A coding's name is case-insensitive (RFC 9110 §8.4.1): Identity is identity.
    expect(parse('{"a":1}', { headers: { 'content-encoding': 'Identity' } })).toEqual({ a: 1 });
  });

  it('says which coding it takes when it refuses one: Accept-Encoding: identity', () => {
    const event = {
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: '{"a":1}',
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const refusal = (() => {
      try {
        void jsonBody({ required: true }).before?.({ event } as unknown as Request);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(ProblemError);
    expect((refusal as ProblemError).extras.headers).toEqual({ 'accept-encoding': 'identity' });
  });
});

describe('the first repeated member name of a JSON text', () => {
  it('is its path, or undefined when every object names each member once', () => {
    expect(repeatedName('{"a":[1,{"x":1},{"y":2,"y":3}]}')).toEqual(['a', 2, 'y']);
    expect(repeatedName('[{"a":1},{"a":1}]')).toBeUndefined();
    expect(repeatedName(' { "a" : 1 , "a" : 2 } ')).toEqual(['a']);
    expect(repeatedName('{"a\\"":1,"a\\u0022":2}')).toEqual(['a"']);
    expect(repeatedName('"just a string"')).toBeUndefined();
    // A value that spells a later member's name is no name; a member after an array is its object's.
    expect(repeatedName('{"a":"b","b":1}')).toBeUndefined();
    expect(repeatedName('{"a":[1],"b":1,"b":2}')).toEqual(['b']);
  });
});
