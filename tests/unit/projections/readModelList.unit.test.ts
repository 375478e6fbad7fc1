import { beforeAll, describe, expect, it } from 'vitest';
import { loadServerlessConfig, type ServerlessConfig } from '../../../local/serverlessConfig.js';
import { readModelNames, readModelProjections } from '../../../projections/index.js';

/** The first value under `key` anywhere in `node`, depth first. */
const find = (node: unknown, key: string): unknown => {
  if (node === null || typeof node !== 'object') return undefined;
  if (key in node) return (node as Record<string, unknown>)[key];
  for (const child of Object.values(node)) {
    const found = find(child, key);
    if (found !== undefined) return found;
  }
  return undefined;
};

// The code's one list of read models (projections/index.ts) drives replay, rebuilds, redrive and the invariants; what
// a read model needs on AWS is declared in serverless.yml. A read model added to one and not the other would run
// locally (which enforces no IAM and raises no alarm) and fail, or go unwatched, once deployed.
describe('the list of read models', () => {
  let config: ServerlessConfig;
  // Printed once by `sls print` when its cache is cold: seconds, more on a busy machine.
  beforeAll(async () => {
    config = await loadServerlessConfig('prod');
  }, 60_000);

  it('names each projection by the name it parks and measures under', () => {
    for (const name of readModelNames) expect(readModelProjections[name].name).toBe(name);
  });

  it.each(readModelNames)('gives the %s read model what serverless.yml must declare for it', (name) => {
    const custom = config.custom as Record<string, unknown>;
    const tables = custom.tables as Record<string, unknown>;
    const environment = Object.values((config.provider as { environment?: Record<string, unknown> }).environment ?? {});
    const resources = (config.resources as { Resources: Record<string, { Type: string; Properties?: unknown }> })
      .Resources;
    const consumer = config.functions?.[`${name}Projection`];
    const grantsOf = (functionName: string) => JSON.stringify(config.functions?.[functionName]?.iamRoleStatements);
    // Its consumer reads its own streams off the change stream…
    expect(consumer?.events, 'its consumer of the change stream').toEqual([
      expect.objectContaining({ stream: expect.anything() }),
    ]);
    expect(JSON.stringify(consumer?.events)).toContain(`{"prefix":"${readModelProjections[name].streamPrefix}"}`);
    for (const table of [tables[name], tables[`${name}Green`]]) {
      // …each of its two tables is made, named to the functions, and written by its consumer and the replay worker…
      expect(table, `custom.tables.${name}(Green)`).toBeTypeOf('string');
      const [logicalId] =
        Object.entries(resources).find(
          ([, resource]) =>
            resource.Type === 'AWS::DynamoDB::Table' &&
            (resource.Properties as { TableName?: unknown } | undefined)?.TableName === table,
        ) ?? [];
      expect(logicalId, `the table ${String(table)}`).toBeDefined();
      expect(environment, `a variable naming ${String(table)}`).toContain(table);
      expect(grantsOf(`${name}Projection`), `its consumer's grant`).toContain(`"${logicalId}"`);
      expect(grantsOf('replaySegment'), `the replay worker's grant`).toContain(`"${logicalId}"`);
    }
    // …its consumer may park its poison streams, in either table's name (ADR 0009), and no other read model's…
    const parking = (custom.iam as { parking?: Record<string, unknown> }).parking?.[name];
    expect(find(parking, 'dynamodb:LeadingKeys'), `custom.iam.parking.${name}`).toEqual([
      `parked#${name}`,
      `parked#${name}@green`,
    ]);
    const parked = grantsOf(`${name}Projection`).match(/parked#[^"]*/g);
    expect(parked, `its consumer's parking grant`).toEqual([`parked#${name}`, `parked#${name}@green`]);
    // …and a parked stream pages someone.
    expect([find(find(custom.alarms, 'ParkedStreamsAlarm'), 'projection')].flat()).toContain(name);
  });
});
