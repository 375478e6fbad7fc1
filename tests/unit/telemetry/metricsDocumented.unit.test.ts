import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { projectRoot } from '../../../local/paths.js';
import { metricDefinitions } from '../../../functions/observability/metrics.js';

it('lists every metric the functions emit in the operations guide, with its unit and dimension, and no other', async () => {
  const guide = await readFile(join(projectRoot, 'docs', 'operations.md'), 'utf8');
  // The table whose header starts `| metric`, up to the blank line after it.
  const table = guide.slice(guide.indexOf('\n| metric ')).split('\n\n')[0] ?? '';
  const rows = [...table.matchAll(/^\| `(\w+)`\s*\| (\w+)\s*\| (?:`(\w+)`)?/gm)].map(([, name, unit, dimension]) => [
    name,
    { unit, ...(dimension ? { dimension } : {}) },
  ]);
  expect(Object.fromEntries(rows)).toEqual(metricDefinitions);
});
