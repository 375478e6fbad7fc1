/**
 * An aggregate as a plain decider (after Emmett and Equinox): pure functions, no base class.
 *
 * `decide` answers a command with the events it causes, `[]` when the command changes nothing (so a retried
 * command is harmless), or throws a {@link DomainError} when the command is not allowed. `evolve` folds one event
 * into the state. Neither does I/O, reads the clock or draws random numbers.
 */
export type Decider<State, Command, Event> = {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
};

/** Folds events into state, from the decider's initial state or from a given one (a snapshot). */
export const fold = <State, Event>(
  decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>,
  events: Iterable<Event>,
  from: State = decider.initialState(),
): State => {
  let state = from;
  for (const event of events) state = decider.evolve(state, event);
  return state;
};

/** Each event paired with the state just before it, folding from `from`: what an event's effects may depend on. */
export const withStateBefore = <State, Event>(
  decider: Pick<Decider<State, never, Event>, 'evolve'>,
  events: readonly Event[],
  from: State,
): [Event, State][] => {
  let state = from;
  return events.map((event) => {
    const before = state;
    state = decider.evolve(state, event);
    return [event, before];
  });
};

/** Compile-time exhaustiveness check for `switch` over a discriminated union. */
export const assertNever = (value: never): never => {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
};
