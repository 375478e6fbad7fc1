/**
 * Where an event's shape change goes. A stored event keeps the schema version it was written with; reading brings it
 * up to today's shape through one step per version: `upcasters[type][n]` turns version n into n + 1. Registering a
 * step here makes n + 1 the version new events of that type are written with. Every reader (the store, the
 * projections, the saga starter, replay, the invariants and `npm run order`) goes through the one registry the
 * composition root builds from this table (composition/root.ts); stored items are never rewritten, and snapshots
 * folded under other upcasters are ignored.
 *
 * A shape change is, in one release: the event's zod schema (strict: an older release refuses the new shape, so a
 * rollback past it parks what reads such events, docs/operations.md "Roll back"), the step here, the deciders and
 * projections that write and read the field, and a rebuild of a read model whose views show it. Register the step
 * with the schema change, never after: events written in the new shape before it exists are stamped with the old
 * version, and the step would later run on them too. Never change a registered step: add the next version's.
 *
 * A field whose meaning changes (its unit, say) needs a step too, even one that changes nothing: the new version is
 * what an older release, after a rollback, refuses (every reader refuses an event of a version newer than its own,
 * `newerSchema`), where it would take data its schema still fits as its own.
 *
 * An added optional field needs no step: older events parse as they are, and a step that changes nothing would only
 * drop every snapshot once. A step is for a field that becomes required, is renamed, or changes its type. A field of
 * `OrderPlaced` that makes another order belongs in `place`'s retry check too (domain/order/decide.ts), or a retry
 * under the same `Idempotency-Key` with another value answers the first order and drops the new value.
 *
 * What a step does not reach: registering any step drops every snapshot once (each is folded again from its stream,
 * keyed by the registry's versions), and a saga execution started before an `OrderPlaced` change carries its order
 * as it was placed. A step reads it from the order's stream when the copy no longer parses; one that only adds an
 * optional field, or changes a value but not its type, is not seen there, and the execution runs on the old copy.
 *
 * @example
 * // OrderPlaced v1 had no sales channel; v2 requires one (`channel: z.enum(['web', 'legacy'])` in its schema).
 * export const upcasters: Upcasters = { OrderPlaced: { 1: (data) => ({ ...data, channel: 'legacy' }) } };
 */
export type Upcasters = Record<string, Record<number, (data: Record<string, unknown>) => Record<string, unknown>>>;

export const upcasters: Upcasters = {};
