import { describe, expect, it } from 'vitest';
import { memoryEventStore, memoryTables } from '../../../eventstore/memoryEventStore.js';
import { eventSchemaRegistry } from '../../../eventstore/upcasting.js';
import { eventStoreContract } from '../../support/eventStoreContract.js';
import { testMetadata } from '../../support/metadata.js';

// The port's contract, in memory; tests/int/eventStore.int.test.ts runs it on DynamoDB Local.
const tables = memoryTables();
eventStoreContract('in-memory', { store: (schemas) => memoryEventStore({ schemas, tables }) });

describe('in-memory event store: beyond the port', () => {
  it('lists every event of every stream in commit order, upcast as reads are', async () => {
    const writer = memoryEventStore({ schemas: eventSchemaRegistry(), tables: memoryTables() });
    await writer.append(
      [{ streamId: 'a', expectedVersion: 0, events: [{ type: 'Old', data: { n: 1 } }] }],
      testMetadata(),
    );
    await writer.append(
      [
        { streamId: 'b', expectedVersion: 0, events: [{ type: 'Old', data: { n: 2 } }] },
        { streamId: 'a', expectedVersion: 1, events: [{ type: 'Old', data: { n: 3 } }] },
      ],
      testMetadata(),
    );
    expect(writer.readAll().map((e) => [e.streamId, e.version, e.data.n])).toEqual([
      ['a', 1, 1],
      ['b', 1, 2],
      ['a', 2, 3],
    ]);
  });

  it('shares its tables only with the stores it is given them to', async () => {
    const shared = memoryTables();
    const one = memoryEventStore({ schemas: eventSchemaRegistry(), tables: shared });
    const two = memoryEventStore({
      schemas: eventSchemaRegistry({ Old: { 1: ({ n, ...rest }) => ({ ...rest, m: n }) } }),
      tables: shared,
    });
    const apart = memoryEventStore({ schemas: eventSchemaRegistry() });
    await one.append(
      [{ streamId: 's', expectedVersion: 0, events: [{ type: 'Old', data: { n: 1 } }] }],
      testMetadata(),
    );
    expect(two.readAll().map((e) => [e.schemaVersion, e.data])).toEqual([[2, { m: 1 }]]);
    expect(one.readAll().map((e) => [e.schemaVersion, e.data])).toEqual([[1, { n: 1 }]]);
    expect(await apart.readStream('s')).toEqual([]);
  });
});

// The registry is the caller's to give, never defaulted: without one, this does not compile.
// @ts-expect-error schemas is required
void (() => memoryEventStore({}));
