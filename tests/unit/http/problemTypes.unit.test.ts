import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { problemStatus } from '../../../api/problems.js';

describe('the problem types of the contract', () => {
  it('are the ones docs/problems.md explains for the API, each with its status', async () => {
    const doc = await readFile(new URL('../../../docs/problems.md', import.meta.url), 'utf8');
    // The API's table: the first one, before the replay CLI's.
    const table = doc.slice(doc.indexOf('| slug'), doc.indexOf('What Node'));
    const documented = Object.fromEntries(
      [...table.matchAll(/^\| `([a-z-]+)` +\| (\d{3}) /gm)].map(([, slug, status]) => [slug, Number(status)]),
    );
    expect(documented).toEqual(problemStatus);
  });
});
