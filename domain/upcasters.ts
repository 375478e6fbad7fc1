/**
 * Where an event's shape change goes. A stored event keeps the schema version it was written with; reading brings it
 * up to today's shape through one step per version: `upcasters[type][n]` turns version n into n + 1. Registering a
 * step here makes n + 1 the version new events of that type are written with. Every reader (the store, the
 * projections, the saga starter, replay and the invariants) goes through the one registry the composition root builds
 * from this table (composition/root.ts); stored items are never rewritten.
 *
 * @example
 * // OrderPlaced v1 had no currency; v2 does.
 * export const upcasters: Upcasters = { OrderPlaced: { 1: (data) => ({ ...data, currency: 'EUR' }) } };
 */
export type Upcasters = Record<string, Record<number, (data: Record<string, unknown>) => Record<string, unknown>>>;

export const upcasters: Upcasters = {};
