import { expect } from 'vitest';
import type { DomainEvent, StoredEvent } from '../../../eventstore/types.js';
import type { Projection } from '../../../projections/projection.js';
import { eventSchemas } from '../../../composition/schemas.js';

/** When the event at `version` was recorded: one second apart, so every timestamp in a test is distinct. */
export const at = (version: number): string => new Date(Date.UTC(2025, 0, 1, 12, 0, version)).toISOString();

/** Wraps domain events in envelopes as the store would: versions from `from + 1`, recorded at {@link at}. */
export const stored = <E extends DomainEvent>(streamId: string, events: E[], from = 0): StoredEvent<E>[] =>
  events.map((event, index) => {
    const version = from + index + 1;
    return {
      ...event,
      streamId,
      version,
      eventId: `${streamId}/${version}`,
      schemaVersion: eventSchemas.currentVersion(event.type),
      recordedAt: at(version),
      metadata: { correlationId: 'correlation-1', causationId: 'cause-1', commandId: 'command-1', actor: 'test' },
    };
  });

/** Folds stored events into a view from nothing, as the runner would with every event in order. */
export const foldView = <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  events: StoredEvent<Event>[],
): View | undefined => events.reduce<View | undefined>(projection.evolve, undefined);

/**
 * Given/when/then for a projection, like the deciders': fold the given events, evolve the one under test, compare.
 * Events are enveloped by {@link stored}, so the event under test is at version `history.length + 1`.
 *
 * @example
 * givenView(ordersProjection, 'order-o1')([placed]).when(confirmed).then({ ...pending, status: 'CONFIRMED', … });
 * givenView(ordersProjection, 'order-o1')([]).when(confirmed).thenThrows(/before OrderPlaced/);
 */
export const givenView =
  <View extends Record<string, unknown>, Event extends DomainEvent>(
    projection: Projection<View, Event>,
    streamId: string,
  ) =>
  (history: Event[]) => ({
    when: (event: Event) => {
      const evolve = (): View => {
        const envelopes = stored(streamId, [...history, event]);
        const next = envelopes.pop();
        if (next === undefined) throw new Error('unreachable: there is always the event under test');
        return projection.evolve(foldView(projection, envelopes), next);
      };
      return {
        then: (expected: View): View => {
          const view = evolve();
          expect(view).toStrictEqual(expected);
          return view;
        },
        thenThrows: (message: RegExp): void => {
          expect(evolve).toThrow(message);
        },
      };
    },
  });
