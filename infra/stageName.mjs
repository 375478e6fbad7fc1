// @ts-check
/**
 * Refuses to package a stage whose name cannot deploy, before anything is built. Each function's own role is named
 * `<service>-<stage>-<function>-<region>` (serverless-iam-roles-per-function), and IAM allows 64 characters: with
 * our longest function name, that is 21 characters of stage in eu-west-1 and 16 in ap-southeast-2. The plugin's own
 * refusal names a function and a workaround, not the stage or how long it may be; a Lambda function name over 64
 * (`<service>-<stage>-<function>`) would fail only in CloudFormation. Characters are osls's to refuse (letters,
 * digits and hyphens), and it does, but it lets upper-case letters through, which we refuse: IAM tells no names
 * apart by case, so `Prod` would fail on `prod`'s roles, and `Prod` matches none of `prod`'s params, so it would
 * deploy without the protections prod's name asks for.
 */

/** IAM's limit on a role name, and Lambda's on a function name. */
const MAX_NAME = 64;

/**
 * The longest stage name that deploys these functions in this region.
 * @param {string} service
 * @param {string} region
 * @param {string[]} functions
 */
export const longestStage = (service, region, functions) => {
  const longest = Math.max(0, ...functions.map((name) => name.length));
  // `<service>-<stage>-<function>-<region>` and `<service>-<stage>-<function>`: the role's name is the longer.
  return MAX_NAME - (service.length + 1 + 1 + longest + 1 + region.length);
};

/**
 * What keeps this stage's name from deploying, one sentence; nothing when it fits.
 * @param {string} service
 * @param {string} stage
 * @param {string} region
 * @param {string[]} functions
 * @returns {string[]}
 */
export const stageNameProblems = (service, stage, region, functions) => {
  const problems = [];
  if (stage !== stage.toLowerCase()) {
    problems.push(
      `Stage "${stage}" has upper-case letters: IAM tells role names apart only by their letters, not their case, so ` +
        `it would collide with stage "${stage.toLowerCase()}", and none of the params named ` +
        `"${stage.toLowerCase()}" apply to it. Use "${stage.toLowerCase()}".`,
    );
  }
  const most = longestStage(service, region, functions);
  if (stage.length <= most) return problems;
  const function_ = functions.reduce((a, b) => (b.length > a.length ? b : a), '');
  const role = `${service}-${stage}-${function_}-${region}`;
  return [
    ...problems,
    `Stage "${stage}" is ${stage.length} characters; in ${region} at most ${most} fit: the IAM role of ` +
      `${function_}, ${role}, would be ${role.length} characters, over IAM's ${MAX_NAME}. Choose a shorter stage name ` +
      '(16 characters fit in every region).',
  ];
};

/** The plugin: it runs before anything is packaged, so `sls package` and `sls deploy` both refuse. */
export default class StageName {
  /**
   * @param {{
   *   service: { service: string; getAllFunctions: () => string[] };
   *   getProvider: (name: 'aws') => { getStage: () => string; getRegion: () => string };
   *   classes: { Error: new (message: string) => Error };
   * }} serverless
   */
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:initialize': () => this.check() };
  }

  check() {
    const aws = this.serverless.getProvider('aws');
    const { service } = this.serverless.service;
    const problems = stageNameProblems(
      service,
      aws.getStage(),
      aws.getRegion(),
      this.serverless.service.getAllFunctions(),
    );
    if (problems.length > 0) throw new this.serverless.classes.Error(`Not packaging.\n- ${problems.join('\n- ')}`);
  }
}
