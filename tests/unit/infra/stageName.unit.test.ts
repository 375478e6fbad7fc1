import { describe, expect, it } from 'vitest';
import { longestStage, stageNameProblems } from '../../../infra/stageName.mjs';

// The longest function name serverless.yml has, and one short one: the longest decides.
const functions = ['placeOrder', 'compensateCancellation'];

describe('the stage name check', () => {
  it('lets a stage deploy while every function’s role name fits in IAM’s 64 characters', () => {
    expect(longestStage('orderflow', 'eu-west-1', functions)).toBe(21);
    expect(longestStage('orderflow', 'ap-southeast-2', functions)).toBe(16);
    for (const stage of ['dev', 'prod', 'pr-1234', 'jane-doe-experiment-2']) {
      expect(stageNameProblems('orderflow', stage, 'eu-west-1', functions), stage).toEqual([]);
    }
    expect(stageNameProblems('orderflow', 'jane-doe-exp-16c', 'ap-southeast-2', functions)).toEqual([]);
  });

  it('refuses one character more, naming the stage, the most that fit, and the role that would not', () => {
    const [problem, ...more] = stageNameProblems('orderflow', 'jane-doe-experiment-22', 'eu-west-1', functions);
    expect(more).toEqual([]);
    expect(problem).toContain('Stage "jane-doe-experiment-22" is 22 characters; in eu-west-1 at most 21 fit');
    expect(problem).toContain('orderflow-jane-doe-experiment-22-compensateCancellation-eu-west-1, would be 65');
    expect(stageNameProblems('orderflow', 'jane-doe-exp-17ch', 'ap-southeast-2', functions)).toHaveLength(1);
  });

  it('refuses upper-case letters, which IAM does not tell apart and which match none of the stage’s params', () => {
    const [problem, ...more] = stageNameProblems('orderflow', 'Prod', 'eu-west-1', functions);
    expect(more).toEqual([]);
    expect(problem).toContain('Stage "Prod" has upper-case letters');
    expect(problem).toContain('Use "prod"');
    // Both refusals at once, each said.
    expect(stageNameProblems('orderflow', 'Jane-Doe-Experiment-22', 'eu-west-1', functions)).toHaveLength(2);
  });
});
