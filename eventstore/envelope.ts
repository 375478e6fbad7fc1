import * as z from 'zod';

/** The stored envelope, for decoding events that arrive from outside the store's own reads (the change stream). */
export const StoredEventEnvelope = z.object({
  streamId: z.string().min(1),
  version: z.int().min(1),
  eventId: z.string().min(1),
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  schemaVersion: z.int().min(1),
  recordedAt: z.string().min(1),
  metadata: z.object({
    correlationId: z.string(),
    causationId: z.string(),
    commandId: z.string(),
    actor: z.string(),
  }),
});
