import { describe, expect, it } from 'vitest';
import { parameterProblems } from '../../../functions/http/middlewares.js';

const malformedParameters = (raw: string | undefined) => parameterProblems(raw).malformed;
const repeatedParameters = (raw: string | undefined) => parameterProblems(raw).repeated;

describe('query parameters that are not UTF-8', () => {
  it('names each parameter whose name or value percent-decodes to bytes no character has', () => {
    expect(malformedParameters('customerId=%FF')).toEqual(['customerId']);
    // A lone surrogate's bytes, which a lenient decoder also reads as U+FFFD.
    expect(malformedParameters('limit=5&customerId=%ED%A0%80')).toEqual(['customerId']);
    // A character cut short, and a name that is not UTF-8 (named as the gateway reads it).
    expect(malformedParameters('cursor=%E2%82&%C3=1')).toEqual(['cursor', '\uFFFD']);
  });

  it('counts two malformed names that both read as U+FFFD as malformed, not as one name given twice', () => {
    expect(malformedParameters('%C3=1&%FF=2')).toEqual(['\uFFFD']);
    expect(repeatedParameters('%C3=1&%FF=2')).toEqual([]);
    expect(repeatedParameters('limit=1&limit=2&%FF=3')).toEqual(['limit']);
  });

  it('names a parameter as the gateway does, a leading `?` of the query string included', () => {
    expect(malformedParameters('?customerId=%FF')).toEqual(['?customerId']);
    expect(repeatedParameters('?limit=1&limit=2')).toEqual([]);
  });

  it('takes UTF-8 however it is written: percent-encoded, `+` for a space, raw, or a stray `%`', () => {
    expect(malformedParameters(undefined)).toEqual([]);
    expect(malformedParameters('')).toEqual([]);
    expect(malformedParameters('customerId=caf%C3%A9&name=a+b&limit=5')).toEqual([]);
    expect(malformedParameters('customerId=%F0%9F%98%80')).toEqual([]);
    expect(malformedParameters('customerId=café&x=100%&y=%zz')).toEqual([]);
    // U+FFFD sent as its own UTF-8 bytes is a character like any other.
    expect(malformedParameters('customerId=%EF%BF%BD')).toEqual([]);
  });
});
