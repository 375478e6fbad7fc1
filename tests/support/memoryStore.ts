import type { CommandContext } from '../../application/handleCommand.js';
import { type MemoryEventStore, memoryEventStore } from '../../eventstore/memoryEventStore.js';
import type { EventStore } from '../../eventstore/types.js';
import { eventSchemaRegistry } from '../../eventstore/upcasting.js';

/**
 * The schema registry fast tests read through. Production registers no upcaster yet; once the composition root
 * exports the one registry (issue 14, item 1), this should be that one, so fast tests read events as production does.
 */
const schemas = eventSchemaRegistry();

/** A fresh in-memory event store (eventstore/memoryEventStore.ts), held to the DynamoDB store's contract. */
export const memoryStore = (): MemoryEventStore => memoryEventStore({ schemas });

/** A command context on `store` for unit tests: fixed metadata, and retries without waiting. */
export const testContext = (store: EventStore): CommandContext => ({
  store,
  metadata: { correlationId: 'c-1', causationId: 'x-1', commandId: 'cmd-1', actor: 'test' },
  retry: { attempts: 5, baseDelayMs: 0, maxDelayMs: 0 },
});
