import { beforeAll, describe, expect, it } from 'vitest';
import {
  actionsOf,
  type CfnResource,
  packaged,
  resourcesOfType,
  statementsOf,
  type Template,
} from '../support/packaged.js';

/** What `sls package` produces for each stage: the run's one packaging of it (tests/support/packagedSetup.ts). */
const templates: Record<string, Template> = {};

beforeAll(async () => {
  for (const stage of ['prod', 'dev']) templates[stage] = (await packaged(stage)).template;
});

/** What serverless.yml's params set per stage, as this file expects to find it in the templates. */
const expected = {
  prod: {
    logRetentionDays: 90,
    iteratorAgeMs: 30_000,
    api5xxPercent: 1,
    throttle: { rate: 1000, burst: 2000 },
    reserved: { ReplaySegmentLambdaFunction: 40, StartSagaLambdaFunction: 4 },
  },
  dev: {
    logRetentionDays: 14,
    iteratorAgeMs: 60_000,
    api5xxPercent: 5,
    throttle: { rate: 100, burst: 200 },
    reserved: {},
  },
} as const;
const stages = Object.keys(expected) as (keyof typeof expected)[];

const resourceOf = (template: Template, logicalId: string): CfnResource => {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId} in the template`);
  return found;
};

const functionIds = (template: Template) => resourcesOfType(template, 'AWS::Lambda::Function').map(([id]) => id);

/** The function names of the Kinesis consumers, from their event source mappings' FunctionName. */
const consumerIds = (template: Template) =>
  resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(
    ([, mapping]) => (mapping.Properties.FunctionName as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
  );

type Alarm = Record<string, unknown> & {
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: {
    Id: string;
    Expression?: string;
    ReturnData?: boolean;
    MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] } };
  }[];
};
const alarmsOf = (template: Template): [string, Alarm][] =>
  resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, alarm]) => [id, alarm.Properties as Alarm]);

/** The alarm on a single metric of a function, by its metric name (Errors, Throttles, IteratorAge). */
const functionAlarm = (template: Template, metricName: string, functionId: string): Alarm | undefined =>
  alarmsOf(template)
    .map(([, alarm]) => alarm)
    .find(
      (alarm) =>
        alarm.Namespace === 'AWS/Lambda' &&
        alarm.MetricName === metricName &&
        JSON.stringify(alarm.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: functionId } }]),
    );

describe.each(stages)('the packaged %s template, as operated', (stage) => {
  const template = () => {
    const found = templates[stage];
    if (!found) throw new Error(`${stage} was not packaged`);
    return found;
  };
  const settings = expected[stage];

  it('traces every function and every state machine with X-Ray, and lets each role send traces', () => {
    const functions = resourcesOfType(template(), 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const [id, fn] of functions) {
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const actions = statementsOf(resourceOf(template(), roleId)).flatMap(actionsOf);
      expect(actions, id).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    }
    for (const [machine, role] of [
      ['OrderSagaStateMachine', 'OrderSagaRole'],
      ['ReplayStateMachine', 'ReplayStateMachineRole'],
      ['CompensationStateMachine', 'CompensationRole'],
    ] as const) {
      expect(resourceOf(template(), machine).Properties.TracingConfiguration, machine).toEqual({ Enabled: true });
      const actions = statementsOf(resourceOf(template(), role)).flatMap(actionsOf);
      expect(actions, role).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    }
  });

  it('has one alarm topic for the stage, with an email subscription only when the stage names an address', () => {
    expect(resourceOf(template(), 'AlarmTopic')).toMatchObject({
      Type: 'AWS::SNS::Topic',
      Properties: { TopicName: `orderflow-${stage}-alarms` },
    });
    expect(resourceOf(template(), 'AlarmEmailSubscription')).toMatchObject({
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasAlarmEmail',
    });
    // No stage sets alarmEmail by default: the condition compares '' with ''.
    expect((template() as { Conditions?: unknown }).Conditions).toEqual({
      HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] },
    });
  });

  it('sends every alarm to the topic, going off and coming back, and reads no data as no trouble', () => {
    const alarms = alarmsOf(template());
    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect(alarm, id).toMatchObject({
        AlarmActions: [{ Ref: 'AlarmTopic' }],
        OKActions: [{ Ref: 'AlarmTopic' }],
        TreatMissingData: 'notBreaching',
        AlarmDescription: expect.stringContaining('docs/operations.md'),
      });
    }
  });

  it('alarms on any message in the change failure queue', () => {
    expect(resourceOf(template(), 'ChangeFailuresQueue').Properties.QueueName).toBe(
      `orderflow-${stage}-change-failures`,
    );
    expect(resourceOf(template(), 'ChangeFailuresAlarm').Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ChangeFailuresQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it.each([
    ['OrderSagaFailuresAlarm', 'OrderSagaStateMachine'],
    // A parked compensation that gave up past its bound, or failed: a cancelled order's payment may be authorized.
    ['CompensationFailuresAlarm', 'CompensationStateMachine'],
  ])('alarms (%s) on executions of %s that failed, timed out or were aborted', (alarmId, machine) => {
    const alarm = resourceOf(template(), alarmId).Properties as Alarm;
    const metrics = (alarm.Metrics ?? []).filter((m) => m.MetricStat).map((m) => m.MetricStat?.Metric);
    expect(metrics.map((m) => m?.MetricName).sort()).toEqual(
      ['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut'].sort(),
    );
    for (const metric of metrics) {
      expect(metric).toMatchObject({
        Namespace: 'AWS/States',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machine } }],
      });
    }
    expect(alarm.Metrics?.find((m) => m.ReturnData)?.Expression).toBe('SUM([failed, timedOut, aborted])');
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('alarms on the API’s 5xx rate, in percent of requests, from enough requests to judge', () => {
    const alarm = resourceOf(template(), 'Api5xxRateAlarm').Properties as Alarm;
    const byId = Object.fromEntries((alarm.Metrics ?? []).map((m) => [m.Id, m]));
    for (const [id, name] of [
      ['errors', '5xx'],
      ['requests', 'Count'],
    ] as const) {
      expect(byId[id]?.MetricStat?.Metric).toEqual({
        Namespace: 'AWS/ApiGateway',
        MetricName: name,
        Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
      });
    }
    expect(byId.rate).toMatchObject({
      Expression: 'IF(requests >= 20, 100 * errors / requests, 0)',
      ReturnData: true,
    });
    expect(alarm).toMatchObject({ Threshold: settings.api5xxPercent, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('alarms on the iterator age of every consumer of the change stream', () => {
    const consumers = consumerIds(template());
    expect(consumers.sort()).toEqual(
      [
        'CompensateCancellationLambdaFunction',
        'InventoryProjectionLambdaFunction',
        'OrdersProjectionLambdaFunction',
        'StartSagaLambdaFunction',
      ].sort(),
    );
    for (const id of consumers) {
      expect(functionAlarm(template(), 'IteratorAge', id), id).toMatchObject({
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        Threshold: settings.iteratorAgeMs,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms on every function’s throttles, and on its errors unless they are the saga’s business outcomes', () => {
    // reserveInventory and authorizePayment throw OutOfStockError / PaymentDeclinedError for the saga to catch.
    const businessErrors = ['ReserveInventoryLambdaFunction', 'AuthorizePaymentLambdaFunction'];
    for (const id of functionIds(template())) {
      expect(functionAlarm(template(), 'Throttles', id), id).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      const errors = functionAlarm(template(), 'Errors', id);
      if (businessErrors.includes(id)) expect(errors, id).toBeUndefined();
      else {
        expect(errors, id).toMatchObject({
          Statistic: 'Sum',
          Period: 300,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
    }
  });

  it('throttles the HTTP API per stage', () => {
    expect(resourceOf(template(), 'HttpApiStage').Properties.DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: false,
      ThrottlingRateLimit: settings.throttle.rate,
      ThrottlingBurstLimit: settings.throttle.burst,
    });
  });

  it('reserves concurrency only where the stage says so', () => {
    const reserved = Object.fromEntries(
      resourcesOfType(template(), 'AWS::Lambda::Function')
        .filter(([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined)
        .map(([id, fn]) => [id, fn.Properties.ReservedConcurrentExecutions]),
    );
    expect(reserved).toEqual(settings.reserved);
  });

  it('answers no CORS unless the stage names allowed origins', () => {
    expect(resourceOf(template(), 'HttpApi').Properties.CorsConfiguration).toBeUndefined();
  });

  it('keeps every log group, the saga’s too, for the stage’s retention', () => {
    const groups = resourcesOfType(template(), 'AWS::Logs::LogGroup');
    expect(groups.map(([id]) => id)).toContain('OrderSagaLogGroup');
    expect(groups.length).toBe(functionIds(template()).length + 1);
    for (const [id, group] of groups) expect(group.Properties.RetentionInDays, id).toBe(settings.logRetentionDays);
  });
});
