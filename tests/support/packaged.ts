import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
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
 * deploying, into a temporary folder, and returns the CloudFormation template and the artifacts' folder.
 */
export const packageStage = async (
  stage: string,
  params: Record<string, string> = {},
): Promise<{ template: Template; dir: string }> => {
  const dir = await mkdtemp(join(tmpdir(), `orderflow-package-${stage}-`));
  const paramArgs = Object.entries(params).map(([key, value]) => `--param=${key}=${value}`);
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
};

/**
 * Runs `sls deploy --stage <stage> --package <dir>` as packaged, with no AWS credentials: it gets as far as it can
 * offline, so what refuses a deploy before CloudFormation is touched shows here. Returns its exit code and output.
 */
export const deployOffline = async (stage: string, dir: string): Promise<{ code: number; output: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [slsBin, 'deploy', '--stage', stage, '--package', dir],
      {
        cwd: projectRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, SLS_TELEMETRY_DISABLED: '1', AWS_REGION: 'eu-west-1' },
        maxBuffer: 32 * 1024 * 1024,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });

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
