import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { projectRoot } from '../../local/paths.js';

export type CfnResource = { Type: string; Properties: Record<string, unknown> & { [key: string]: unknown } };
export type Template = { Resources: Record<string, CfnResource>; Outputs?: Record<string, unknown> };

const slsBin = createRequire(import.meta.url).resolve('osls/bin/serverless.js');

/**
 * Runs `sls package --stage <stage>` offline (with `--param=key=value` for each of `params`), as a team would before
 * deploying, into a temporary folder, and returns the CloudFormation template and the artifacts' folder, which the
 * caller removes. A packaging that fails leaves no folder.
 */
export const packageStage = async (
  stage: string,
  params: Record<string, string> = {},
): Promise<{ template: Template; dir: string }> => {
  const dir = await mkdtemp(join(tmpdir(), `orderflow-package-${stage}-`));
  const paramArgs = Object.entries(params).map(([key, value]) => `--param=${key}=${value}`);
  try {
    await promisify(execFile)(process.execPath, [slsBin, 'package', '--stage', stage, ...paramArgs, '--package', dir], {
      cwd: projectRoot,
      // No AWS credentials at all: packaging must not need an account.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SLS_TELEMETRY_DISABLED: '1' },
      maxBuffer: 32 * 1024 * 1024,
    });
    const template = JSON.parse(
      await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
    return { template, dir };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
};

/** The template `sls package` makes of a stage with these params, its artifacts removed: for a test that reads only it. */
export const packagedTemplate = async (stage: string, params: Record<string, string> = {}): Promise<Template> => {
  const { template, dir } = await packageStage(stage, params);
  await rm(dir, { recursive: true, force: true });
  return template;
};

/**
 * Runs `sls deploy --stage <stage> --package <dir>` as packaged, where no AWS credentials can be found: it gets as far
 * as it can offline, so what refuses a deploy before CloudFormation is touched shows here. Nothing of the developer's
 * or the runner's reaches it (a home of its own, no shared config or credentials files, no instance metadata), so a
 * deploy the guard lets through stops at the credentials and can never reach an account. Returns its exit code and
 * output; killed past `timeoutMs`.
 */
export const deployOffline = async (
  stage: string,
  dir: string,
  timeoutMs = 45_000,
): Promise<{ code: number; output: string }> => {
  const home = await mkdtemp(join(tmpdir(), 'orderflow-no-aws-'));
  try {
    return await new Promise((resolve) => {
      execFile(
        process.execPath,
        [slsBin, 'deploy', '--stage', stage, '--package', dir],
        {
          cwd: projectRoot,
          env: {
            PATH: process.env.PATH,
            HOME: home,
            AWS_CONFIG_FILE: join(home, 'config'),
            AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_REGION: 'eu-west-1',
            SLS_TELEMETRY_DISABLED: '1',
          },
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: 32 * 1024 * 1024,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
};

/**
 * The packaging of `stage` that the standalone project's global setup made (tests/support/packagedSetup.ts): its
 * template and the folder of its artifacts.
 */
export const packaged = async (stage: string): Promise<{ template: Template; dir: string }> => {
  const dir = inject('packaged')[stage];
  if (!dir) throw new Error(`the global setup packaged no ${stage} stage`);
  const template = JSON.parse(
    await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  return { template, dir };
};

export const resourcesOfType = (template: Template, type: string): [string, CfnResource][] =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

export type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** Every IAM statement of a role, across its inline policies. */
export const statementsOf = (role: CfnResource): Statement[] =>
  ((role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];
