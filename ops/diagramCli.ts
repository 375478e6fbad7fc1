import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../local/paths.js';
import { cliArgs } from './cliArgs.js';
import { aslToMermaid, withDiagram } from './sagaDiagram.js';

/** `npm run diagram`: redraws the saga diagram in the README from statemachines/order-saga.asl.json. */
// It takes no argument: `--help` prints what it does instead of doing it, anything else is refused.
cliArgs({ options: {} }, 'usage: npm run diagram   (redraws the saga diagram in README.md from the ASL)');
const asl = JSON.parse(await readFile(join(projectRoot, 'statemachines', 'order-saga.asl.json'), 'utf8')) as Parameters<
  typeof aslToMermaid
>[0];
const readmePath = join(projectRoot, 'README.md');
await writeFile(readmePath, withDiagram(await readFile(readmePath, 'utf8'), aslToMermaid(asl)));
console.log('README.md: saga diagram redrawn');
