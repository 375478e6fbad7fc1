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
const readme = await readFile(readmePath, 'utf8');
const redrawn = withDiagram(readme, aslToMermaid(asl));
if (redrawn === readme) console.log('README.md: the saga diagram already matches the ASL');
else {
  await writeFile(readmePath, redrawn);
  console.log('README.md: saga diagram redrawn');
}
