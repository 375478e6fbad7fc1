import { describe, expect, it } from 'vitest';
import Dashboard from '../../../infra/dashboard.mjs';

/** Just what the plugin reads of the framework: two functions, one consuming the stream, and one alarm. */
const frameworkWith = (enabled: boolean) => {
  const Resources: Record<string, { Type?: string }> = { PlaceOrderErrorsAlarm: { Type: 'AWS::CloudWatch::Alarm' } };
  const serverless = {
    classes: { Error },
    configSchemaHandler: { defineCustomProperties: () => undefined },
    getProvider: () => ({
      naming: { getLambdaLogicalId: (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction` },
      getStage: () => 'dev',
    }),
    service: {
      service: 'orderflow',
      custom: {
        dashboard: {
          enabled,
          api: 'HttpApi',
          orderSaga: 'OrderSaga',
          eventsTable: 'EventsTable',
          changes: 'ChangesStream',
        },
      },
      getAllFunctions: () => ['placeOrder', 'startSaga'],
      getAllEventsInFunction: (name: string) => (name === 'startSaga' ? [{ stream: {} }] : [{ httpApi: {} }]),
      provider: { compiledCloudFormationTemplate: { Resources } },
    },
  };
  return { serverless, Resources };
};

describe('the dashboard plugin', () => {
  it('adds the stage’s dashboard, naming its functions, its stream consumers and its alarms', () => {
    const { serverless, Resources } = frameworkWith(true);
    new Dashboard(serverless).addDashboard();
    const dashboard = Resources.Dashboard as {
      Properties: { DashboardName: { 'Fn::Sub': string }; DashboardBody: { 'Fn::Sub': string } };
    };
    expect(dashboard.Properties.DashboardName).toEqual({ 'Fn::Sub': 'orderflow-dev-${AWS::Region}' });
    const body = dashboard.Properties.DashboardBody['Fn::Sub'];
    expect(body).toContain('"alarms":["${PlaceOrderErrorsAlarm.Arn}"]');
    expect(body).toContain('"IteratorAge","FunctionName","${StartSagaLambdaFunction}"');
    expect(body).not.toContain('"IteratorAge","FunctionName","${PlaceOrderLambdaFunction}"');
    expect(body).toContain('stage=\\"dev\\"');
  });

  it('adds nothing on a stage that turns it off', () => {
    const { serverless, Resources } = frameworkWith(false);
    new Dashboard(serverless).addDashboard();
    expect(Object.keys(Resources)).toEqual(['PlaceOrderErrorsAlarm']);
  });
});
