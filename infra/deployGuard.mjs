// @ts-check
/**
 * Refuses to deploy a stage that must not run on placeholders (`custom.deployGuard.required`, on every stage but
 * `dev`): the JWT
 * issuer still the fail-closed placeholder, which answers every authenticated route with 401, or no alarm subscriber,
 * which leaves every alarm unread. Both come from the environment (ORDERFLOW_JWT_ISSUER, ORDERFLOW_ALARM_EMAIL), so a
 * redeploy from a shell or a CI job without them would otherwise put the placeholder back, or drop the subscription,
 * silently. `sls package` is offline and never refused: only the deploy is.
 */

/** The issuer serverless.yml falls back to when ORDERFLOW_JWT_ISSUER is unset: no real identity provider. */
export const PLACEHOLDER_ISSUER = 'https://issuer.invalid/';

/**
 * The local stack's own issuer (`npm start`, the tests: the `local` and `test` stages' params set it, whatever
 * ORDERFLOW_JWT_ISSUER says). Its key lives under .local on one machine: deployed, it answers every real token 401.
 */
export const LOCAL_ISSUER = 'https://orderflow.local/';

/** What every issuer refusal but a local stage's says to do. */
const SET_ISSUER = 'Set ORDERFLOW_JWT_ISSUER (and ORDERFLOW_JWT_AUDIENCE) to your identity provider.';

/**
 * @typedef {{
 *   required?: boolean | string;
 *   jwtIssuer?: string;
 *   alarmEmail?: string;
 *   alarmsSubscribedElsewhere?: boolean | string;
 * }} DeploySettings
 */

/** @param {boolean | string | undefined} value */
const isTrue = (value) => value === true || value === 'true';

/**
 * What keeps this stage from deploying, one sentence each; nothing when the stage does not require its settings.
 * @param {DeploySettings | undefined} guard
 * @param {string} stage
 * @returns {string[]}
 */
export const deployProblems = (guard, stage) => {
  if (!guard || !isTrue(guard.required)) return [];
  const problems = [];
  if (!guard.jwtIssuer || guard.jwtIssuer === PLACEHOLDER_ISSUER) {
    problems.push(
      `The JWT issuer of stage ${stage} is the placeholder ${PLACEHOLDER_ISSUER}: every authenticated route would ` +
        `answer 401. ${SET_ISSUER}`,
    );
  }
  if (guard.jwtIssuer?.replace(/\/$/, '') === LOCAL_ISSUER.replace(/\/$/, '')) {
    problems.push(
      `The JWT issuer of stage ${stage} is the local stack's, ${LOCAL_ISSUER}: every authenticated route would ` +
        'answer 401. ' +
        (stage === 'local' || stage === 'test'
          ? `Stage ${stage} is the local stack's or the tests', whose params in serverless.yml set it over ` +
            'ORDERFLOW_JWT_ISSUER: deploy under another stage name (or pass --param="jwtIssuer=<your issuer>").'
          : SET_ISSUER),
    );
  }
  if (!guard.alarmEmail && !isTrue(guard.alarmsSubscribedElsewhere)) {
    problems.push(
      `Stage ${stage} has no alarm subscriber: its alarms would reach nobody, and a deploy without the address drops ` +
        'the subscription an earlier one made. Set ORDERFLOW_ALARM_EMAIL, or --param="alarmsSubscribedElsewhere=true" ' +
        `when something else subscribes to the topic orderflow-${stage}-alarms.`,
    );
  }
  return problems;
};

/** The plugin: it runs once the package is built and validated, before CloudFormation is touched. */
export default class DeployGuard {
  /**
   * @param {{
   *   service: { custom?: { deployGuard?: DeploySettings }; provider: { stage?: string } };
   *   classes: { Error: new (message: string) => Error };
   * }} serverless
   */
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:aws:deploy:deploy:createStack': () => this.check() };
  }

  check() {
    const { custom, provider } = this.serverless.service;
    const problems = deployProblems(custom?.deployGuard, provider.stage ?? 'dev');
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `Not deploying.\n- ${problems.join('\n- ')}\n` +
          'A package (--package) is checked as it was built: package again with them set.',
      );
    }
  }
}
