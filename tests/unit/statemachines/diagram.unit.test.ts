import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../local/paths.js';
import { aslToMermaid, withDiagram } from '../../../ops/sagaDiagram.js';

describe('the saga diagram in the README', () => {
  it('is the one generated from order-saga.asl.json (run `npm run diagram` after changing the ASL)', async () => {
    const asl = JSON.parse(
      await readFile(join(projectRoot, 'statemachines', 'order-saga.asl.json'), 'utf8'),
    ) as Parameters<typeof aslToMermaid>[0];
    const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
    expect(withDiagram(readme, aslToMermaid(asl))).toBe(readme);
  });

  it('is left alone by `npm run diagram` when it already matches, which says so', () => {
    const answer = spawnSync(process.execPath, ['--import', 'tsx', 'ops/diagramCli.ts'], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    expect(answer.status).toBe(0);
    expect(answer.stdout).toBe('README.md: the saga diagram already matches the ASL\n');
  }, 60_000);

  it('draws every state and every transition, catches labelled with their errors', () => {
    const mermaid = aslToMermaid({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Next: 'B', Catch: [{ ErrorEquals: ['OopsError'], Next: 'C' }] },
        B: { Type: 'Choice', Choices: [{ StringEquals: 'STOP', Next: 'C' }], Default: 'C' },
        C: { Type: 'Succeed' },
      },
    });
    expect(mermaid.split('\n')).toEqual([
      'flowchart TD',
      '  Start((start)) --> A',
      '  A[A]',
      '  A --> B',
      '  A -. OopsError .-> C',
      '  B{B}',
      '  B -- STOP --> C',
      '  B -- otherwise --> C',
      '  C([C])',
    ]);
  });
});
