import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as z from 'zod';
import { localStateDir, privateFolder, projectRoot } from './paths.js';

const CfnResource = z.looseObject({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).optional() });

const HttpApiEvent = z.looseObject({
  httpApi: z.union([
    z.string(),
    z.looseObject({
      method: z.string().optional(),
      path: z.string(),
      authorizer: z.looseObject({ name: z.string().optional(), scopes: z.array(z.string()).optional() }).optional(),
    }),
  ]),
});

const FunctionConfig = z.looseObject({
  handler: z.string(),
  environment: z.record(z.string(), z.unknown()).optional(),
  events: z.array(z.looseObject({})).optional(),
  timeout: z.number().optional(),
  memorySize: z.number().optional(),
});

/** The part of serverless.yml, as the framework resolves it, that the local stack reads. */
export const ServerlessConfig = z.looseObject({
  service: z.string(),
  provider: z.looseObject({
    stage: z.string(),
    region: z.string(),
    environment: z.record(z.string(), z.unknown()).optional(),
    httpApi: z.looseObject({}).optional(),
  }),
  functions: z.record(z.string(), FunctionConfig).optional(),
  resources: z.looseObject({ Resources: z.record(z.string(), CfnResource).optional() }).optional(),
  custom: z.record(z.string(), z.unknown()).optional(),
});
export type ServerlessConfig = z.infer<typeof ServerlessConfig>;
export type FunctionConfig = z.infer<typeof FunctionConfig>;
export { HttpApiEvent };

const slsBin = createRequire(import.meta.url).resolve('osls/bin/serverless.js');

/**
 * serverless.yml as the framework resolves it for `stage` (`sls print`), so the local stack declares nothing twice.
 * Printing takes seconds, so the result is cached under .local/ by the content of serverless.yml and of the files it
 * includes (`${file(...)}`: the state machines), the stage, and AWS_REGION (the region falls back to it).
 */
export const loadServerlessConfig = async (stage: string): Promise<ServerlessConfig> => {
  const source = await readFile(join(projectRoot, 'serverless.yml'), 'utf8');
  const hash = createHash('sha256')
    .update(source)
    .update(stage)
    .update(process.env.AWS_REGION ?? '');
  for (const [, included] of source.matchAll(/\$\{file\(\.\/([^)]+)\)/g)) {
    if (included) hash.update(await readFile(join(projectRoot, included)));
  }
  const key = hash.digest('hex').slice(0, 16);
  const cacheFile = join(localStateDir, 'cache', `serverless-${stage}-${key}.json`);
  const cached = await readFile(cacheFile, 'utf8').catch(() => undefined);
  if (cached) return ServerlessConfig.parse(JSON.parse(cached));

  const { stdout } = await promisify(execFile)(
    process.execPath,
    [slsBin, 'print', '--stage', stage, '--format', 'json'],
    { cwd: projectRoot, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' } },
  );
  const config = ServerlessConfig.parse(JSON.parse(stdout));
  // Possibly the first folder of .local (npm run token before any npm start): made private, as npm start makes it.
  await privateFolder(join(localStateDir, 'cache'));
  await writeFile(cacheFile, JSON.stringify(config));
  return config;
};

/** The DynamoDB tables declared in the config's resources, by logical id. */
export const tableResources = (config: ServerlessConfig): [string, Record<string, unknown>][] =>
  Object.entries(config.resources?.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, resource]) => [logicalId, resource.Properties ?? {}]);
