import { describe, expect, it } from 'vitest';
import { GetAccountSettingsCommand, type GetFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import DeployGuard, {
  concurrencyProblem,
  deployProblems,
  LOCAL_ISSUER,
  PLACEHOLDER_ISSUER,
  reservations,
} from '../../../infra/deployGuard.mjs';

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

describe('the deploy guard’s concurrency check', () => {
  const template = {
    Resources: {
      ReplaySegmentLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: 'orderflow-prod-replaySegment', ReservedConcurrentExecutions: 40 },
      },
      StartSagaLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: 'orderflow-prod-startSaga', ReservedConcurrentExecutions: 4 },
      },
      PlaceOrderLambdaFunction: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'x' } },
    },
  };

  it('sums what the template reserves, per function', () => {
    expect(Object.fromEntries(reservations(template))).toEqual({
      'orderflow-prod-replaySegment': 40,
      'orderflow-prod-startSaga': 4,
    });
    expect(reservations({ Resources: {} }).size).toBe(0);
  });

  it('refuses an account that would be left with less than Lambda keeps unreserved, and names the ways out', () => {
    const fresh = { stage: 'prod', limit: 10, unreserved: 10, reservedNow: 0, reserving: 44 };
    expect(concurrencyProblem(fresh)).toContain('quota of 10');
    expect(concurrencyProblem(fresh)).toContain('replayWorkerConcurrency: {}');
    expect(concurrencyProblem({ ...fresh, limit: 143, unreserved: 143 })).toContain('Lambda keeps 100 unreserved');
    expect(concurrencyProblem({ ...fresh, limit: 144, unreserved: 144 })).toBeUndefined();
    // Another stack's reservations count against it; this stack's own, on an update, move rather than add.
    expect(concurrencyProblem({ ...fresh, limit: 1000, unreserved: 120, reservedNow: 0 })).toBeDefined();
    expect(concurrencyProblem({ ...fresh, limit: 1000, unreserved: 120, reservedNow: 44 })).toBeUndefined();
    expect(concurrencyProblem({ ...fresh, reserving: 0 }), 'nothing reserved').toBeUndefined();
  });

  const guardFor = (answers: { limit: number; unreserved: number; reserved?: Record<string, number> } | Error) => {
    const warnings: string[] = [];
    const guard = new DeployGuard(
      {
        service: {
          custom: { deployGuard: { required: 'false' } },
          provider: { stage: 'prod', compiledCloudFormationTemplate: template },
        },
        classes: { Error },
        getProvider: () => ({ getAwsSdkV3Config: () => Promise.resolve({}) }),
      },
      {},
      { log: { warning: (message: string) => warnings.push(message) } },
    );
    const send = (command: object) => {
      if (answers instanceof Error) return Promise.reject(answers);
      if (command instanceof GetAccountSettingsCommand) {
        return Promise.resolve({
          AccountLimit: { ConcurrentExecutions: answers.limit, UnreservedConcurrentExecutions: answers.unreserved },
        });
      }
      const name = (command as GetFunctionConcurrencyCommand).input.FunctionName ?? '';
      const reserved = answers.reserved?.[name];
      if (reserved === undefined) {
        return Promise.reject(Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' }));
      }
      return Promise.resolve({ ReservedConcurrentExecutions: reserved });
    };
    guard.lambda = { send } as unknown as typeof guard.lambda;
    return { guard, warnings };
  };

  it('asks Lambda before CloudFormation is touched: refuses a fresh account, lets an update move its own', async () => {
    await expect(guardFor({ limit: 10, unreserved: 10 }).guard.check()).rejects.toThrow(/Not deploying.*quota of 10/s);
    const update = { limit: 1000, unreserved: 110, reserved: { 'orderflow-prod-replaySegment': 40 } };
    await expect(guardFor(update).guard.check()).resolves.toBeUndefined();
    await expect(guardFor({ ...update, reserved: {} }).guard.check()).rejects.toThrow('has 110 of them unreserved');
  });

  it('warns and deploys when it cannot ask (no lambda:GetAccountSettings), as it did before the check', async () => {
    const { guard, warnings } = guardFor(new Error('AccessDenied'));
    await expect(guard.check()).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining("Could not check the account's concurrency quota")]);
  });
});
