import { productsProjection } from './products.js';
import { ordersProjection } from './orders.js';
import type { DomainEvent } from '../eventstore/types.js';
import type { Projection } from './projection.js';

export * from './products.js';
export * from './orders.js';
export * from './projection.js';

/**
 * The read models, by name: the one list the projection consumers, replay, rebuilds, redrive and the invariants
 * share. A read model added here is replayed, rebuilt, redriven and checked by name; serverless.yml must give it its
 * two tables, its consumer, its parking keys and its alarm (tests/unit/projections/readModelList.unit.test.ts), and
 * composition/root.ts's `slotTableNames` the environment names of those tables (a type error until it does). Its
 * readers' queries are its own: a method on the ReadModels port (application/queries.ts) and its adapter.
 */
export const readModelProjections = { orders: ordersProjection, products: productsProjection } as const;
export type ReadModelName = keyof typeof readModelProjections;
export const readModelNames = Object.keys(readModelProjections) as ReadModelName[];
/** The view type of a read model. */
export type ViewOf<Name extends ReadModelName> =
  (typeof readModelProjections)[Name] extends Projection<infer View, infer _Event> ? View : never;
/** A read model's projection, for code that handles every read model alike: its views and events untyped. */
export const untypedProjection = (name: ReadModelName) =>
  readModelProjections[name] as unknown as Projection<Record<string, unknown>, DomainEvent>;
