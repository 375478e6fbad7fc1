import { describe, expect, it } from 'vitest';
import type { Decider } from '../../../domain/shared/decider.js';
import { DomainError, OrderNotFoundError } from '../../../domain/shared/errors.js';
import { given } from '../../support/givenWhenThen.js';

// A counter that refuses to go above 2, so the helper itself can be checked to fail when it should.
type Added = { type: 'Added' };
class TooManyError extends DomainError {
  constructor(readonly count: number) {
    super('TOO_MANY', 'conflict', `Already ${count}.`);
  }
}
const counter: Decider<number, 'add', Added> = {
  initialState: () => 0,
  evolve: (count) => count + 1,
  decide: (_, count) => {
    if (count >= 2) throw new TooManyError(count);
    return [{ type: 'Added' }];
  },
};
const added: Added = { type: 'Added' };
const spec = given(counter);

describe('given/when/then', () => {
  it('passes when the decided events are the expected ones, folding the given events first', () => {
    spec([]).when('add').then([added]);
    spec([added]).when('add').then([added]);
    expect(spec([added, added]).when('add').thenThrows(TooManyError, { code: 'TOO_MANY', count: 2 })).toBeInstanceOf(
      TooManyError,
    );
  });

  it('fails when the decided events differ', () => {
    expect(() => spec([]).when('add').then([])).toThrow();
    expect(() => spec([]).when('add').then([added, added])).toThrow();
  });

  it('lets an unexpected refusal escape from then', () => {
    expect(() => spec([added, added]).when('add').then([])).toThrow(TooManyError);
  });

  it('fails thenThrows when the command is not refused', () => {
    expect(() => spec([]).when('add').thenThrows(TooManyError)).toThrow(/expected TooManyError/);
  });

  it('fails thenThrows on another error class or other fields', () => {
    expect(() => spec([added, added]).when('add').thenThrows(OrderNotFoundError)).toThrow();
    expect(() => spec([added, added]).when('add').thenThrows(TooManyError, { count: 3 })).toThrow();
    expect(() => spec([added, added]).when('add').thenThrows(TooManyError, { kind: 'not-found' })).toThrow();
  });
});
