import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '../../eventstore/types.js';

/** A stream id no other test uses, so tests can share tables. */
export const uniqueId = (prefix: string): string => `${prefix}-${randomUUID()}`;

export const testMetadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  correlationId: randomUUID(),
  causationId: randomUUID(),
  commandId: randomUUID(),
  actor: 'test',
  ...overrides,
});
