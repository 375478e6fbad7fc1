import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../local/paths.js';

type State = { Type: string; Retry?: { ErrorEquals: string[] }[]; ItemProcessor?: { States: Record<string, State> } };

const folder = join(projectRoot, 'statemachines');
const files = (await readdir(folder)).filter((file) => file.endsWith('.asl.json'));

/** Every state, nested Map processors included. */
const allStates = (states: Record<string, State>): [string, State][] =>
  Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...allStates(state.ItemProcessor?.States ?? {}),
  ]);

describe.each(files)('statemachines/%s', (file) => {
  it('is valid Amazon States Language', async () => {
    const definition = JSON.parse(await readFile(join(folder, file), 'utf8')) as unknown;
    const result = aslValidator(definition);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('holds no null: the Serverless Framework drops nulls when it loads the file, changing what deploys', async () => {
    const text = await readFile(join(folder, file), 'utf8');
    expect(text).not.toMatch(/:\s*null\b/);
  });

  it('retries transient Lambda failures on every Task, and names states as PascalCase verbs', async () => {
    const definition = JSON.parse(await readFile(join(folder, file), 'utf8')) as { States: Record<string, State> };
    const states = allStates(definition.States);
    expect(states.length).toBeGreaterThan(0);
    for (const [name, state] of states) {
      expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
      if (state.Type !== 'Task') continue;
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried, name).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
      );
    }
  });
});

it('finds the state machines', () => {
  expect(files).toContain('replay.asl.json');
});
