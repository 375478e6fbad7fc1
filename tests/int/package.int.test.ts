import { execFile, execFileSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SCOPE, routes } from '../../api/routes.js';
import { CIRCUIT_KEY } from '../../adapters/dynamoCircuitStore.js';
import { POINTER_PK } from '../../adapters/readModelPointer.js';
import { PAYMENT_CIRCUIT } from '../../application/paymentGateway.js';
import { productStreamId, stockBalanceId, keyClaimId } from '../../domain/inventory/index.js';
import { STREAM_ID, VERSION } from '../../eventstore/tableKeys.js';
import { metricDefinitions } from '../../functions/observability/metrics.js';
import { corsConfiguration } from '../../local/cors.js';
import { httpRoutes } from '../../local/httpServer.js';
import { projectRoot } from '../../local/paths.js';
import { loadServerlessConfig } from '../../local/serverlessConfig.js';
import { ordersProjection } from '../../projections/orders.js';
import { productsProjection } from '../../projections/products.js';
import {
  actionsOf,
  type CfnResource,
  deployOffline,
  packaged,
  packagedTemplate,
  resourcesOfType,
  statementsOf,
  type Template,
} from '../support/packaged.js';

/** Whether this machine runs cfn-lint: asked, since a shim on the PATH (pyenv's) may have none behind it. */
const hasCfnLint = (() => {
  try {
    execFileSync('cfn-lint', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

type CfnLintMatch = {
  Level: string;
  Rule: { Id: string };
  Filename: string;
  Location: { Path: (string | number)[] };
  Message: string;
};

let template: Template;
let dir: string;
/** Every function serverless.yml declares: the routes', the `$default` one, and the stream consumers. */
let functionNames: string[];

beforeAll(async () => {
  ({ template, dir } = await packaged('prod'));
  functionNames = Object.keys((await loadServerlessConfig('prod')).functions ?? {});
}, 180_000);

const resource = (logicalId: string): CfnResource => {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId} in the template`);
  return found;
};

/** The logical id of a function's Lambda resource, as the framework names it (placeOrder → PlaceOrderLambdaFunction). */
const lambdaId = (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`;

const roleOf = (functionName: string): CfnResource => {
  const role = resource(lambdaId(functionName)).Properties.Role as { 'Fn::GetAtt': [string, string] };
  return resource(role['Fn::GetAtt'][0]);
};

/** Whether an execution of the compensation state machine still waits: what a parking asks before it parks again. */
const describeParked = {
  Effect: 'Allow',
  Action: ['states:DescribeExecution'],
  Resource: {
    'Fn::Sub':
      'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${CompensationStateMachine.Name}:*',
  },
};

const dynamoStatements = (functionName: string) =>
  statementsOf(roleOf(functionName)).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));

describe('the packaged prod template', () => {
  it('has an HTTP API route for every route of the contract, each behind the JWT authorizer unless public', () => {
    const apiRoutes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    const [[authorizerId, authorizer] = []] = resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer');
    expect(authorizer?.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Audience: [expect.any(String)], Issuer: expect.stringMatching(/^https:\/\//) },
    });
    // Every GET route answers HEAD too, behind the same authorizer.
    const routeKeys = routes.flatMap((route) =>
      (route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]).map((method) => ({ route, method })),
    );
    for (const { route, method } of routeKeys) {
      const found = apiRoutes.find((r) => r.RouteKey === `${method} ${route.path}`);
      expect(found, `${method} ${route.path}`).toBeDefined();
      if (route.access === 'public') {
        expect(found?.AuthorizationType ?? 'NONE').toBe('NONE');
        continue;
      }
      expect(found).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
      if (route.access === 'admin') expect(found?.AuthorizationScopes).toEqual([ADMIN_SCOPE]);
      else expect(found?.AuthorizationScopes).toBeUndefined();
    }
    // Everything else goes to the function that answers 404/405 as problem documents.
    expect(apiRoutes.some((r) => r.RouteKey === '$default')).toBe(true);
    expect(apiRoutes).toHaveLength(routeKeys.length + 1);
  });

  it('stays within the limits CloudFormation, IAM and Lambda would refuse it past, with room to grow', () => {
    // CloudFormation: 500 resources and 200 outputs a stack, a template of 1 MB from S3 (where osls uploads it).
    expect(Object.keys(template.Resources).length).toBeLessThanOrEqual(400);
    expect(Object.keys((template as { Outputs?: object }).Outputs ?? {}).length).toBeLessThanOrEqual(150);
    expect(JSON.stringify(template).length).toBeLessThanOrEqual(800_000);
    for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
      // IAM: 10,240 characters of inline policy a role, counted resolved; an ARN resolves to about twice the
      // characters of the intrinsic that names it, so half of it as written.
      expect(JSON.stringify(role.Properties.Policies ?? []).length, id).toBeLessThanOrEqual(5_120);
    }
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      // Lambda: 4 KB of environment variables a function, resolved; half of it as written, as above.
      const variables = (fn.Properties.Environment as { Variables?: object } | undefined)?.Variables ?? {};
      expect(JSON.stringify(variables).length, id).toBeLessThanOrEqual(2_048);
    }
  });

  it('runs every function on nodejs22.x, arm64, with a bundle of its own', async () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(functionNames.map(lambdaId).sort());
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      const artifact = (fn.Properties.Code as { S3Key: string }).S3Key.split('/').at(-1) ?? '';
      await expect(readFile(join(dir, artifact))).resolves.toBeInstanceOf(Buffer);
    }
  });

  it('gives the functions an order runs the memory measured for them (infra/memory.json)', async () => {
    const measured = JSON.parse(await readFile(join(projectRoot, 'infra', 'memory.json'), 'utf8')) as {
      functions: Record<string, { memorySize: number; durationMs: Record<string, number> }>;
    };
    const names = Object.keys(measured.functions);
    expect(names).toEqual(expect.arrayContaining(['placeOrder', 'authorizePayment', 'confirmOrder', 'startSaga']));
    for (const name of names) {
      const chosen = measured.functions[name]?.memorySize;
      expect({ [name]: resource(lambdaId(name)).Properties.MemorySize }).toEqual({ [name]: chosen });
      // The choice is one of the sizes weighed for it.
      expect(Object.keys(measured.functions[name]?.durationMs ?? {})).toContain(String(chosen));
    }
  });

  it('keeps every function’s package, bundle and source map, within the size budget', async () => {
    // Issue 14's budget, source map included: zod imported as a namespace, the SDK's ES module builds, the credential
    // chain cut to its environment link, and maps trimmed to our own sources (build/).
    const budget = 400 * 1024;
    const sizes = await Promise.all(
      resourcesOfType(template, 'AWS::Lambda::Function').map(async ([id, fn]) => {
        const artifact = (fn.Properties.Code as { S3Key: string }).S3Key.split('/').at(-1) ?? '';
        return [id, (await stat(join(dir, artifact))).size] as const;
      }),
    );
    expect(sizes.filter(([, size]) => size > budget)).toEqual([]);
  });

  it('gives each function its own role, with no wildcard action and no wildcard resource but X-Ray’s', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    const roles = new Set(functions.map(([, fn]) => JSON.stringify(fn.Properties.Role)));
    expect(roles.size).toBe(functions.length);
    for (const [name] of functions) {
      const functionName = name.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());
      for (const statement of statementsOf(roleOf(functionName))) {
        for (const action of actionsOf(statement)) expect(action, `${name}: ${action}`).not.toMatch(/\*/);
        // X-Ray's write actions take no resource ARN: '*' is the only resource they accept.
        if (actionsOf(statement).every((action) => action.startsWith('xray:'))) continue;
        const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        for (const r of resources) expect(r, `${name}: ${JSON.stringify(statement)}`).not.toBe('*');
      }
    }
    // And no role beside them: the framework's default one, unused, could read the change stream (infra/defaultRole.mjs).
    const roleIds = resourcesOfType(template, 'AWS::IAM::Role').map(([id]) => id);
    expect(roleIds).not.toContain('IamRoleLambdaExecution');
    for (const id of roleIds) {
      const used = JSON.stringify(Object.entries(template.Resources).filter(([other]) => other !== id));
      expect(used, `${id} is used`).toContain(`"${id}"`);
    }
  });

  it("lets Step Functions take a state machine's role only for this stage's state machines, named exactly", () => {
    const trusted = resourcesOfType(template, 'AWS::IAM::Role').filter(([, role]) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('states.amazonaws.com'),
    );
    expect(trusted.map(([id]) => id).sort()).toEqual(['CompensationRole', 'OrderSagaRole', 'ReplayStateMachineRole']);
    for (const [id, role] of trusted) {
      const { Statement } = role.Properties.AssumeRolePolicyDocument as { Statement: unknown[] };
      expect(Statement, id).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: {
              'aws:SourceArn': ['order-saga', 'order-saga-express', 'compensation', 'replay'].map((name) => ({
                'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:orderflow-prod-${name}`,
              })),
            },
          },
        },
      ]);
    }
  });

  it("names each of the stage's state machines among those its roles trust", () => {
    const names = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').map(
      ([, machine]) => machine.Properties.StateMachineName as string,
    );
    const trust = JSON.stringify(resource('OrderSagaRole').Properties.AssumeRolePolicyDocument);
    expect(names.length).toBe(3);
    for (const name of names) expect(trust).toContain(`:stateMachine:${name}"`);
  });

  it('grants each function only the table actions it uses', () => {
    const eventsArn = { 'Fn::GetAtt': ['EventsTable', 'Arn'] };
    const snapshotsArn = { 'Fn::GetAtt': ['SnapshotsTable', 'Arn'] };
    const grants = (fn: string) =>
      dynamoStatements(fn)
        .flatMap((s) => actionsOf(s).map((action) => `${action} ${JSON.stringify(s.Resource)}`))
        .sort();
    const on = (arn: unknown, ...actions: string[]) => actions.map((a) => `dynamodb:${a} ${JSON.stringify(arn)}`);

    expect(grants('getOrderEvents')).toEqual(on(eventsArn, 'Query'));
    // Cancelling gives back the stock the order holds, moving its SKUs' balances (ADR 0013); an order keeps no
    // snapshot, so nothing that acts on one may put (overwrite) a balance.
    for (const fn of ['cancelOrder', 'confirmOrder', 'rejectOrder']) {
      expect(grants(fn), fn).toEqual([...on(eventsArn, 'PutItem', 'Query'), ...on(snapshotsArn, 'UpdateItem')].sort());
    }
    expect(grants('abandonOrder').filter((grant) => grant.includes('SnapshotsTable'))).toEqual(
      on(snapshotsArn, 'UpdateItem'),
    );
    // Placing reserves the stock, or rejects the order while the stock is short, in the same write (ADR 0014).
    expect(grants('placeOrder')).toEqual(
      [
        ...on(eventsArn, 'PutItem', 'Query'),
        ...on(snapshotsArn, 'GetItem'),
        ...on(snapshotsArn, 'ConditionCheckItem', 'UpdateItem'),
      ].sort(),
    );
    // A keyed restock or write-off puts its key's claim too, by a statement of its own (its keys are held below).
    for (const fn of ['registerProduct', 'restockProduct', 'writeOffStock']) {
      const claims = fn === 'registerProduct' ? [] : on(snapshotsArn, 'PutItem');
      expect(grants(fn), fn).toEqual(
        [
          ...on(eventsArn, 'PutItem', 'Query'),
          ...on(snapshotsArn, 'GetItem', 'PutItem', 'UpdateItem'),
          ...claims,
        ].sort(),
      );
    }
    // A new price or name moves no stock: neither function may touch a balance. A keyed one claims its key (ADR 0025,
    // 0027).
    for (const fn of ['repriceProduct', 'renameProduct']) {
      expect(grants(fn), fn).toEqual(
        [...on(eventsArn, 'PutItem', 'Query'), ...on(snapshotsArn, 'GetItem', 'PutItem', 'PutItem')].sort(),
      );
    }
    // Nor does discontinuing, which takes no key (ADR 0028): it claims none.
    expect(grants('discontinueProduct')).toEqual(
      [...on(eventsArn, 'PutItem', 'Query'), ...on(snapshotsArn, 'GetItem', 'PutItem')].sort(),
    );
    // Each read model is two tables, blue and green (ADR 0009); readers get the pointer's key of the projections table.
    const both = (table: string) => [
      { 'Fn::GetAtt': [table, 'Arn'] },
      { 'Fn::GetAtt': [`${table.replace('Table', '')}GreenTable`, 'Arn'] },
    ];
    const projectionsArn = { 'Fn::GetAtt': ['ProjectionsTable', 'Arn'] };
    // Stock figures come from the SKU's balance, beside the catalogue view; a product not projected yet, from its
    // registration in the events.
    expect(grants('getProduct')).toEqual(
      [
        ...on(both('ProductsTable'), 'GetItem'),
        ...on(snapshotsArn, 'GetItem'),
        ...on(projectionsArn, 'GetItem'),
        ...on(eventsArn, 'Query'),
      ].sort(),
    );
    // The listing queries the live products table's bySku index and reads the page's balances in one batch.
    expect(grants('listProducts')).toEqual(
      [
        ...on(
          [{ 'Fn::Sub': '${ProductsTable.Arn}/index/bySku' }, { 'Fn::Sub': '${ProductsGreenTable.Arn}/index/bySku' }],
          'Query',
        ),
        ...on(snapshotsArn, 'BatchGetItem'),
        ...on(projectionsArn, 'GetItem'),
      ].sort(),
    );
    const conditionsOf = (fn: string, action: string, arn: unknown) =>
      dynamoStatements(fn)
        .filter((s) => actionsOf(s).includes(action) && JSON.stringify(s.Resource) === JSON.stringify(arn))
        .map((s) => (s as { Condition?: unknown }).Condition);
    // A product's snapshot, and a restock's, write-off's or new price's claim on its own kind of key, are the only
    // items its commands put: a stock balance is never overwritten. (The IAM e2e test writes no snapshot, which comes
    // only after many events: the condition is held here; it does claim keys.)
    const leading = (...keys: string[]) =>
      keys.map((key) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [key] } }));
    const product = `${productStreamId('')}*`;
    expect(keyClaimId('restock', 'MUG-1', 'k')).toMatch(/^restockKey-/);
    expect(keyClaimId('writeOff', 'MUG-1', 'k')).toMatch(/^writeOffKey-/);
    expect(keyClaimId('reprice', 'MUG-1', 'k')).toMatch(/^repriceKey-/);
    expect(keyClaimId('rename', 'MUG-1', 'k')).toMatch(/^renameKey-/);
    const claims: Record<string, string> = {
      restockProduct: 'restockKey-*',
      writeOffStock: 'writeOffKey-*',
      repriceProduct: 'repriceKey-*',
      renameProduct: 'renameKey-*',
    };
    const productWriters = ['registerProduct', 'restockProduct', 'writeOffStock', 'repriceProduct', 'renameProduct'];
    for (const fn of [...productWriters, 'discontinueProduct']) {
      const claim = claims[fn];
      expect(conditionsOf(fn, 'dynamodb:PutItem', snapshotsArn), fn).toEqual(
        leading(product, ...(claim ? [claim] : [])),
      );
    }
    // A stock balance is only ever moved or checked: no update may rewrite a product's snapshot beside it.
    for (const fn of functionNames) {
      for (const action of ['dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']) {
        for (const condition of conditionsOf(fn, action, snapshotsArn)) {
          expect(condition, `${fn} ${action}`).toEqual({
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${stockBalanceId('')}*`] },
          });
        }
      }
    }
    expect(conditionsOf('placeOrder', 'dynamodb:ConditionCheckItem', snapshotsArn)).toHaveLength(1);
    expect(conditionsOf('confirmOrder', 'dynamodb:UpdateItem', snapshotsArn)).toHaveLength(1);
    for (const [fn, table, name] of [
      ['ordersProjection', 'OrdersTable', 'orders'],
      ['productsProjection', 'ProductsTable', 'products'],
    ] as const) {
      const keysOf = (action: string) => conditionsOf(fn, action, projectionsArn);
      // Neither may write the pointer, nor park the other's streams: each action on the projections table is held to
      // its own keys.
      expect(keysOf('dynamodb:PutItem'), fn).toEqual([
        { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`parked#${name}`, `parked#${name}@green`] } },
      ]);
      expect(keysOf('dynamodb:GetItem').length, fn).toBe(2);
      expect(keysOf('dynamodb:BatchWriteItem'), fn).toEqual([
        { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['rebuild#*'] } },
      ]);
      expect(grants(fn)).toEqual(
        [
          ...on(eventsArn, 'Query'),
          // Park and ask what is parked, on the parked streams' keys alone; only redrive and the replay worker unpark.
          ...on(projectionsArn, 'BatchGetItem', 'GetItem', 'PutItem'),
          // Which table is live, on the pointers' key alone.
          ...on(projectionsArn, 'GetItem'),
          // The streams seen while a rebuild's bulk writes run, noted for its catch-up.
          ...on(projectionsArn, 'BatchWriteItem'),
          // A batch's views read in one request (the recorded calls of tests/e2e/iamGrants.e2e.test.ts need it).
          ...on(both(table), 'BatchGetItem', 'GetItem', 'PutItem'),
        ].sort(),
      );
    }
    expect(grants('getOrder')).toEqual(
      [...on(eventsArn, 'Query'), ...on(both('OrdersTable'), 'GetItem'), ...on(projectionsArn, 'GetItem')].sort(),
    );
    expect(grants('listOrders')).toEqual(
      [
        ...on(
          [
            { 'Fn::Sub': '${OrdersTable.Arn}/index/byCustomer' },
            { 'Fn::Sub': '${OrdersGreenTable.Arn}/index/byCustomer' },
          ],
          'Query',
        ),
        ...on(projectionsArn, 'GetItem'),
      ].sort(),
    );
    // A reader's GetItem on the projections table reaches the pointers' partition and nothing else of it.
    for (const fn of ['getOrder', 'listOrders', 'getProduct', 'listProducts', 'sweepPendingOrders']) {
      const onProjections = dynamoStatements(fn).filter(
        (s) => JSON.stringify(s.Resource) === JSON.stringify(projectionsArn),
      );
      expect(onProjections, fn).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem'],
          Resource: projectionsArn,
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [POINTER_PK] } },
        },
      ]);
    }
    expect(grants('getOpenApi')).toEqual([]);
    expect(grants('notFound')).toEqual([]);
  });

  it('keeps every table on-demand by default, with no auto scaling (custom.capacity)', () => {
    const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
    expect(tables.length).toBeGreaterThanOrEqual(9);
    for (const [id, table] of tables) {
      expect({ [id]: table.Properties.BillingMode }).toEqual({ [id]: 'PAY_PER_REQUEST' });
      expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    }
    expect(resourcesOfType(template, 'AWS::ApplicationAutoScaling::ScalableTarget')).toEqual([]);
  });

  it('declares the event store tables with the keys the adapter uses, protected in prod', () => {
    expect(resource('EventsTable').Properties).toMatchObject({
      TableName: 'orderflow-prod-events',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: STREAM_ID, KeyType: 'HASH' },
        { AttributeName: VERSION, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: expect.arrayContaining([
        { AttributeName: STREAM_ID, AttributeType: 'S' },
        { AttributeName: VERSION, AttributeType: 'N' },
      ]),
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(resource('SnapshotsTable').Properties).toMatchObject({
      TableName: 'orderflow-prod-snapshots',
      KeySchema: [{ AttributeName: STREAM_ID, KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    // Kept when the stack is removed, and never deleted by a replacement.
    for (const table of ['EventsTable', 'SnapshotsTable']) {
      expect(resource(table)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    const environment = (
      resource(lambdaId('placeOrder')).Properties.Environment as { Variables: Record<string, string> }
    ).Variables;
    expect(environment).toMatchObject({
      EVENTS_TABLE: 'orderflow-prod-events',
      SNAPSHOTS_TABLE: 'orderflow-prod-snapshots',
      STAGE: 'prod',
      LOG_LEVEL: 'info',
    });
  });

  it("lets a dev stage's store go with its stack, though a replacement never deletes it", async () => {
    const dev = await packaged('dev');
    for (const table of ['EventsTable', 'SnapshotsTable', 'ProjectionsTable']) {
      expect(dev.template.Resources[table]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Retain' });
      expect(dev.template.Resources[table]?.Properties).toMatchObject({ DeletionProtectionEnabled: false });
    }
  });

  it("keeps every other stage's store and read models' pointers as prod does: safe unless a stage says otherwise", async () => {
    for (const stage of ['prod', 'staging']) {
      const { template: packagedTemplate } = await packaged(stage);
      for (const table of ['EventsTable', 'SnapshotsTable', 'ProjectionsTable']) {
        expect(packagedTemplate.Resources[table], `${stage} ${table}`).toMatchObject({
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
          Properties: { DeletionProtectionEnabled: true },
        });
      }
    }
  });

  it('protects every stack but dev’s from `sls remove`, which osls refuses before it removes anything', async () => {
    // Termination protection is the stack's, not the template's: osls sets it after each deploy, on or off.
    for (const [stage, on] of [
      ['prod', true],
      ['staging', true],
      ['dev', false],
    ] as const) {
      expect((await loadServerlessConfig(stage)).provider.deletionProtection, stage).toBe(on);
    }
  });

  it('traces every function, unless the stage turns it off, which loads no X-Ray SDK either', async () => {
    const traced = resourcesOfType(template, 'AWS::Lambda::Function').map(([, fn]) => fn.Properties);
    expect(traced.length).toBe(functionNames.length);
    for (const fn of traced) {
      expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Environment).toMatchObject({ Variables: { TRACING: 'true' } });
    }
    const off = await packagedTemplate('dev', { functionTracing: 'false' });
    for (const [, fn] of resourcesOfType(off, 'AWS::Lambda::Function')) {
      expect(fn.Properties.TracingConfig).toBeUndefined();
      expect(fn.Properties.Environment).toMatchObject({ Variables: { TRACING: 'false' } });
    }
    // The state machines keep theirs: a saga's trace still shows its steps.
    expect(off.Resources.OrderSagaStateMachine?.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('configures CORS as the local gateway answers it, from the same setting (the test stage names a web app)', async () => {
    const packaged = await packagedTemplate('test', { requireDeploySettings: 'false' });
    const config = await loadServerlessConfig('test');
    const local = corsConfiguration(
      config,
      httpRoutes(config).map((route) => route.method),
    );
    expect(local?.allowOrigins).toEqual(['https://shop.example.com']);
    // npm start's stage lets a web app on any origin call it, as the README says; a deployed stage's default none.
    const started = await loadServerlessConfig('local');
    expect(corsConfiguration(started, [])?.allowOrigins).toEqual(['*']);
    expect(corsConfiguration(await loadServerlessConfig('dev'), [])).toBeUndefined();
    expect(packaged.Resources.HttpApi?.Properties.CorsConfiguration).toEqual({
      AllowOrigins: local?.allowOrigins,
      AllowHeaders: local?.allowHeaders,
      AllowMethods: local?.allowMethods,
      ExposeHeaders: local?.exposeHeaders,
      MaxAge: local?.maxAge,
    });
  });

  it("logs JSON, with Lambda's own lines only for failures, and never filters out a metric", async () => {
    const configs = (t: typeof template) =>
      new Set(resourcesOfType(t, 'AWS::Lambda::Function').map(([, fn]) => JSON.stringify(fn.Properties.LoggingConfig)));
    expect(configs(template)).toEqual(
      new Set([JSON.stringify({ ApplicationLogLevel: 'DEBUG', LogFormat: 'JSON', SystemLogLevel: 'WARN' })]),
    );
    // A stage logging at warn still lets every line through Lambda's filter: Powertools' EMF documents have no level,
    // and Lambda counts them as INFO; the functions filter by LOG_LEVEL. A dev stage keeps START, END and REPORT.
    const quiet = await packagedTemplate('dev', { logLevel: 'warn' });
    expect(configs(quiet)).toEqual(
      new Set([JSON.stringify({ ApplicationLogLevel: 'DEBUG', LogFormat: 'JSON', SystemLogLevel: 'INFO' })]),
    );
    for (const [, fn] of resourcesOfType(quiet, 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment).toMatchObject({ Variables: { LOG_LEVEL: 'warn' } });
    }
  });

  it('keeps logs for the stage’s retention', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    // One per function, the saga's (Express executions log only there) and the HTTP API's access log.
    expect(groups.map(([id]) => id)).toEqual(expect.arrayContaining(['OrderSagaLogGroup', 'HttpApiLogGroup']));
    expect(groups.length).toBe(functionNames.length + 2);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(90);
  });

  it('logs every request the HTTP API answers, in the JSON format the local gateway writes', () => {
    const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const settings = stages[0]?.[1].Properties.AccessLogSettings as { DestinationArn: unknown; Format: string };
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
    const variables = [...settings.Format.matchAll(/\$context\.[A-Za-z.]+/g)].map(([name]) => name);
    // What tells a refused or failed request apart, which no function's log can: a refused token never runs one.
    expect(variables).toEqual(
      expect.arrayContaining([
        '$context.requestId',
        '$context.routeKey',
        '$context.status',
        '$context.authorizer.error',
        // Who asked: a refused call on an admin route, or a probe of other customers' orders, is otherwise no one's.
        '$context.authorizer.claims.sub',
        '$context.integrationErrorMessage',
        '$context.responseLatency',
      ]),
    );
    // Rendered, it is one JSON object: the local gateway's line (local/accessLog.ts) parses the same.
    expect(JSON.parse(settings.Format.replace(/\$context\.[A-Za-z.]+/g, 'x'))).toHaveProperty('requestId', 'x');
  });
});

describe('the packaged templates', () => {
  // cfn-lint checks each resource's properties, every Ref and GetAtt, and the state machines' definitions against
  // CloudFormation's own schemas: what CloudFormation would refuse mid-deploy, found offline. Skipped only where the
  // machine has no cfn-lint (a Python tool, not an npm package).
  it.skipIf(!hasCfnLint)(
    'passes cfn-lint at every stage the tests package',
    async () => {
      const stages = ['prod', 'dev', 'staging'];
      const templates = await Promise.all(
        stages.map(async (stage) => join((await packaged(stage)).dir, 'cloudformation-template-update-stack.json')),
      );
      // W3005: the framework's own DependsOn beside a GetAtt. W8003: a condition on a stage parameter (alarmEmail),
      // which the framework resolves when it packages, so each stage's template holds it as a constant.
      const { stdout, stderr } = await promisify(execFile)(
        'cfn-lint',
        ['--format', 'json', '--ignore-checks', 'W3005', 'W8003', '--', ...templates],
        { maxBuffer: 32 * 1024 * 1024 },
      ).catch((error: { stdout?: string; stderr?: string }) => ({
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }));
      // It exits non-zero when it finds something: what it found is on stdout, as JSON; a crash leaves only stderr.
      expect(stdout.trim(), stderr).not.toBe('');
      const findings = (JSON.parse(stdout) as CfnLintMatch[]).map(
        (m) => `${m.Level} ${m.Rule.Id} ${m.Filename} ${m.Location.Path.join('/')}: ${m.Message.slice(0, 300)}`,
      );
      expect(findings).toEqual([]);
    },
    60_000,
  );
});

describe('the dashboard in the packaged prod template', () => {
  type Widget = { type: string; properties: { title: string; alarms?: string[]; metrics?: unknown[][] } };
  const dashboard = () => {
    const { Properties } = resource('Dashboard');
    const body = (Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    return { name: Properties.DashboardName, body, widgets: (JSON.parse(body) as { widgets: Widget[] }).widgets };
  };
  const widget = (title: RegExp): Widget => {
    const found = dashboard().widgets.find((w) => title.test(w.properties.title));
    if (!found) throw new Error(`no widget titled ${String(title)}`);
    return found;
  };
  /** The functions a widget graphs, by the logical id its `${…}` names. */
  const functionsIn = (w: Widget) =>
    (w.properties.metrics ?? []).filter((line) => line[0] === 'AWS/Lambda').map((line) => line[3]);

  it('is the stage’s, and every ${…} it holds names a resource of the template or the region', () => {
    const { name, body } = dashboard();
    // Per region too: CloudWatch dashboards are named in the account, and a second region's prod must not collide.
    expect(name).toEqual({ 'Fn::Sub': 'orderflow-prod-${AWS::Region}' });
    const named = [...body.matchAll(/\$\{([^}]+)\}/g)].map(([, id]) => String(id));
    expect(named.length).toBeGreaterThan(0);
    for (const id of named) {
      if (id === 'AWS::Region') continue;
      expect(template.Resources, id).toHaveProperty(id.replace(/\.Arn$/, ''));
    }
  });

  it('names each AWS metric’s resource by the dimension its namespace takes, and a resource of the right kind', () => {
    const kinds: Record<string, [dimension: string, type: string]> = {
      'AWS/ApiGateway': ['ApiId', 'AWS::ApiGatewayV2::Api'],
      'AWS/States': ['StateMachineArn', 'AWS::StepFunctions::StateMachine'],
      'AWS/DynamoDB': ['TableName', 'AWS::DynamoDB::Table'],
      'AWS/Lambda': ['FunctionName', 'AWS::Lambda::Function'],
      'AWS/Kinesis': ['StreamName', 'AWS::Kinesis::Stream'],
    };
    const lines = dashboard().widgets.flatMap((w) => w.properties.metrics ?? []);
    const named = lines.filter((line) => typeof line[0] === 'string' && String(line[0]).startsWith('AWS/'));
    expect(new Set(named.map((line) => line[0]))).toEqual(new Set(Object.keys(kinds)));
    for (const [namespace, , dimension, value] of named) {
      const [expectedDimension, type] = kinds[String(namespace)] ?? [];
      expect(dimension, String(namespace)).toBe(expectedDimension);
      const id = /^\$\{(\w+)\}$/.exec(String(value))?.[1] ?? '';
      expect(template.Resources[id]?.Type, `${String(namespace)} ${id}`).toBe(type);
    }
  });

  it('shows the state of every alarm in the template, first', () => {
    const [first] = dashboard().widgets;
    expect(first?.type).toBe('alarm');
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id]) => `\${${id}.Arn}`);
    expect(alarms.length).toBeGreaterThan(40);
    expect([...(first?.properties.alarms ?? [])].sort()).toEqual(alarms.sort());
  });

  it('graphs every metric the functions emit, and every function’s errors and throttles', () => {
    const { body } = dashboard();
    const emitted = Object.keys(metricDefinitions).sort();
    const graphed = new Set([
      ...[...body.matchAll(/\["orderflow","(\w+)"/g)].map(([, name]) => String(name)),
      ...[...body.matchAll(/MetricName=\\"(\w+)\\" stage/g)].map(([, name]) => String(name)),
    ]);
    expect([...graphed].sort()).toEqual(emitted);
    const everyFunction = functionNames.map((fn) => `\${${lambdaId(fn)}}`).sort();
    expect(functionsIn(widget(/^Function errors/)).sort()).toEqual(everyFunction);
    expect(functionsIn(widget(/^Function throttles/)).sort()).toEqual(everyFunction);
    const consumers = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(
      ([, mapping]) =>
        `\${${String((mapping.Properties.FunctionName as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])}}`,
    );
    expect(functionsIn(widget(/iterator age/)).sort()).toEqual([...new Set(consumers)].sort());
  });

  it('lays its widgets out on the grid without overlapping', () => {
    const cells = new Set<string>();
    for (const w of dashboard().widgets as (Widget & { x: number; y: number; width: number; height: number })[]) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      for (let x = w.x; x < w.x + w.width; x += 1)
        for (let y = w.y; y < w.y + w.height; y += 1) {
          expect(cells.has(`${x},${y}`), w.properties.title).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });
});

describe('the read side in the packaged prod template', () => {
  const changesArn = { 'Fn::GetAtt': ['ChangesStream', 'Arn'] };

  it('streams every change of the events table into the Kinesis stream, sharded per stage', () => {
    expect(resource('EventsTable').Properties.KinesisStreamSpecification).toEqual({
      StreamArn: changesArn,
      ApproximateCreationDateTimePrecision: 'MILLISECOND',
    });
    expect(resource('ChangesStream')).toMatchObject({
      Type: 'AWS::Kinesis::Stream',
      Properties: { Name: 'orderflow-prod-changes', ShardCount: 2, StreamEncryption: { EncryptionType: 'KMS' } },
    });
  });

  it('keeps prod’s change records for 7 days: the failure queue names records for 14, and the runbook reads them back', async () => {
    const hours = (t: typeof template) =>
      (resourcesOfType(t, 'AWS::Kinesis::Stream')[0]?.[1].Properties as { RetentionPeriodHours?: number })
        .RetentionPeriodHours;
    expect(hours(template)).toBe(168);
    expect(resource('ChangeFailuresQueue').Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    // Other stages keep Kinesis's default day, at no extra cost.
    expect(hours((await packaged('dev')).template)).toBe(24);
  });

  it('maps each projection to the stream with partial batch responses, bisection, bounded retries and a failure queue', () => {
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    for (const fn of ['ordersProjection', 'productsProjection']) {
      const mapping = mappings.find(
        (m) => JSON.stringify(m.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [lambdaId(fn), 'Arn'] }),
      );
      expect(mapping, fn).toMatchObject({
        EventSourceArn: changesArn,
        BatchSize: 100,
        // prod batches for up to a second (the test stage does not, params.test).
        MaximumBatchingWindowInSeconds: 1,
        StartingPosition: 'TRIM_HORIZON',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['ChangeFailuresQueue', 'Arn'] } } },
      });
      // The consumer may read the stream (what Lambda's poller needs) and send to the failure queue, nothing more.
      const kinesis = statementsOf(roleOf(fn)).filter((s) => actionsOf(s).some((a) => a.startsWith('kinesis:')));
      expect(kinesis.flatMap(actionsOf).sort()).toEqual(
        [
          'kinesis:DescribeStream',
          'kinesis:DescribeStreamSummary',
          'kinesis:GetRecords',
          'kinesis:GetShardIterator',
          'kinesis:ListShards',
          'kinesis:ListStreams',
        ].sort(),
      );
      for (const statement of kinesis) expect([statement.Resource].flat()).toEqual([changesArn]);
    }
    expect(resource('ChangeFailuresQueue').Properties.QueueName).toBe('orderflow-prod-change-failures');
  });

  it('declares the read models: orders with a by-customer index and the sparse pending index, products by SKU, and the bookkeeping table', () => {
    expect(resource('OrdersTable').Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byCustomer',
          KeySchema: [
            { AttributeName: 'customerId', KeyType: 'HASH' },
            { AttributeName: 'placedAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          // Only PENDING orders carry its keys (projections/orders.ts): what the sweeper reads.
          IndexName: 'pendingSince',
          KeySchema: [
            { AttributeName: 'pendingShard', KeyType: 'HASH' },
            { AttributeName: 'pendingSince', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
    expect(resource('ProductsTable').Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'sku', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          // Every view carries the one listingShard (projections/products.ts): the catalogue in SKU order.
          IndexName: 'bySku',
          KeySchema: [
            { AttributeName: 'listingShard', KeyType: 'HASH' },
            { AttributeName: 'sku', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['name', 'price'] },
        },
      ],
    });
    // Every view the products projection writes carries the index's keys, so none is left out of the listing.
    const registered = productsProjection.evolve(undefined, {
      streamId: productStreamId('MUG-1'),
      version: 1,
      type: 'ProductRegistered',
      data: { sku: 'MUG-1', name: 'Mug', unitPrice: { amount: 100, currency: 'EUR' }, initialStock: 1 },
      recordedAt: '2026-01-01T00:00:00.000Z',
    } as Parameters<typeof productsProjection.evolve>[1]);
    expect(registered).toMatchObject({ listingShard: expect.any(String), sku: 'MUG-1' });
    // Each read model's green slot is its blue table under another name: same keys, same indexes (ADR 0009).
    for (const [blue, green, name] of [
      ['OrdersTable', 'OrdersGreenTable', 'orderflow-prod-orders-green'],
      ['ProductsTable', 'ProductsGreenTable', 'orderflow-prod-products-green'],
    ] as const) {
      expect(resource(green).Properties).toEqual({ ...resource(blue).Properties, TableName: name });
    }
    // It holds which version of each read model is live: restorable, like the event store.
    expect(resource('ProjectionsTable').Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('the replay job in the packaged prod template', () => {
  it('deploys replay.asl.json as is, with the worker function substituted in', async () => {
    const machine = resource('ReplayStateMachine').Properties;
    const asl = JSON.parse(await readFile(join(projectRoot, 'statemachines', 'replay.asl.json'), 'utf8')) as unknown;
    expect(machine.Definition).toEqual(asl);
    expect(machine.DefinitionSubstitutions).toEqual({
      ReplaySegmentFunctionArn: { 'Fn::GetAtt': [lambdaId('replaySegment'), 'Arn'] },
      LambdaInvoke: { 'Fn::Sub': 'arn:${AWS::Partition}:states:::lambda:invoke' },
    });
    // No ARN in the definition names a partition: a stage in aws-cn or aws-us-gov gets its own.
    expect(JSON.stringify(machine.Definition)).not.toMatch(/arn:aws[:-]/);
  });

  it('lets the state machine invoke the replay worker and send traces, nothing else', () => {
    const role = resource('ReplayStateMachineRole');
    const statements = statementsOf(role);
    expect(statements.flatMap(actionsOf)).toEqual([
      'lambda:InvokeFunction',
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ]);
    expect(JSON.stringify(statements[0]?.Resource)).toContain(lambdaId('replaySegment'));
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('states.amazonaws.com');
  });

  it('gives the worker the scan and view writes a rebuild needs', () => {
    const actions = dynamoStatements('replaySegment').flatMap(actionsOf).sort();
    expect(actions).toEqual(
      [
        // The parity check's one question to the parking lot: which of its sample are parked.
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:BatchWriteItem',
        // A new build, a finalize and an abort forget what the slot had parked.
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:Scan',
      ].sort(),
    );
    expect(resource(lambdaId('replaySegment')).Properties.Timeout).toBe(900);
  });
});

describe('the order saga in the packaged templates', () => {
  it('deploys order-saga.asl.json as is, EXPRESS on prod, with logging and tracing, each Task a saga function', async () => {
    const machine = resource('OrderSagaStateMachine').Properties;
    const asl = JSON.parse(
      await readFile(join(projectRoot, 'statemachines', 'order-saga.asl.json'), 'utf8'),
    ) as unknown;
    expect(machine.Definition).toEqual(asl);
    expect(machine.StateMachineType).toBe('EXPRESS');
    expect(machine.TracingConfiguration).toEqual({ Enabled: true });
    expect(machine.LoggingConfiguration).toMatchObject({
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['OrderSagaLogGroup', 'Arn'] } } }],
    });
    const tasks = ['authorizePayment', 'confirmOrder', 'rejectOrder', 'abandonOrder', 'awaitPayment'];
    expect(Object.values(machine.DefinitionSubstitutions as object).sort()).toEqual(
      tasks.map((fn) => ({ 'Fn::GetAtt': [lambdaId(fn), 'Arn'] })).sort(),
    );
    // The role may invoke exactly those functions.
    const invoke = statementsOf(resource('OrderSagaRole')).filter((s) =>
      actionsOf(s).includes('lambda:InvokeFunction'),
    );
    expect(invoke.flatMap((s) => [s.Resource].flat()).sort()).toEqual(
      tasks.map((fn) => ({ 'Fn::GetAtt': [lambdaId(fn), 'Arn'] })).sort(),
    );
  });

  it('is STANDARD on dev, where an execution named by the order id runs once, and each type has a name of its own', async () => {
    const dev = await packaged('dev');
    expect(dev.template.Resources.OrderSagaStateMachine?.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      StateMachineName: 'orderflow-dev-order-saga',
    });
    // A type cannot change in place, and CloudFormation replaces no custom-named resource under the same name: a
    // stage that moves to EXPRESS must get a state machine of another name, or its deploy fails.
    expect(resource('OrderSagaStateMachine').Properties.StateMachineName).toBe('orderflow-prod-order-saga-express');
  });

  it('starts the saga from StockReserved, its OrderPlaced let through beside it, and may start nothing but the saga', () => {
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    const starter = mappings.find((m) => JSON.stringify(m.FunctionName).includes(lambdaId('startSaga')));
    const patterns = (starter?.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map(
      (f) => JSON.parse(f.Pattern) as unknown,
    );
    expect(patterns).toEqual([
      { data: { eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: ['OrderPlaced', 'StockReserved'] } } } } },
    ]);
    const start = statementsOf(roleOf('startSaga')).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    expect(start).toEqual([
      { Effect: 'Allow', Action: ['states:StartExecution'], Resource: { Ref: 'OrderSagaStateMachine' } },
    ]);
    const compensator = mappings.find((m) =>
      JSON.stringify(m.FunctionName).includes(lambdaId('compensateCancellation')),
    );
    expect(JSON.stringify(compensator?.FilterCriteria)).toContain('OrderCancelled');
  });
});

describe("the projections' consumers in the packaged prod template", () => {
  it("let through only their projection's streams, so no other record invokes them", () => {
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    for (const { name, streamPrefix } of [ordersProjection, productsProjection]) {
      const mapping = mappings.find((m) => JSON.stringify(m.FunctionName).includes(lambdaId(`${name}Projection`)));
      const patterns = (mapping?.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map(
        (f) => JSON.parse(f.Pattern) as unknown,
      );
      expect(patterns).toEqual([
        { data: { eventName: ['INSERT'], dynamodb: { Keys: { streamId: { S: [{ prefix: streamPrefix }] } } } } },
      ]);
      expect(mapping).toMatchObject({ BatchSize: 100, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    }
  });
});

describe('the sweeper in the packaged prod template', () => {
  it('runs on a schedule, enabled, every 5 minutes', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').map(([, rule]) => rule.Properties);
    const sweeps = rules.filter((rule) => JSON.stringify(rule.Targets).includes(lambdaId('sweepPendingOrders')));
    expect(sweeps).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [lambdaId('sweepPendingOrders'), 'Arn'] } })],
      }),
    ]);
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').map(([, p]) => p.Properties);
    expect(permissions).toContainEqual(
      expect.objectContaining({
        FunctionName: { 'Fn::GetAtt': [lambdaId('sweepPendingOrders'), 'Arn'] },
        Principal: 'events.amazonaws.com',
      }),
    );
  });

  it('waits longer than the saga may run before it settles an order, knowing the saga is EXPRESS on prod', async () => {
    const asl = JSON.parse(await readFile(join(projectRoot, 'statemachines', 'order-saga.asl.json'), 'utf8')) as {
      TimeoutSeconds: number;
    };
    const sweeper = resource(lambdaId('sweepPendingOrders')).Properties;
    const variables = (sweeper.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({ SAGA_TYPE: 'EXPRESS', ORDER_SAGA_ARN: { Ref: 'OrderSagaStateMachine' } });
    expect(Number(variables.SWEEP_PENDING_AFTER_SECONDS)).toBeGreaterThan(asl.TimeoutSeconds);
    expect(sweeper.Timeout).toBe(120);
  });

  it('may query the pending index, settle orders as the saga does, and describe the saga’s executions, nothing more', () => {
    const grants = dynamoStatements('sweepPendingOrders')
      .flatMap((s) => actionsOf(s).map((action) => `${action} ${JSON.stringify(s.Resource)}`))
      .sort();
    const on = (arn: unknown, ...actions: string[]) => actions.map((a) => `dynamodb:${a} ${JSON.stringify(arn)}`);
    expect(grants).toEqual(
      [
        ...on({ 'Fn::GetAtt': ['EventsTable', 'Arn'] }, 'PutItem', 'Query'),
        ...on({ 'Fn::GetAtt': ['SnapshotsTable', 'Arn'] }, 'UpdateItem'),
        ...on({ 'Fn::GetAtt': ['PaymentSimulatorTable', 'Arn'] }, 'GetItem', 'UpdateItem'),
        ...on(
          [
            { 'Fn::Sub': '${OrdersTable.Arn}/index/pendingSince' },
            { 'Fn::Sub': '${OrdersGreenTable.Arn}/index/pendingSince' },
          ],
          'Query',
        ),
        ...on({ 'Fn::GetAtt': ['ProjectionsTable', 'Arn'] }, 'GetItem'),
      ].sort(),
    );
    const states = statementsOf(roleOf('sweepPendingOrders')).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('states:')),
    );
    expect(states).toEqual([
      // Parks the void of an order it gives up while the gateway is unavailable.
      { Effect: 'Allow', Action: ['states:StartExecution'], Resource: { Ref: 'CompensationStateMachine' } },
      describeParked,
      {
        Effect: 'Allow',
        Action: ['states:DescribeExecution'],
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${OrderSagaStateMachine.Name}:*',
        },
      },
    ]);
  });

  it('alarms on any order it settled or could not settle (OrdersSwept)', () => {
    const alarm = resource('SweptOrdersAlarm').Properties as {
      Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: Record<string, unknown> } }[];
      Threshold: number;
      ComparisonOperator: string;
    };
    const metrics = alarm.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(metrics).toEqual(
      ['ABANDONED', 'FAILED'].map((outcome) => ({
        Namespace: 'orderflow',
        MetricName: 'OrdersSwept',
        Dimensions: [
          { Name: 'stage', Value: 'prod' },
          { Name: 'outcome', Value: outcome },
        ],
      })),
    );
    expect(alarm.Metrics.find((m) => m.Expression)?.Expression).toBe('SUM([abandoned, failed])');
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });
});

describe('the payment gateway’s circuit breaker in the packaged prod template', () => {
  const grants = (fn: string) =>
    dynamoStatements(fn)
      .flatMap((s) => actionsOf(s).map((action) => `${action} ${JSON.stringify(s.Resource)}`))
      .sort();
  const on = (table: string, ...actions: string[]) =>
    actions.map((a) => `dynamodb:${a} ${JSON.stringify({ 'Fn::GetAtt': [table, 'Arn'] })}`);

  it('keeps one item per circuit in a table of its own, keyed by the name the adapter uses', () => {
    expect(resource('CircuitsTable').Properties).toMatchObject({
      TableName: 'orderflow-prod-circuits',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: CIRCUIT_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: CIRCUIT_KEY, AttributeType: 'S' }],
    });
  });

  it('lets exactly the function that authorizes through the breaker read it and write it, nothing more', () => {
    // Only authorizations go through the breaker: refunds and voids go straight to the gateway
    // (application/paymentGateway.ts), so the compensations, the catch-all and the sweeper never touch it.
    const callers = ['authorizePayment'];
    for (const fn of functionNames) {
      const circuitGrants = grants(fn).filter((g) => g.includes('CircuitsTable'));
      expect(circuitGrants, fn).toEqual(callers.includes(fn) ? on('CircuitsTable', 'GetItem', 'PutItem') : []);
    }
    expect(grants('authorizePayment')).toEqual(
      [
        ...on('EventsTable', 'PutItem', 'Query'),
        ...on('PaymentSimulatorTable', 'GetItem', 'UpdateItem'),
        ...on('CircuitsTable', 'GetItem', 'PutItem'),
      ].sort(),
    );
    // The parked payment step only records that the order waits.
    expect(grants('awaitPayment')).toEqual(on('EventsTable', 'PutItem', 'Query'));
  });

  it('gives every function the breaker’s settings, and the parked step a bound that leaves the execution 120 s', async () => {
    const asl = JSON.parse(await readFile(join(projectRoot, 'statemachines', 'order-saga.asl.json'), 'utf8')) as {
      TimeoutSeconds: number;
    };
    const variables = (fn: string) =>
      (resource(lambdaId(fn)).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables('authorizePayment')).toMatchObject({
      CIRCUITS_TABLE: 'orderflow-prod-circuits',
      CIRCUIT_FAILURE_THRESHOLD: expect.anything(),
      CIRCUIT_WINDOW_SECONDS: expect.anything(),
      CIRCUIT_COOL_DOWN_SECONDS: expect.anything(),
    });
    const wait = variables('awaitPayment');
    // EXPRESS on prod: an execution lasts at most TimeoutSeconds (300 s); the give-up needs time after the bound.
    expect(Number(wait.PAYMENT_WAIT_BOUND_SECONDS) + 120).toBeLessThanOrEqual(asl.TimeoutSeconds);
    expect(Number(wait.PAYMENT_WAIT_MAX_SECONDS)).toBeLessThan(Number(wait.PAYMENT_WAIT_BOUND_SECONDS));
    expect(Number(wait.PAYMENT_WAIT_FIRST_SECONDS)).toBeGreaterThan(0);
  });

  it('alarms when the breaker has been open longer than the threshold (CircuitOpenFor, the outage so far)', () => {
    expect(resource('PaymentCircuitOpenAlarm').Properties).toMatchObject({
      Namespace: 'orderflow',
      MetricName: 'CircuitOpenFor',
      Dimensions: [
        { Name: 'stage', Value: 'prod' },
        { Name: 'circuit', Value: PAYMENT_CIRCUIT },
      ],
      Statistic: 'Maximum',
      Threshold: 120000,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });
});

describe('the parked compensation in the packaged prod template', () => {
  const variables = (fn: string) =>
    (resource(lambdaId(fn)).Properties.Environment as { Variables: Record<string, unknown> }).Variables;

  it('deploys compensation.asl.json as is, STANDARD even where the saga is EXPRESS, traced, its Task resumeCompensation', async () => {
    const machine = resource('CompensationStateMachine').Properties;
    const asl = JSON.parse(
      await readFile(join(projectRoot, 'statemachines', 'compensation.asl.json'), 'utf8'),
    ) as unknown;
    expect(machine.Definition).toEqual(asl);
    expect(machine).toMatchObject({
      StateMachineName: 'orderflow-prod-compensation',
      // An outage may last longer than an EXPRESS execution's five minutes.
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
    });
    expect(resource('OrderSagaStateMachine').Properties.StateMachineType).toBe('EXPRESS');
    expect(machine.DefinitionSubstitutions).toEqual({
      ResumeCompensationFunctionArn: { 'Fn::GetAtt': [lambdaId('resumeCompensation'), 'Arn'] },
    });
    const statements = statementsOf(resource('CompensationRole'));
    expect(statements.flatMap(actionsOf)).toEqual([
      'lambda:InvokeFunction',
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ]);
    expect(statements[0]?.Resource).toEqual([{ 'Fn::GetAtt': [lambdaId('resumeCompensation'), 'Arn'] }]);
  });

  it('lets exactly the compensations park there (a cancellation’s, the saga’s give-up, the sweeper’s), still retrying real failures into the failure queue', () => {
    const parkers = ['compensateCancellation', 'abandonOrder', 'sweepPendingOrders'];
    const park = [
      { Effect: 'Allow', Action: ['states:StartExecution'], Resource: { Ref: 'CompensationStateMachine' } },
      // Whether an execution of the name it would take still waits.
      describeParked,
    ];
    for (const fn of functionNames) {
      const parks = statementsOf(roleOf(fn)).filter((s) => JSON.stringify(s).includes('CompensationStateMachine'));
      expect(parks, fn).toEqual(parkers.includes(fn) ? park : []);
      const environment = resource(lambdaId(fn)).Properties.Environment as
        { Variables: Record<string, unknown> } | undefined;
      expect(environment?.Variables.COMPENSATION_ARN, fn).toEqual(
        parkers.includes(fn) ? { Ref: 'CompensationStateMachine' } : undefined,
      );
    }
    const mapping = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')
      .map(([, m]) => m.Properties)
      .find((m) => JSON.stringify(m.FunctionName).includes(lambdaId('compensateCancellation')));
    expect(mapping).toMatchObject({
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['ChangeFailuresQueue', 'Arn'] } } },
    });
  });

  it('gives resumeCompensation what a compensation writes and the wait params, bounded well past the alarm', () => {
    const grants = dynamoStatements('resumeCompensation')
      .flatMap((s) => actionsOf(s).map((action) => `${action} ${JSON.stringify(s.Resource)}`))
      .sort();
    const on = (table: string, ...actions: string[]) =>
      actions.map((a) => `dynamodb:${a} ${JSON.stringify({ 'Fn::GetAtt': [table, 'Arn'] })}`);
    expect(grants).toEqual(
      [...on('EventsTable', 'PutItem', 'Query'), ...on('PaymentSimulatorTable', 'GetItem', 'UpdateItem')].sort(),
    );
    const wait = variables('resumeCompensation');
    const [first, max, bound] = [
      wait.COMPENSATION_WAIT_FIRST_SECONDS,
      wait.COMPENSATION_WAIT_MAX_SECONDS,
      wait.COMPENSATION_WAIT_BOUND_SECONDS,
    ].map(Number);
    expect(first).toBeGreaterThan(0);
    expect(max).toBeGreaterThanOrEqual(Number(first));
    // Far longer than the outages the saga waits out in its execution (paymentWaitBoundSeconds, 180 s).
    expect(bound).toBeGreaterThanOrEqual(3600);
    const alarm = resource('ParkedCompensationAlarm').Properties;
    // The alarm fires long before a compensation gives up, and always sees a retry in its period.
    expect(Number(alarm.Threshold)).toBeLessThan(Number(bound) * 1000);
    expect(Number(alarm.Period)).toBeGreaterThanOrEqual(2 * Number(max));
  });

  it('alarms when a refund has waited for the gateway longer than the threshold (CompensationParkedFor)', () => {
    expect(resource('ParkedCompensationAlarm').Properties).toMatchObject({
      Namespace: 'orderflow',
      MetricName: 'CompensationParkedFor',
      Dimensions: [{ Name: 'stage', Value: 'prod' }],
      Statistic: 'Maximum',
      Threshold: 600000,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });
});

describe('serverless.yml and the contract', () => {
  it('routes each contract route to the function named by its operationId, with the scopes its access needs', async () => {
    const declared = httpRoutes(await loadServerlessConfig('test'));
    const methodsOf = (method: string) => (method === 'GET' ? ['GET', 'HEAD'] : [method]);
    for (const route of routes) {
      for (const method of methodsOf(route.method)) {
        const match = declared.find((r) => r.routeKey === `${method} ${route.path}`);
        const name = `${method} ${route.operationId}`;
        expect(match?.functionName, name).toBe(route.operationId);
        expect(match?.authorizer === undefined, name).toBe(route.access === 'public');
        expect(match?.authorizer?.scopes ?? [], name).toEqual(route.access === 'admin' ? [ADMIN_SCOPE] : []);
      }
    }
    expect(declared.map((r) => r.routeKey).sort()).toEqual(
      ['$default', ...routes.flatMap((r) => methodsOf(r.method).map((method) => `${method} ${r.path}`))].sort(),
    );
  });

  it('refuses to deploy prod on the placeholder issuer or without an alarm subscriber, before touching AWS', async () => {
    // The global setup packaged prod without ORDERFLOW_JWT_ISSUER or ORDERFLOW_ALARM_EMAIL, as a forgetful CI job would.
    const prod = await deployOffline('prod', dir);
    expect(prod.code).not.toBe(0);
    expect(prod.output).toContain('Not deploying');
    expect(prod.output).toContain('ORDERFLOW_JWT_ISSUER');
    expect(prod.output).toContain('ORDERFLOW_ALARM_EMAIL');
    // Nor does any other stage but dev.
    const staging = await deployOffline('staging', (await packaged('staging')).dir);
    expect(staging.code).not.toBe(0);
    expect(staging.output).toContain('Not deploying');
    // dev requires neither: its deploy goes on, as far as the missing credentials.
    const dev = await deployOffline('dev', (await packaged('dev')).dir);
    expect(dev.code).not.toBe(0);
    expect(dev.output).not.toContain('Not deploying');
    expect(dev.output).toContain('credentials');
  }, 60_000);

  it('refuses to package a stage whose roles’ names would be too long for IAM or have upper case, saying why', async () => {
    const refused = await packagedTemplate('Jane-Doe-Experiment-22').then(
      () => undefined,
      (error: unknown) => error as { stdout?: string; stderr?: string },
    );
    expect(refused, 'packaged').toBeDefined();
    const output = `${refused?.stdout ?? ''}${refused?.stderr ?? ''}`;
    expect(output).toContain('Not packaging');
    expect(output).toContain('is 22 characters; in eu-west-1 at most 21 fit');
    expect(output).toContain('orderflow-Jane-Doe-Experiment-22-compensateCancellation-eu-west-1');
    expect(output).toContain('Stage "Jane-Doe-Experiment-22" has upper-case letters');
  }, 60_000);

  it('refuses to package settings that cannot work, naming each and what it takes', async () => {
    const refused = await packagedTemplate('prod', {
      logLevel: 'INFO',
      sagaType: 'express',
      storeDeletionPolicy: 'delete',
      deletionProtection: 'no',
      sweepRate: 'rate(1 hour)',
    }).then(
      () => undefined,
      (error: unknown) => error as { stdout?: string; stderr?: string },
    );
    expect(refused, 'packaged').toBeDefined();
    const output = `${refused?.stdout ?? ''}${refused?.stderr ?? ''}`;
    expect(output).toContain('Not packaging: these settings');
    for (const named of ['logLevel is "INFO"', 'sagaType is "express"', 'storeDeletionPolicy is "delete"']) {
      expect(output).toContain(named);
    }
    expect(output).toContain('deletionProtection is "no"');
    expect(output).toContain('sweepRate is rate(1 hour)');
  }, 60_000);

  it('has every handler serverless.yml names', async () => {
    const config = await loadServerlessConfig('test');
    for (const fn of Object.values(config.functions ?? {})) {
      const [modulePath] = fn.handler.split(/\.(?=[^.]+$)/);
      await expect(readFile(join(projectRoot, `${modulePath}.ts`), 'utf8')).resolves.toContain('export const handler');
    }
  });
});
