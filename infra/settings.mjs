// @ts-check
/**
 * Refuses to package a stage whose settings cannot work, before anything is built, naming the setting and what it
 * takes: values CloudFormation would refuse only mid-deploy (a deletion policy, deletion protection), a log level
 * every function would refuse at its first invocation, and a sweep slower than the alarm that watches for it. A saga
 * type the template cannot name would otherwise fail as an unresolved variable.
 */

/** What LOG_LEVEL takes (functions/observability/logger.ts `levels`; a unit test holds the two together). */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'];
export const SAGA_TYPES = ['STANDARD', 'EXPRESS'];
/** CloudFormation's DeletionPolicy values for a table. */
export const DELETION_POLICIES = ['Delete', 'Retain', 'RetainExceptOnCreate'];
/** SweeperSilentAlarm's window (serverless.yml): a sweep this slow or slower would set it off between runs. */
export const SWEEP_ALARM_SECONDS = 900;

/**
 * @typedef {{
 *   logLevel?: unknown;
 *   sagaType?: unknown;
 *   storeDeletionPolicy?: unknown;
 *   deletionProtection?: unknown;
 *   sweepRate?: unknown;
 * }} StageSettings
 */

/** @type {Record<string, number>} */
const unitSeconds = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };

/**
 * The seconds between runs of an EventBridge `rate(...)` expression; undefined for a `cron(...)` one, or a typo,
 * which EventBridge itself refuses.
 * @param {string} expression
 */
export const rateSeconds = (expression) => {
  const [, value, unit] = /^rate\((\d+) (\w+)\)$/.exec(expression) ?? [];
  const seconds = unit === undefined ? undefined : unitSeconds[unit];
  return value === undefined || seconds === undefined ? undefined : Number(value) * seconds;
};

/**
 * What keeps these settings from working, one sentence each; nothing when they all do.
 * @param {StageSettings} settings
 * @returns {string[]}
 */
export const settingProblems = ({ logLevel, sagaType, storeDeletionPolicy, deletionProtection, sweepRate }) => {
  /** @type {string[]} */
  const problems = [];
  /** @param {string} name @param {unknown} value @param {unknown[]} allowed @param {string} why */
  const oneOf = (name, value, allowed, why) => {
    if (!allowed.includes(value)) {
      problems.push(`${name} is ${JSON.stringify(value)}; it takes ${allowed.join(', ')} (${why}).`);
    }
  };
  oneOf('logLevel', logLevel, LOG_LEVELS, 'lower case: every function would refuse anything else');
  oneOf('sagaType', sagaType, SAGA_TYPES, "the state machine's type, upper case");
  oneOf('storeDeletionPolicy', storeDeletionPolicy, DELETION_POLICIES, 'as CloudFormation spells a DeletionPolicy');
  oneOf(
    'deletionProtection',
    deletionProtection,
    [true, false, 'true', 'false'],
    "the tables' DeletionProtectionEnabled",
  );
  const every = typeof sweepRate === 'string' ? rateSeconds(sweepRate) : undefined;
  // A run every 15 minutes leaves a 15-minute period empty whenever one fires late: strictly more often.
  if (every !== undefined && every >= SWEEP_ALARM_SECONDS) {
    problems.push(
      `sweepRate is ${String(sweepRate)}: SweeperSilentAlarm goes off when the sweeper has not run for ` +
        `${SWEEP_ALARM_SECONDS / 60} minutes, so it would between runs. Sweep more often, at most ` +
        `rate(${SWEEP_ALARM_SECONDS / 60 - 1} minutes) (docs/operations.md, "Swept orders").`,
    );
  }
  return problems;
};

/** The plugin: it runs before anything is packaged, so `sls package` and `sls deploy` both refuse. */
export default class SettingsCheck {
  /**
   * @param {{
   *   service: { custom?: { settings?: StageSettings } };
   *   classes: { Error: new (message: string) => Error };
   * }} serverless
   */
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:initialize': () => this.check() };
  }

  check() {
    const problems = settingProblems(this.serverless.service.custom?.settings ?? {});
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `Not packaging: these settings (serverless.yml params, or --param) cannot work.\n- ${problems.join('\n- ')}`,
      );
    }
  }
}
