import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../local/paths.js';
import { openApiDocument } from './openapi.js';
import { version } from './version.js';

/** `npm run openapi`: writes docs/openapi.json, the published copy of what GET /openapi.json serves. */
await mkdir(join(projectRoot, 'docs'), { recursive: true });
await writeFile(join(projectRoot, 'docs', 'openapi.json'), `${JSON.stringify(openApiDocument(version), null, 2)}\n`);
console.log('wrote docs/openapi.json');
