import type { z } from 'zod';
import { figure } from '../../api/figures.js';

/**
 * What a field should be, in words a client reads in a `400`'s `errors[].detail`, for the checks whose message the
 * schema does not give itself (a schema's own, such as the SKU's "an upper-case SKU such as ABC-123", comes first).
 * Written as the schemas write theirs, naming what is expected: "a whole number, not 1.5", "required: an array",
 * "at most 50 items", where zod would say "Invalid input: expected int, received number", "expected array, received
 * undefined" or "Too big: expected array to have <=50 items". An issue this does not know keeps zod's message.
 */
export const fieldMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `required: ${noun(issue.expected)}`;
      return `${noun(issue.expected)}, not ${described(issue.input)}${unquoting(issue.expected, issue.input)}`;
    case 'too_small':
      return bound('at least', 'more than', issue.origin, issue.minimum, issue.inclusive ?? true);
    case 'too_big':
      return bound('at most', 'less than', issue.origin, issue.maximum, issue.inclusive ?? true);
    case 'invalid_value':
      return issue.values.length === 1
        ? `exactly ${JSON.stringify(issue.values[0])}`
        : `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'not_multiple_of':
      return `a multiple of ${figure(issue.divisor)}`;
    default:
      return undefined;
  }
};

const nouns: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

const noun = (expected: string): string => nouns[expected] ?? expected;

/** What a client sent, as JSON names it: a number's own value (1.5), otherwise its kind. */
const described = (input: unknown): string => {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'number') return Number.isFinite(input) ? JSON.stringify(input) : String(input);
  if (typeof input === 'string') return 'a string';
  if (typeof input === 'boolean') return String(input);
  return `an ${typeof input}`;
};

/** A number sent as text ("2" for 2) is the commonest slip: say how to send it. */
const unquoting = (expected: string, input: unknown): string =>
  (expected === 'int' || expected === 'number') && typeof input === 'string' && /^-?\d+(\.\d+)?$/.test(input.trim())
    ? `: send ${input.trim()} without quotes`
    : '';

const units: Record<string, [string, string]> = {
  string: ['character', 'characters'],
  array: ['item', 'items'],
  set: ['item', 'items'],
};

const bound = (
  inclusiveWord: string,
  exclusiveWord: string,
  origin: string,
  limit: number | bigint,
  inclusive: boolean,
): string => {
  const unit = units[origin];
  const amount = `${inclusive ? inclusiveWord : exclusiveWord} ${figure(limit)}`;
  if (!unit) return amount;
  if (origin === 'string' && inclusiveWord === 'at least' && inclusive && Number(limit) === 1) return 'not empty';
  return `${amount} ${Number(limit) === 1 ? unit[0] : unit[1]}`;
};
