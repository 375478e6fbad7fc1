import { describe, expect, it } from 'vitest';
import { deployProblems, LOCAL_ISSUER, PLACEHOLDER_ISSUER } from '../../../infra/deployGuard.mjs';

const ready = { required: 'true', jwtIssuer: 'https://idp.example.com/', alarmEmail: 'oncall@example.com' };

describe('the deploy guard', () => {
  it('lets a stage that requires its settings deploy once it has a real issuer and an alarm subscriber', () => {
    expect(deployProblems(ready, 'prod')).toEqual([]);
    expect(
      deployProblems({ ...ready, alarmEmail: '', alarmsSubscribedElsewhere: 'true' }, 'prod'),
      'another subscriber',
    ).toEqual([]);
  });

  it('refuses the placeholder issuer, or none, which would answer every authenticated route 401', () => {
    for (const jwtIssuer of [PLACEHOLDER_ISSUER, '']) {
      const problems = deployProblems({ ...ready, jwtIssuer }, 'prod');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('ORDERFLOW_JWT_ISSUER');
    }
  });

  it('refuses the local stack’s issuer, which the local and test stages set over the environment’s', () => {
    const problems = deployProblems({ ...ready, jwtIssuer: LOCAL_ISSUER }, 'test');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('deploy under another stage name');
    // From the environment on another stage, with or without its trailing slash: the environment is the way out.
    const elsewhere = deployProblems({ ...ready, jwtIssuer: LOCAL_ISSUER.replace(/\/$/, '') }, 'staging');
    expect(elsewhere).toHaveLength(1);
    expect(elsewhere[0]).toContain('Set ORDERFLOW_JWT_ISSUER');
  });

  it('refuses a stage whose alarms would reach nobody, naming the two ways out', () => {
    for (const alarmsSubscribedElsewhere of [undefined, false, 'false']) {
      const problems = deployProblems({ ...ready, alarmEmail: '', alarmsSubscribedElsewhere }, 'prod');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('ORDERFLOW_ALARM_EMAIL');
      expect(problems[0]).toContain('orderflow-prod-alarms');
    }
  });

  it('checks nothing on a stage that does not require its settings', () => {
    const placeholders = { jwtIssuer: PLACEHOLDER_ISSUER, alarmEmail: '' };
    expect(deployProblems({ ...placeholders, required: false }, 'dev')).toEqual([]);
    expect(deployProblems({ ...placeholders, required: 'false' }, 'dev')).toEqual([]);
    expect(deployProblems(undefined, 'dev')).toEqual([]);
    expect(deployProblems({ ...placeholders, required: true }, 'prod')).toHaveLength(2);
  });
});
