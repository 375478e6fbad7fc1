import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jwtSettings, localIssuer } from './auth.js';
import { localStateDir } from './paths.js';
import { loadServerlessConfig } from './serverlessConfig.js';

/** `npm run token -- <sub> [--admin]`: prints a bearer token that the local API (`npm start`) accepts. */
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { admin: { type: 'boolean', default: false }, expires: { type: 'string', default: '12h' } },
});
const [sub] = positionals;
if (!sub) {
  console.error('usage: npm run token -- <sub> [--admin] [--expires 12h]');
  process.exit(2);
}
const config = await loadServerlessConfig('local');
const issuer = await localIssuer({ ...jwtSettings(config), keyDir: join(localStateDir, 'jwt') });
console.log(await issuer.sign(sub, { admin: values.admin, expiresIn: values.expires }));
