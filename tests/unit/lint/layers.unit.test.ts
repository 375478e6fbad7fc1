import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The project's own ESLint configuration, run on code that is never written to disk, as if it lived at `filePath`. */
const eslint = new ESLint({ cwd: process.cwd() });
const restrictedImports = async (filePath: string, code: string): Promise<string[]> => {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message);
};

describe('layer boundaries (eslint.config.js)', () => {
  it('fails a projections/ file that imports from functions/ or adapters/', async () => {
    const errors = await restrictedImports(
      'projections/fixture.ts',
      [
        "import { baseLogger } from '../functions/observability/log.js';",
        "import { dynamoViewStore } from '../adapters/viewStore.js';",
        'export const used = [baseLogger, dynamoViewStore];',
      ].join('\n'),
    );
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('projections/ may import only domain, ports, eventstore');
  });

  it('lets projections/ import the layers below it', async () => {
    const errors = await restrictedImports(
      'projections/fixture.ts',
      [
        "import type { StoredEvent } from '../eventstore/types.js';",
        "import type { Logger } from '../ports/logger.js';",
        "import type { Versioned } from './projection.js';",
        'export type Used = [StoredEvent, Logger, Versioned<string>];',
      ].join('\n'),
    );
    expect(errors).toEqual([]);
  });

  it('keeps application/ off adapters/ and the composition root, and adapters/ off functions/', async () => {
    expect(
      await restrictedImports('application/fixture.ts', "export { dynamoViewStore } from '../adapters/viewStore.js';"),
    ).toHaveLength(1);
    expect(
      await restrictedImports('application/fixture.ts', "export { composeStage } from '../composition/root.js';"),
    ).toHaveLength(1);
    expect(
      await restrictedImports('adapters/fixture.ts', "export { config } from '../functions/config.js';"),
    ).toHaveLength(1);
  });

  it('keeps api/, the HTTP contract, off the tooling and the adapters, and lets it use the views it answers with', async () => {
    expect(await restrictedImports('api/fixture.ts', "export { projectRoot } from '../local/paths.js';")).toHaveLength(
      1,
    );
    expect(
      await restrictedImports('api/fixture.ts', "export { dynamoViewStore } from '../adapters/viewStore.js';"),
    ).toHaveLength(1);
    expect(await restrictedImports('api/fixture.ts', "export { OrderView } from '../projections/orders.js';")).toEqual(
      [],
    );
  });

  it('lets a handler decode its Lambda event with adapters/changeRecords.ts, and no other adapter', async () => {
    expect(
      await restrictedImports(
        'functions/streams/fixture.ts',
        "export { decodeChangeRecord } from '../../adapters/changeRecords.js';",
      ),
    ).toEqual([]);
    expect(
      await restrictedImports(
        'functions/streams/fixture.ts',
        "export { dynamoParkingLot } from '../../adapters/parking.js';",
      ),
    ).toHaveLength(1);
  });
});

describe('what every function evaluates at init (eslint.config.js)', () => {
  const restricted = async (filePath: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath });
    return (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-properties');
  };

  it('refuses toLocaleString in api/, domain/ and projections/, and leaves it to code that runs on demand', async () => {
    const code = "export const figure = (1000).toLocaleString('en-US');";
    for (const filePath of ['api/fixture.ts', 'domain/fixture.ts', 'projections/fixture.ts']) {
      expect(await restricted(filePath, code)).toHaveLength(1);
    }
    expect(await restricted('functions/http/fixture.ts', code)).toEqual([]);
  });
});
