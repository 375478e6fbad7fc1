import { describe, expect, it } from 'vitest';
import { addResources } from '../../../infra/template.mjs';

class FrameworkError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The parts of the framework the helper touches: a compiled template and serverless.yml's own resources. */
const framework = () => ({
  classes: { Error: FrameworkError },
  service: {
    resources: { Resources: { EventsTable: { Type: 'AWS::DynamoDB::Table' } } as Record<string, unknown> },
    provider: {
      compiledCloudFormationTemplate: {
        Resources: { PlaceOrderLambdaFunction: { Type: 'AWS::Lambda::Function' } } as Record<string, unknown>,
      },
    },
  },
});
const by = { plugin: 'infra/x.mjs', code: 'X' };

describe('adding a plugin’s resources to the template', () => {
  it('adds each beside what the template holds', () => {
    const serverless = framework();
    addResources(serverless, { XAlarm: { Type: 'AWS::CloudWatch::Alarm' } }, by);
    expect(Object.keys(serverless.service.provider.compiledCloudFormationTemplate.Resources).sort()).toEqual([
      'PlaceOrderLambdaFunction',
      'XAlarm',
    ]);
  });

  it('refuses a logical id the compiled template has, or serverless.yml declares, replacing neither', () => {
    const serverless = framework();
    expect(() => addResources(serverless, { PlaceOrderLambdaFunction: {} }, by)).toThrow(
      new FrameworkError('infra/x.mjs: PlaceOrderLambdaFunction is already in the template', 'X'),
    );
    expect(() => addResources(serverless, { EventsTable: {} }, by)).toThrow(
      'infra/x.mjs: EventsTable is already in the template',
    );
    expect(serverless.service.provider.compiledCloudFormationTemplate.Resources.PlaceOrderLambdaFunction).toEqual({
      Type: 'AWS::Lambda::Function',
    });
    expect(serverless.service.resources.Resources.EventsTable).toEqual({ Type: 'AWS::DynamoDB::Table' });
  });
});
