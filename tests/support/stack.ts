import { inject } from 'vitest';
import { documentClient } from '../../eventstore/dynamoClient.js';
import { dynamoEventStore } from '../../eventstore/dynamoEventStore.js';
import { eventSchemas } from '../../composition/schemas.js';
import type { EventSchemaRegistry } from '../../eventstore/upcasting.js';
import { localClientConfig } from '../../local/dynamoLocal.js';

/** Clients for the DynamoDB Local the global setup started, with the `test` stage's table names. */
export const localStack = () => {
  const environment = inject('environment');
  const client = documentClient({
    endpoint: inject('dynamoEndpoint'),
    ...localClientConfig,
  });
  const tables = {
    events: required(environment, 'EVENTS_TABLE'),
    snapshots: required(environment, 'SNAPSHOTS_TABLE'),
  };
  /** The store as the stage wires it, or with a registry of a test's own (an upcasting test). */
  const store = (schemas: EventSchemaRegistry = eventSchemas) =>
    dynamoEventStore({ client, eventsTable: tables.events, snapshotsTable: tables.snapshots, schemas });
  return { client, tables, store };
};

const required = (environment: Record<string, string>, name: string): string => {
  const value = environment[name];
  if (!value) throw new Error(`serverless.yml sets no ${name}`);
  return value;
};

export { testMetadata, uniqueId } from './metadata.js';
