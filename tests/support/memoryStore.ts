import type { CommandContext } from '../../application/handleCommand.js';
import { BalanceTooLowError, ConcurrencyError } from '../../eventstore/errors.js';
import type { Balance, EventStore, StoredEvent } from '../../eventstore/types.js';

/** An event store in memory: enough of DynamoDB's conditional appends and balance moves for commands to race. */
export const memoryStore = (): EventStore & { all(): StoredEvent[] } => {
  const streams = new Map<string, StoredEvent[]>();
  const balances = new Map<string, Balance>();
  return {
    async append(appends, metadata, { now = new Date(), guards = [], moves = [] } = {}) {
      if (appends.every((a) => a.events.length === 0))
        return appends.map((a) => ({ ...a, version: a.expectedVersion }));
      const stale = [...appends, ...guards.map((g) => ({ streamId: g.streamId, expectedVersion: g.version }))].filter(
        ({ streamId, expectedVersion }) => (streams.get(streamId)?.length ?? 0) !== expectedVersion,
      );
      if (stale.length > 0) throw new ConcurrencyError(stale.map((s) => s.streamId));
      const moved = new Map<string, Balance>();
      // As in DynamoDB, an append moves each balance once, by the sum of its moves.
      for (const { balanceId, delta } of moves) {
        const balance = moved.get(balanceId) ?? balances.get(balanceId) ?? { balanceId, counts: {}, version: 0 };
        const counts = { ...balance.counts };
        for (const [name, by] of Object.entries(delta)) counts[name] = (counts[name] ?? 0) + by;
        const version = moved.has(balanceId) ? balance.version : balance.version + 1;
        moved.set(balanceId, { balanceId, counts, version });
      }
      const refused = [...moved.values()].filter((b) => Object.values(b.counts).some((count) => count < 0));
      if (refused.length > 0) {
        throw new BalanceTooLowError(
          refused.map((b) => b.balanceId),
          balances.get(refused[0]?.balanceId ?? '')?.counts,
        );
      }
      for (const [balanceId, balance] of moved) balances.set(balanceId, balance);
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
    readBalance: async (balanceId) => structuredClone(balances.get(balanceId)),
    all: () => [...streams.values()].flat(),
  };
};

/** A command context on `store` for unit tests: fixed metadata, and retries without waiting. */
export const testContext = (store: EventStore): CommandContext => ({
  store,
  metadata: { correlationId: 'c-1', causationId: 'x-1', commandId: 'cmd-1', actor: 'test' },
  retry: { attempts: 5, baseDelayMs: 0, maxDelayMs: 0 },
});
