import { join } from 'node:path';
import { cliArgs } from '../ops/cliArgs.js';
import { jwtSettings, localIssuer } from './auth.js';
import { localStateDir } from './paths.js';
import { loadServerlessConfig } from './serverlessConfig.js';

/**
 * `npm run token -- <sub> [--admin] [--expires 12h]`: prints a bearer token that the local API (`npm start`) accepts.
 * `--expires` takes a time span as jose reads it: `90s`, `30m`, `12h`, `7d`.
 */
const usage = 'usage: npm run token -- <sub> [--admin] [--expires <span: 90s, 30m, 12h, 7d>]';
const fail = (message: string): never => {
  console.error(`${message}\n${usage}`);
  return process.exit(2);
};
// Unknown options, a missing value, a second subject and --help as every ops command answers them (ops/cliArgs.ts).
const args = cliArgs(
  {
    allowPositionals: true,
    options: { admin: { type: 'boolean', default: false }, expires: { type: 'string', default: '12h' } },
  },
  usage,
  { maxPositionals: 1 },
);
const [sub] = args.positionals;
if (!sub) fail('a subject is needed');
const { admin, expires } = args.values;
if (!/^\d+\s*[a-z]+$/i.test(expires)) fail(`--expires ${expires} is not a time span`);
// A token that expires as it is made is of no use to anyone.
if (/^0+\s*[a-z]+$/i.test(expires)) fail(`--expires ${expires}: the token would be expired already`);
const config = await loadServerlessConfig('local');
const issuer = await localIssuer({ ...jwtSettings(config), keyDir: join(localStateDir, 'jwt') });
try {
  console.log(await issuer.sign(String(sub), { admin, expiresIn: expires }));
} catch (error) {
  fail(`--expires ${expires}: ${error instanceof Error ? error.message : String(error)}`);
}
