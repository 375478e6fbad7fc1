import { describe, expect, it } from 'vitest';
import { levels } from '../../../functions/observability/logger.js';
import { LOG_LEVELS, rateSeconds, settingProblems } from '../../../infra/settings.mjs';

const working = {
  logLevel: 'info',
  sagaType: 'EXPRESS',
  storeDeletionPolicy: 'Retain',
  deletionProtection: true,
  sweepRate: 'rate(5 minutes)',
};

describe('the settings check', () => {
  it('takes what serverless.yml sets on every stage, and what --param passes as text', () => {
    expect(settingProblems(working)).toEqual([]);
    expect(
      settingProblems({ ...working, logLevel: 'silent', deletionProtection: 'false', sweepRate: 'rate(14 minutes)' }),
    ).toEqual([]);
    // A cron schedule is EventBridge's to check.
    expect(settingProblems({ ...working, sweepRate: 'cron(0/5 * * * ? *)' })).toEqual([]);
  });

  it('knows the log levels the functions take', () => {
    expect(LOG_LEVELS).toEqual([...levels]);
  });

  it.each([
    ['logLevel', 'INFO', 'lower case'],
    ['logLevel', 'verbose', 'debug, info, warn, error, silent'],
    ['sagaType', 'express', 'STANDARD, EXPRESS'],
    ['storeDeletionPolicy', 'delete', 'Delete, Retain, RetainExceptOnCreate'],
    ['deletionProtection', 'no', 'DeletionProtectionEnabled'],
    ['sweepRate', 'rate(30 minutes)', 'SweeperSilentAlarm'],
    ['sweepRate', 'rate(15 minutes)', 'at most rate(14 minutes)'],
    ['sweepRate', 'rate(1 hour)', 'Sweep more often'],
  ])('refuses %s %j, saying what it takes', (name, value, says) => {
    const problems = settingProblems({ ...working, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
    expect(problems[0]).toContain(says);
  });

  it('reads an EventBridge rate in seconds', () => {
    expect([rateSeconds('rate(1 minute)'), rateSeconds('rate(5 minutes)'), rateSeconds('rate(2 hours)')]).toEqual([
      60, 300, 7200,
    ]);
    expect([rateSeconds('rate(5 weeks)'), rateSeconds('cron(0 * * * ? *)')]).toEqual([undefined, undefined]);
  });
});
