import { UpcasterError } from './errors.js';
import type { StoredEvent } from './types.js';

/**
 * Events are a storage contract: a stored event keeps the `schemaVersion` it was written with, and reading brings
 * it up to the current shape through one upcaster per version step. Changing an event's shape therefore means
 * registering the step from the previous version in `domain/upcasters.ts` (the current version is the one after the
 * last step); stored items are never rewritten.
 */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

export type EventSchemaRegistry = {
  /** The version new events of this type are written with (1 when the type is not registered). */
  currentVersion(type: string): number;
  /** Brings stored data of `type` from `fromVersion` to the current version. */
  upcast(type: string, fromVersion: number, data: Record<string, unknown>): Record<string, unknown>;
  /**
   * Every type's current version past 1 (`OrderPlaced@2,…`), empty with no upcaster: a snapshot folded under other
   * upcasters is a state this code would not fold, so the stores key snapshots on it too.
   */
  readonly fingerprint: string;
};

/** The name a snapshot of `schema` is kept under with these upcasters (`schema` itself while there are none). */
export const snapshotSchema = (schema: string, schemas: EventSchemaRegistry): string =>
  schemas.fingerprint ? `${schema};${schemas.fingerprint}` : schema;

/** `steps[type][n]` turns version n into version n + 1. */
export const eventSchemaRegistry = (steps: Record<string, Record<number, Upcaster>> = {}): EventSchemaRegistry => {
  const currentVersion = (type: string): number => {
    const from = Object.keys(steps[type] ?? {}).map(Number);
    return from.length === 0 ? 1 : Math.max(...from) + 1;
  };
  return {
    currentVersion,
    fingerprint: Object.keys(steps)
      .filter((type) => currentVersion(type) > 1)
      .sort()
      .map((type) => `${type}@${currentVersion(type)}`)
      .join(','),
    upcast(type, fromVersion, data) {
      let upcasted = data;
      for (let version = fromVersion; version < currentVersion(type); version++) {
        const step = steps[type]?.[version];
        if (!step) throw new Error(`No upcaster for ${type} from schema version ${version}.`);
        upcasted = step(upcasted);
      }
      return upcasted;
    },
  };
};

/**
 * Brings a stored event to its type's current schema version. One written by a newer release (after a rollback) keeps
 * the version it was written with, not relabelled as today's, and is marked `newerSchema`: its readers refuse it, and
 * the refusal names that version.
 */
export const upcastItem = (item: StoredEvent, schemas: EventSchemaRegistry): StoredEvent => {
  const current = schemas.currentVersion(item.type);
  if (item.schemaVersion > current) return { ...item, newerSchema: true };
  if (item.schemaVersion === current) return item;
  let data: Record<string, unknown>;
  try {
    data = schemas.upcast(item.type, item.schemaVersion, item.data);
  } catch (error) {
    throw new UpcasterError(item.streamId, item.version, item.type, item.schemaVersion, error);
  }
  return { ...item, data, schemaVersion: current };
};

/**
 * Why a reader cannot take this event as its type's current shape, or undefined: one a later release wrote. Every reader
 * asks before it parses an event (the deciders' load, the projections, the saga, the history, the ops commands), and
 * refuses it as it refuses data its schema does not take.
 */
export const newerSchema = (event: StoredEvent): Error | undefined =>
  event.newerSchema
    ? new Error(`written at schema version ${event.schemaVersion} by a later release, newer than this code reads`)
    : undefined;
