import { readFile } from 'node:fs/promises';
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
    circuitOpenMs: 120_000,
    compensationParkedMs: 600_000,
    throttle: { rate: 1000, burst: 2000 },
    reserved: { ReplaySegmentLambdaFunction: 40, StartSagaLambdaFunction: 4 },
  },
  dev: {
    logRetentionDays: 14,
    iteratorAgeMs: 60_000,
    api5xxPercent: 5,
    circuitOpenMs: 120_000,
    compensationParkedMs: 600_000,
    throttle: { rate: 100, burst: 200 },
    reserved: {},
  },
} as const;
const stages = Object.keys(expected) as (keyof typeof expected)[];

/** Every function serverless.yml declares, by the name its logical ids start with. */
const functionNames = [
  'RegisterProduct',
  'RestockProduct',
  'RepriceProduct',
  'RenameProduct',
  'DiscontinueProduct',
  'WriteOffStock',
  'PlaceOrder',
  'CancelOrder',
  'GetOrderEvents',
  'GetOrder',
  'ListOrders',
  'GetProduct',
  'ListProducts',
  'GetOpenApi',
  'NotFound',
  'OrdersProjection',
  'ProductsProjection',
  'AuthorizePayment',
  'AwaitPayment',
  'ConfirmOrder',
  'RejectOrder',
  'AbandonOrder',
  'SweepPendingOrders',
  'StartSaga',
  'CompensateCancellation',
  'ResumeCompensation',
  'ReplaySegment',
];
/** The consumers of the change stream. */
const streamConsumers = ['OrdersProjection', 'ProductsProjection', 'StartSaga', 'CompensateCancellation'];
/** The state machines' Tasks (authorizePayment's PaymentDeclinedError, a step's lost race): their machine catches it. */
const businessErrors = [
  'AuthorizePayment',
  'ConfirmOrder',
  'RejectOrder',
  'AwaitPayment',
  'AbandonOrder',
  'ResumeCompensation',
  'ReplaySegment',
];

/** What every alarm shares: the topic, going off and coming back, and no data read as no trouble. */
const notify = {
  AlarmActions: [{ Ref: 'AlarmTopic' }],
  OKActions: [{ Ref: 'AlarmTopic' }],
  TreatMissingData: 'notBreaching',
};

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

type Alarm = Record<string, unknown> & { Dimensions?: { Name: string; Value: unknown }[] };
const alarmsOf = (template: Template): [string, Alarm][] =>
  resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, alarm]) => [id, alarm.Properties as Alarm]);

/** The alarm on a single metric of a function, by its metric name (Errors, Throttles, IteratorAge), whatever its id. */
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
  /** The alarm `id` is exactly this: every property, the topic's and the thresholds included. */
  const expectAlarm = (id: string, properties: Record<string, unknown>) =>
    expect(resourceOf(template(), id), id).toEqual({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: { ...notify, ...properties },
    });

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

  it('sends every alarm to the topic, going off and coming back, and reads no data as no trouble but a heartbeat', () => {
    const alarms = alarmsOf(template());
    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect(alarm, id).toMatchObject({
        AlarmActions: [{ Ref: 'AlarmTopic' }],
        OKActions: [{ Ref: 'AlarmTopic' }],
        // A heartbeat's silence is what it watches for.
        TreatMissingData: id === 'SweeperSilentAlarm' ? 'breaching' : 'notBreaching',
        AlarmDescription: expect.stringContaining('docs/operations.md'),
      });
    }
  });

  it('has these 62 alarms, by logical id, and no other', () => {
    expect(
      alarmsOf(template())
        .map(([id]) => id)
        .sort(),
    ).toEqual(
      [
        'ChangeFailuresAlarm',
        'ChangeCaptureAlarm',
        'OrderSagaFailuresAlarm',
        'CompensationFailuresAlarm',
        'ParkedCompensationAlarm',
        'UnavailableOrdersAlarm',
        'PaymentCircuitOpenAlarm',
        'SweptOrdersAlarm',
        'ParkedStreamsAlarm',
        'SweeperSilentAlarm',
        'Api5xxRateAlarm',
        ...streamConsumers.map((fn) => `${fn}IteratorAgeAlarm`),
        ...functionNames.filter((fn) => !businessErrors.includes(fn)).map((fn) => `${fn}ErrorsAlarm`),
        ...functionNames.map((fn) => `${fn}ThrottlesAlarm`),
      ].sort(),
    );
    expect(alarmsOf(template())).toHaveLength(62);
  });

  it("counts in the runbook's alarm table what the template has: each family of alarms, and all of them", async () => {
    const runbook = await readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const families = [...runbook.matchAll(/^\| `<\w+>(\w+Alarm)` \((\d+)\)/gm)].map(([, suffix = '', count]) => ({
      suffix,
      count: Number(count),
    }));
    expect(families.map((f) => f.suffix).sort()).toEqual(['ErrorsAlarm', 'IteratorAgeAlarm', 'ThrottlesAlarm']);
    for (const { suffix, count } of families) {
      expect(
        alarmsOf(template()).filter(([id]) => id.endsWith(suffix)),
        suffix,
      ).toHaveLength(count);
    }
    expect(runbook).toContain(`a stage has ${alarmsOf(template()).length} alarms`);
  });

  it('alarms on any message in the change failure queue', () => {
    expect(resourceOf(template(), 'ChangeFailuresQueue').Properties.QueueName).toBe(
      `orderflow-${stage}-change-failures`,
    );
    expectAlarm('ChangeFailuresAlarm', {
      AlarmDescription: 'A change-stream consumer gave up on a batch (docs/operations.md, "Change failures").',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ChangeFailuresQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms when orders are placed and the change stream takes nothing, or throttles, 10 minutes in a row', () => {
    const series = (id: string, namespace: string, metricName: string, name: string, value: unknown) => ({
      Id: id,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: metricName, Dimensions: [{ Name: name, Value: value }] },
        Period: 300,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    expectAlarm('ChangeCaptureAlarm', {
      AlarmDescription:
        'The events table\'s changes are not reaching the change stream, or it throttles them (docs/operations.md, "Change capture").',
      Metrics: [
        series('writes', 'orderflow', 'OrdersPlaced', 'stage', stage),
        series('incoming', 'AWS/Kinesis', 'IncomingRecords', 'StreamName', { Ref: 'ChangesStream' }),
        series('refused', 'AWS/Kinesis', 'WriteProvisionedThroughputExceeded', 'StreamName', { Ref: 'ChangesStream' }),
        {
          Id: 'stalled',
          Expression: 'IF((FILL(writes, 0) > 0 AND FILL(incoming, 0) == 0) OR FILL(refused, 0) > 0, 1, 0)',
          Label: 'Changes not reaching the stream (1: none, or some throttled)',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // The table's changes go to that stream: the alarm watches the one the table fills.
    expect(resourceOf(template(), 'EventsTable').Properties.KinesisStreamSpecification).toMatchObject({
      StreamArn: { 'Fn::GetAtt': ['ChangesStream', 'Arn'] },
    });
  });

  it.each([
    [
      'OrderSagaFailuresAlarm',
      'OrderSagaStateMachine',
      'Order saga executions failed, timed out or were aborted (docs/operations.md, "Saga failures").',
      'Executions failed, timed out or aborted',
    ],
    // A parked compensation that gave up past its bound, or failed: a cancelled order's payment may be authorized.
    [
      'CompensationFailuresAlarm',
      'CompensationStateMachine',
      'Parked compensations failed, gave up past their bound, timed out or were aborted (docs/operations.md, "Parked compensations").',
      'Parked compensations failed, timed out or aborted',
    ],
  ])(
    'alarms (%s) on executions of %s that failed, timed out or were aborted',
    (alarmId, machine, description, label) => {
      const executions = (id: string, metricName: string) => ({
        Id: id,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/States',
            MetricName: metricName,
            Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machine } }],
          },
          Period: 300,
          Stat: 'Sum',
        },
        ReturnData: false,
      });
      expectAlarm(alarmId, {
        AlarmDescription: description,
        Metrics: [
          executions('failed', 'ExecutionsFailed'),
          executions('timedOut', 'ExecutionsTimedOut'),
          executions('aborted', 'ExecutionsAborted'),
          { Id: 'unfinished', Expression: 'SUM([failed, timedOut, aborted])', Label: label, ReturnData: true },
        ],
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    },
  );

  it('alarms on the API’s 5xx rate, in percent of requests, from enough requests to judge', () => {
    const api = (id: string, metricName: string) => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApiGateway',
          MetricName: metricName,
          Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
        },
        Period: 300,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    expectAlarm('Api5xxRateAlarm', {
      AlarmDescription: 'Too many API answers are 5xx (docs/operations.md, "API 5xx rate").',
      Metrics: [
        api('errors', '5xx'),
        api('requests', 'Count'),
        {
          Id: 'rate',
          Expression: 'IF(requests >= 20, 100 * errors / requests, 0)',
          Label: '5xx answers (% of requests)',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: 1,
      Threshold: settings.api5xxPercent,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on the service’s own metrics: parked refunds, orders given up, the open breaker, swept orders, parked streams', () => {
    expectAlarm('ParkedCompensationAlarm', {
      AlarmDescription:
        'A parked refund or void has waited too long, for the payment gateway or for its order\'s rejection (docs/operations.md, "Parked compensations").',
      Namespace: 'orderflow',
      MetricName: 'CompensationParkedFor',
      Dimensions: [{ Name: 'stage', Value: stage }],
      Statistic: 'Maximum',
      Unit: 'Milliseconds',
      Period: 600,
      EvaluationPeriods: 1,
      Threshold: settings.compensationParkedMs,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const summed = (metric: string, dimension: string) => (id: string, value: string) => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: 'orderflow',
          MetricName: metric,
          Dimensions: [
            { Name: 'stage', Value: stage },
            { Name: dimension, Value: value },
          ],
        },
        Period: 300,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    const rejected = summed('OrdersRejected', 'reason');
    expectAlarm('UnavailableOrdersAlarm', {
      AlarmDescription:
        'Orders were rejected UNAVAILABLE after a saga step failed for good, or PAYMENT_UNAVAILABLE after waiting out the payment gateway (docs/operations.md, "Orders given up (UNAVAILABLE)").',
      Metrics: [
        rejected('unavailable', 'UNAVAILABLE'),
        rejected('payment_unavailable', 'PAYMENT_UNAVAILABLE'),
        {
          Id: 'givenup',
          Expression: 'SUM([unavailable, payment_unavailable])',
          Label: 'Orders rejected because a dependency failed',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // A heartbeat: no sweep in its period, or no data at all, is the alarm.
    expectAlarm('SweeperSilentAlarm', {
      AlarmDescription:
        'The sweeper of orders left PENDING has not run for 15 minutes (docs/operations.md, "Swept orders").',
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: `orderflow-${stage}-sweepPendingOrders` }],
      Statistic: 'Sum',
      Period: 900,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(resourceOf(template(), 'SweepPendingOrdersLambdaFunction').Properties.FunctionName).toBe(
      `orderflow-${stage}-sweepPendingOrders`,
    );
    const parked = summed('StreamsParked', 'projection');
    expectAlarm('ParkedStreamsAlarm', {
      AlarmDescription:
        'A projection parked a stream on an event it could not apply (its view is frozen), or a saga consumer on one it could not read (its saga or compensation waits), until redriven (docs/operations.md, "Redrive parked streams").',
      Metrics: [
        parked('orders', 'orders'),
        parked('products', 'products'),
        parked('startsaga', 'startSaga'),
        parked('compensatecancellation', 'compensateCancellation'),
        {
          Id: 'parked',
          Expression: 'SUM([orders, products, startsaga, compensatecancellation])',
          Label: 'Streams parked on a poison event',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expectAlarm('PaymentCircuitOpenAlarm', {
      AlarmDescription:
        'The payment gateway\'s circuit breaker has been open too long (docs/operations.md, "Payment gateway circuit open").',
      Namespace: 'orderflow',
      MetricName: 'CircuitOpenFor',
      Dimensions: [
        { Name: 'stage', Value: stage },
        { Name: 'circuit', Value: 'payment-gateway' },
      ],
      Statistic: 'Maximum',
      Unit: 'Milliseconds',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 1,
      Threshold: settings.circuitOpenMs,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const swept = summed('OrdersSwept', 'outcome');
    expectAlarm('SweptOrdersAlarm', {
      AlarmDescription:
        'The sweeper settled or failed to settle orders left PENDING (docs/operations.md, "Swept orders").',
      Metrics: [
        swept('abandoned', 'ABANDONED'),
        swept('failed', 'FAILED'),
        {
          Id: 'swept',
          Expression: 'SUM([abandoned, failed])',
          Label: 'Orders the sweeper settled or could not settle',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on the iterator age of every consumer of the change stream', () => {
    expect(consumerIds(template()).sort()).toEqual(streamConsumers.map((fn) => `${fn}LambdaFunction`).sort());
    for (const fn of streamConsumers) {
      expectAlarm(`${fn}IteratorAgeAlarm`, {
        AlarmDescription: 'A consumer of the change stream is falling behind (docs/operations.md, "Iterator age").',
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${fn}LambdaFunction` } }],
        Statistic: 'Maximum',
        Unit: 'Milliseconds',
        Period: 60,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        Threshold: settings.iteratorAgeMs,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms on every function’s throttles, and on its errors unless they are the saga’s business outcomes', () => {
    expect(functionIds(template()).sort()).toEqual(functionNames.map((fn) => `${fn}LambdaFunction`).sort());
    const lambda = (fn: string, metricName: string) => ({
      Namespace: 'AWS/Lambda',
      MetricName: metricName,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${fn}LambdaFunction` } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    for (const fn of functionNames) {
      expectAlarm(`${fn}ThrottlesAlarm`, {
        AlarmDescription:
          'Lambda refused to run the function for lack of concurrency (docs/operations.md, "Lambda throttles").',
        ...lambda(fn, 'Throttles'),
      });
      if (businessErrors.includes(fn)) {
        expect(functionAlarm(template(), 'Errors', `${fn}LambdaFunction`), fn).toBeUndefined();
        continue;
      }
      expectAlarm(`${fn}ErrorsAlarm`, {
        AlarmDescription: 'The function threw, timed out or crashed (docs/operations.md, "Lambda errors").',
        ...lambda(fn, 'Errors'),
      });
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

  it('keeps every log group, the saga’s and the API’s access log too, for the stage’s retention', () => {
    const groups = resourcesOfType(template(), 'AWS::Logs::LogGroup');
    expect(groups.map(([id]) => id)).toEqual(expect.arrayContaining(['OrderSagaLogGroup', 'HttpApiLogGroup']));
    expect(groups.length).toBe(functionIds(template()).length + 2);
    for (const [id, group] of groups) expect(group.Properties.RetentionInDays, id).toBe(settings.logRetentionDays);
  });
});
