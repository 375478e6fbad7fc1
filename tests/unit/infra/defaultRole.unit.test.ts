import { describe, expect, it } from 'vitest';
import { dropUnusedRole } from '../../../infra/defaultRole.mjs';

const role = { Type: 'AWS::IAM::Role', Properties: {} };

describe('the default role', () => {
  it('is dropped when nothing in the template mentions it', () => {
    const template = { Resources: { IamRoleLambdaExecution: role, FnRole: role } };
    expect(dropUnusedRole(template, 'IamRoleLambdaExecution')).toBe(true);
    expect(Object.keys(template.Resources)).toEqual(['FnRole']);
  });

  it('is kept when a function or an output still refers to it', () => {
    const used = {
      Resources: {
        IamRoleLambdaExecution: role,
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: { Role: { 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] } },
        },
      },
    };
    expect(dropUnusedRole(used, 'IamRoleLambdaExecution')).toBe(false);
    expect(used.Resources).toHaveProperty('IamRoleLambdaExecution');
    const output = {
      Resources: { IamRoleLambdaExecution: role },
      Outputs: { R: { Value: { Ref: 'IamRoleLambdaExecution' } } },
    };
    expect(dropUnusedRole(output, 'IamRoleLambdaExecution')).toBe(false);
    const sub = {
      Resources: { IamRoleLambdaExecution: role },
      Outputs: { R: { Value: { 'Fn::Sub': 'role ${IamRoleLambdaExecution.Arn}' } } },
    };
    expect(dropUnusedRole(sub, 'IamRoleLambdaExecution')).toBe(false);
  });

  it('is dropped even though the per-function roles have its name inside theirs', () => {
    const template = {
      Resources: {
        IamRoleLambdaExecution: role,
        PlaceOrderIamRoleLambdaExecution: role,
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: { Role: { 'Fn::GetAtt': ['PlaceOrderIamRoleLambdaExecution', 'Arn'] } },
        },
      },
    };
    expect(dropUnusedRole(template, 'IamRoleLambdaExecution')).toBe(true);
  });
});
