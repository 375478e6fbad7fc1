// @ts-check
/**
 * Refuses to deploy a stage that must not run on placeholders (`custom.deployGuard.required`, on every stage but
 * `dev`): the JWT issuer still the fail-closed placeholder, which answers every authenticated route with 401, or no
 * alarm subscriber, which leaves every alarm unread. Both come from the environment (ORDERFLOW_JWT_ISSUER,
 * ORDERFLOW_ALARM_EMAIL), so a redeploy from a shell or a CI job without them would otherwise put the placeholder back,
 * or drop the subscription, silently. On any stage, it also refuses a template reserving more concurrency than the
 * account leaves, which CloudFormation would only find after creating the tables that keep their data. `sls package`
 * is offline and never refused: only the deploy is.
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

/**
 * Lambda keeps this much of an account's concurrency unreserved (all of it, on an account whose quota is lower): a
 * template reserving more fails on its first reserving function, after the tables that keep their data exist.
 */
export const MIN_UNRESERVED = 100;

/**
 * What the template reserves, per function name: the `ReservedConcurrentExecutions` of its functions.
 * @param {{ Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> } | undefined} template
 * @returns {Map<string, number>}
 */
export const reservations = (template) => {
  const reserved = new Map();
  for (const resource of Object.values(template?.Resources ?? {})) {
    const { FunctionName, ReservedConcurrentExecutions } = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::Function' && typeof ReservedConcurrentExecutions === 'number') {
      reserved.set(String(FunctionName), ReservedConcurrentExecutions);
    }
  }
  return reserved;
};

/**
 * Why the account cannot take the template's reservations, or nothing when it can. `unreserved` is the account's
 * unreserved concurrency now, `reservedNow` what the template's functions already reserve (an update moves it, it
 * does not add it).
 * @param {{ stage: string; limit: number; unreserved: number; reservedNow: number; reserving: number }} account
 * @returns {string | undefined}
 */
export const concurrencyProblem = ({ stage, limit, unreserved, reservedNow, reserving }) => {
  const floor = Math.min(MIN_UNRESERVED, limit);
  const after = unreserved + reservedNow - reserving;
  if (reserving === 0 || after >= floor) return undefined;
  return (
    `Stage ${stage} reserves ${reserving} concurrent executions, and the account's concurrency quota of ${limit} ` +
    `has ${unreserved + reservedNow} of them unreserved for it: Lambda keeps ${floor} unreserved, so CloudFormation ` +
    'would fail on the first reserving function, after creating the tables that keep their data (docs/operations.md, ' +
    '"Before the first deploy"). Ask for a quota increase (Service Quotas, "Concurrent executions"), or set ' +
    `replayWorkerConcurrency: {} and sagaStarterConcurrency: {} in serverless.yml's params for stage ${stage}.`
  );
};

/** The plugin: it runs once the package is built and validated, before CloudFormation is touched. */
export default class DeployGuard {
  /**
   * @param {{
   *   service: {
   *     custom?: { deployGuard?: DeploySettings };
   *     provider: { stage?: string; compiledCloudFormationTemplate?: Parameters<typeof reservations>[0] };
   *   };
   *   classes: { Error: new (message: string) => Error };
   *   getProvider(name: 'aws'): { getAwsSdkV3Config(): Promise<import('@aws-sdk/client-lambda').LambdaClientConfig> };
   * }} serverless
   * @param {unknown} _options
   * @param {{ log?: { warning?: (message: string) => void } }} [utils] what osls passes a plugin: its logger
   */
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    /** @type {Pick<import('@aws-sdk/client-lambda').LambdaClient, 'send'> | undefined} set by tests: Lambda's answers */
    this.lambda = undefined;
    this.hooks = { 'before:aws:deploy:deploy:createStack': () => this.check() };
  }

  async check() {
    const { custom, provider } = this.serverless.service;
    const stage = provider.stage ?? 'dev';
    const problems = deployProblems(custom?.deployGuard, stage);
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `Not deploying.\n- ${problems.join('\n- ')}\n` +
          'A package (--package) is checked as it was built: package again with them set.',
      );
    }
    const problem = await this.checkConcurrency(stage);
    if (problem) throw new this.serverless.classes.Error(`Not deploying.\n- ${problem}`);
  }

  /**
   * Asks Lambda what the account has unreserved. A check that cannot ask (no `lambda:GetAccountSettings`) warns and
   * lets the deploy go on, as it did before this check.
   * @param {string} stage
   */
  async checkConcurrency(stage) {
    const reserved = reservations(this.serverless.service.provider.compiledCloudFormationTemplate);
    const reserving = [...reserved.values()].reduce((sum, n) => sum + n, 0);
    if (reserving === 0) return undefined;
    try {
      const { LambdaClient, GetAccountSettingsCommand, GetFunctionConcurrencyCommand } =
        await import('@aws-sdk/client-lambda');
      /** @type {Pick<import('@aws-sdk/client-lambda').LambdaClient, 'send'>} */
      const lambda = this.lambda ?? new LambdaClient(await this.serverless.getProvider('aws').getAwsSdkV3Config());
      const { AccountLimit } = await lambda.send(new GetAccountSettingsCommand({}));
      let reservedNow = 0;
      for (const FunctionName of reserved.keys()) {
        const answer = await lambda
          .send(new GetFunctionConcurrencyCommand({ FunctionName }))
          .catch((/** @type {{ name?: string }} */ error) => {
            // Not deployed yet: it reserves nothing today.
            if (error.name === 'ResourceNotFoundException') return { ReservedConcurrentExecutions: 0 };
            throw error;
          });
        reservedNow += answer.ReservedConcurrentExecutions ?? 0;
      }
      return concurrencyProblem({
        stage,
        limit: AccountLimit?.ConcurrentExecutions ?? 0,
        unreserved: AccountLimit?.UnreservedConcurrentExecutions ?? 0,
        reservedNow,
        reserving,
      });
    } catch (error) {
      this.log?.warning?.(
        `Could not check the account's concurrency quota for the ${reserving} executions stage ${stage} reserves ` +
          `(${error instanceof Error ? error.message : String(error)}); deploying without that check.`,
      );
      return undefined;
    }
  }
}
