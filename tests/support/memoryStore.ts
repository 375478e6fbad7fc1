import { ConcurrencyError } from '../../eventstore/errors.js';
import type { EventStore, StoredEvent } from '../../eventstore/types.js';

/** An event store in memory: enough of DynamoDB's conditional appends for commands to race. */
export const memoryStore = (): EventStore & { all(): StoredEvent[] } => {
  const streams = new Map<string, StoredEvent[]>();
  return {
    async append(appends, metadata, { now = new Date(), guards = [] } = {}) {
      const stale = [...appends, ...guards.map((g) => ({ streamId: g.streamId, expectedVersion: g.version }))].filter(
        ({ streamId, expectedVersion }) => (streams.get(streamId)?.length ?? 0) !== expectedVersion,
      );
      if (stale.length > 0) throw new ConcurrencyError(stale.map((s) => s.streamId));
      return appends.map(({ streamId, expectedVersion, events }) => {
        const stored = events.map((event, index) => ({
          ...event,
          streamId,
          version: expectedVersion + index + 1,
          eventId: `${streamId}/${expectedVersion + index + 1}`,
          schemaVersion: 1,
          recordedAt: now.toISOString(),
          metadata,
        }));
        streams.set(streamId, [...(streams.get(streamId) ?? []), ...stored]);
        return { streamId, version: expectedVersion + events.length };
      });
    },
    readStream: async (streamId, { afterVersion = 0, toVersion = Infinity } = {}) =>
      (streams.get(streamId) ?? []).filter((e) => e.version > afterVersion && e.version <= toVersion),
    readSnapshot: async () => undefined,
    writeSnapshot: async () => undefined,
    all: () => [...streams.values()].flat(),
  };
};
