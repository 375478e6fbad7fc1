import type { CommandContext } from '../../application/handleCommand.js';
import { type MemoryEventStore, memoryEventStore } from '../../eventstore/memoryEventStore.js';
import type { EventStore } from '../../eventstore/types.js';
import { eventSchemas as schemas } from '../../composition/schemas.js';

/** A fresh in-memory event store (eventstore/memoryEventStore.ts), held to the DynamoDB store's contract. */
export const memoryStore = (): MemoryEventStore => memoryEventStore({ schemas });

/** A command context on `store` for unit tests: fixed metadata, and retries without waiting. */
export const testContext = (store: EventStore): CommandContext => ({
  store,
  metadata: { correlationId: 'c-1', causationId: 'x-1', commandId: 'cmd-1', actor: 'test' },
  retry: { attempts: 5, baseDelayMs: 0, maxDelayMs: 0 },
});

/**
 * `store`, noting how each read asked: whether each stream read and each balance read was strongly consistent (as
 * each store defaults, a stream read consistent, a balance read not).
 */
export const recordingReads = (store: EventStore) => {
  const reads: { stream: boolean[]; balance: boolean[] } = { stream: [], balance: [] };
  const recorded: EventStore = {
    ...store,
    readStream: (streamId, options) => {
      reads.stream.push(options?.consistent ?? true);
      return store.readStream(streamId, options);
    },
    readBalance: (balanceId, options) => {
      reads.balance.push(options?.consistent ?? false);
      return store.readBalance(balanceId, options);
    },
  };
  return { store: recorded, reads };
};
