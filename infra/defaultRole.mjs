// @ts-check
/**
 * Drops the framework's default role (`IamRoleLambdaExecution`) once serverless-iam-roles-per-function has given
 * every function a role of its own. The framework still makes it, as the template the per-function roles are cloned
 * from, and grants it what every function's events need together: reading the change stream, which carries each
 * order's events, and sending to the failure queue. Unused, it is still a role anyone allowed `iam:PassRole` could
 * hand to a new function. Kept when anything in the template refers to it.
 */

/** @typedef {{ Resources: Record<string, unknown>; Outputs?: Record<string, unknown> }} Template */

/**
 * The template without the role named `roleId` if nothing else in it mentions that role; else as it was.
 * @param {Template} template
 * @param {string} roleId
 * @returns {boolean} Whether the role was dropped.
 */
export const dropUnusedRole = (template, roleId) => {
  if (!(roleId in template.Resources)) return false;
  const { [roleId]: _, ...others } = template.Resources;
  // By logical id anywhere: a Ref or GetAtt, a DependsOn, or a `${Role.Arn}` inside a Fn::Sub; not as part of
  // another id (the per-function roles are `<Function>IamRoleLambdaExecution`).
  const mention = new RegExp(`(?<![A-Za-z0-9])${roleId}(?![A-Za-z0-9])`);
  const mentioned = mention.test(JSON.stringify([others, template.Outputs ?? {}]));
  if (mentioned) return false;
  template.Resources = others;
  return true;
};

/** The plugin: it runs after serverless-iam-roles-per-function's `before:package:finalize`, which clones the role. */
export default class DefaultRole {
  /** @param {{ service: { provider: { compiledCloudFormationTemplate: Template } }; getProvider: (name: string) => { naming: { getRoleLogicalId: () => string } } }} serverless */
  constructor(serverless) {
    this.serverless = serverless;
    // Once serverless.yml's own resources and outputs are merged in, and before the template is written.
    this.hooks = { 'before:aws:package:finalize:saveServiceState': () => this.drop() };
  }

  drop() {
    const { serverless } = this;
    return dropUnusedRole(
      serverless.service.provider.compiledCloudFormationTemplate,
      serverless.getProvider('aws').naming.getRoleLogicalId(),
    );
  }
}
