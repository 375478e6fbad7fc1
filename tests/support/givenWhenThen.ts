import { expect } from 'vitest';
import { fold, type Decider } from '../../domain/shared/decider.js';

/** Any error class, so `thenThrows` names the exact subclass it expects. */
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/**
 * Given/when/then for a decider, in Emmett's style: fold the given events, decide the command, compare.
 *
 * - `then(events)`: the command appends exactly these events; `then([])` is the idempotent no-op.
 * - `thenThrows(ErrorClass, props?)`: the command is refused with an instance of `ErrorClass` whose fields include
 *   `props`; the error is returned for any further checks.
 *
 * @example
 * given(order)([placed]).when(confirm).then([{ type: 'OrderConfirmed', data: { orderId } }]);
 * given(order)([]).when(confirm).thenThrows(OrderNotFoundError, { code: 'ORDER_NOT_FOUND', kind: 'not-found' });
 */
export const given =
  <State, Command, Event>(decider: Decider<State, Command, Event>) =>
  (events: Event[]) => ({
    when: (command: Command) => {
      const decide = (): Event[] => decider.decide(command, fold(decider, events));
      return {
        then: (expected: Event[]): void => {
          expect(decide()).toEqual(expected);
        },
        thenThrows: <E extends Error>(errorClass: ErrorClass<E>, props?: Partial<E>): E => {
          let decided: Event[];
          try {
            decided = decide();
          } catch (error) {
            expect(error).toBeInstanceOf(errorClass);
            if (props) expect(error).toMatchObject(props);
            return error as E;
          }
          return expect.fail(`expected ${errorClass.name}, but the command decided ${JSON.stringify(decided)}`);
        },
      };
    },
  });
