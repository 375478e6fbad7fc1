import * as z from 'zod';

const eventFields = {
  eventId: z.string().min(1),
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  schemaVersion: z.int().min(1),
};

/**
 * The stored item, for decoding events that arrive from outside the store's own reads (the change stream): the first
 * event in its envelope, and the events that follow it in the same append (`eventItems.ts`).
 */
export const StoredEventEnvelope = z.object({
  streamId: z.string().min(1),
  version: z.int().min(1),
  ...eventFields,
  recordedAt: z.string().min(1),
  metadata: z.object({
    correlationId: z.string(),
    causationId: z.string(),
    commandId: z.string(),
    actor: z.string(),
  }),
  following: z.array(z.object(eventFields)).optional(),
});
