import { join } from 'node:path';
import { jwtSettings, localIssuer } from './auth.js';
import { createTables, startDynamoLocal } from './dynamoLocal.js';
import { stackEnvironment } from './environment.js';
import { startApi } from './httpServer.js';
import { localStateDir } from './paths.js';
import { loadServerlessConfig } from './serverlessConfig.js';

/**
 * `npm start`: the whole backend on this machine. DynamoDB Local keeps its data under .local/dynamodb, so orders
 * survive a restart; the API serves the handlers of serverless.yml's `local` stage. Ctrl-C stops everything.
 */
// Before any SDK client exists: the SDK's notice that its 2027 releases need Node 22 (Lambda runs nodejs22.x).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const started = Date.now();
const stage = 'local';
const port = Number(process.env.PORT ?? 3000);

const config = await loadServerlessConfig(stage);
const dynamo = await startDynamoLocal({ dbPath: join(localStateDir, 'dynamodb') });
let api: Awaited<ReturnType<typeof startApi>> | undefined;

const stop = async (signal: string) => {
  console.log(`\n${signal}: stopping…`);
  await api?.close();
  await dynamo.stop();
  console.log('stopped: API and DynamoDB Local');
  process.exit(0);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

try {
  const tables = await createTables(config, dynamo.endpoint);
  Object.assign(process.env, stackEnvironment(config, { dynamodb: dynamo.endpoint }));
  const issuer = await localIssuer({ ...jwtSettings(config), keyDir: join(localStateDir, 'jwt') });
  api = await startApi({ config, issuer, port, log: (line) => console.log(`[api] ${line}`) });

  console.log(`
orderflow is running locally (stage "${stage}", ready in ${Date.now() - started} ms)

  API             ${api.url}        (routes from serverless.yml; OpenAPI at ${api.url}/openapi.json)
  DynamoDB Local  ${dynamo.endpoint}   (pid ${dynamo.pid}, data in .local/dynamodb; tables: ${tables.join(', ')})

Get a token:      npm run token -- alice            (customer "alice")
                  npm run token -- ops --admin      (with the orderflow/admin scope)
Try it:           curl -s ${api.url}/openapi.json | head

Ctrl-C stops everything.
`);
} catch (error) {
  console.error(error);
  await api?.close();
  await dynamo.stop();
  process.exit(1);
}
