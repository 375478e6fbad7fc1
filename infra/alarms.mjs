// @ts-check
import { addResources } from './template.mjs';
/**
 * The stage's CloudWatch alarms, made from `custom.alarms` in serverless.yml: one definition per kind below, applied
 * to every function, stream consumer, queue, state machine, API or metric it covers. serverless.yml says what is
 * alarmed and at which threshold; this file says how an alarm of each kind is built. A plugin (listed under
 * `plugins`) rather than a `${file()}` variable: a variable gives one value, so it could add resources beside the ones
 * serverless.yml declares only if `resources` became a list of fragments; and osls reads no `.mjs` variable file.
 *
 * Every alarm goes to the topic when it fires and when it clears, and reads no data as no trouble (no traffic).
 * docs/operations.md, "Alarms", says what each alarm means and what to do.
 */

/** @typedef {Record<string, unknown>} AlarmProperties */

/**
 * `custom.alarms`, as serverless.yml resolves it for the stage.
 * @typedef {object} AlarmsConfig
 * @property {string} topic The SNS topic's logical id.
 * @property {{ threshold: number; except: string[] }} lambdaErrors
 * @property {{ threshold: number }} lambdaThrottles
 * @property {{ threshold: number }} iteratorAge
 * @property {Record<string, { queue: string; description: string }>} queueDepth
 * @property {Record<string, { stateMachine: string; label: string; description: string }>} executionFailures
 * @property {Record<string, { api: string; percent: number; minRequests: number; description: string }>} apiErrorRate
 * @property {Record<string, ChangeCaptureAlarm>} changeCapture
 * @property {Record<string, MetricAlarm>} metrics
 */

/**
 * An alarm on a table's changes reaching its Kinesis stream: writes were made (the service's own count of them), and
 * the stream took none, or refused some (throttled), for `periods` periods of `period` seconds in a row.
 * @typedef {object} ChangeCaptureAlarm
 * @property {string} stream The Kinesis stream's logical id.
 * @property {{ namespace: string; metric: string; dimensions: Record<string, string> }} writes
 * @property {number} period
 * @property {number} periods
 * @property {string} description
 */

/**
 * An alarm on one of the service's own metrics. A dimension given several values sums the metric over them.
 * @typedef {object} MetricAlarm
 * @property {string} namespace
 * @property {string} metric
 * @property {Record<string, string | string[]>} dimensions
 * @property {'Sum' | 'Maximum'} statistic
 * @property {string} [unit]
 * @property {number} period
 * @property {number} threshold
 * @property {{ id: string; label: string }} [sum] The summed series, when a dimension has several values.
 * @property {number} [sticky] Periods the alarm stays on after its last breaching one: it goes off on one breaching
 *   period of the last `sticky`, and comes back only after `sticky` periods without one.
 * @property {boolean} [heartbeat] Alarm when the metric falls below the threshold, or has no data at all: something
 *   that should happen every period did not.
 * @property {string} description
 */

/** @typedef {{ getNormalizedFunctionName: (name: string) => string; getLambdaLogicalId: (name: string) => string }} Naming */

/**
 * The parts of the framework this plugin uses.
 * @typedef {object} Serverless
 * @property {{ Error: new (message: string, code: string) => Error }} classes
 * @property {{ defineCustomProperties: (schema: object) => void }} configSchemaHandler
 * @property {(name: 'aws') => { naming: Naming }} getProvider
 * @property {object} service
 * @property {{ alarms?: AlarmsConfig }} service.custom
 * @property {() => string[]} service.getAllFunctions
 * @property {(name: string) => object[]} service.getAllEventsInFunction
 * @property {{ compiledCloudFormationTemplate: { Resources: Record<string, unknown> } }} service.provider
 */

const greaterThan = (/** @type {number} */ threshold) => ({
  Threshold: threshold,
  ComparisonOperator: 'GreaterThanThreshold',
});

/** A function's metric in AWS/Lambda, per function. */
const lambdaMetric = (/** @type {string} */ metricName, /** @type {string} */ functionId) => ({
  Namespace: 'AWS/Lambda',
  MetricName: metricName,
  Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
});

/** One series of a metric math alarm, not itself the alarm's. */
const series = (
  /** @type {string} */ id,
  /** @type {object} */ metric,
  /** @type {number} */ period,
  /** @type {string} */ stat,
) => ({
  Id: id,
  MetricStat: { Metric: metric, Period: period, Stat: stat },
  ReturnData: false,
});

/** @typedef {{ name: string; consumesStream: boolean }} FunctionInfo A function of serverless.yml's. */

/** The kinds of function alarm: each function it covers gets one, `<Function><suffix>`. */
const functionKinds = {
  /** Every function but the listed ones, whose errors are business outcomes. */
  lambdaErrors: {
    suffix: 'ErrorsAlarm',
    covers: (/** @type {AlarmsConfig} */ config, /** @type {FunctionInfo} */ fn) =>
      !config.lambdaErrors.except.includes(fn.name),
    properties: (/** @type {AlarmsConfig} */ config, /** @type {string} */ functionId) => ({
      AlarmDescription: 'The function threw, timed out or crashed (docs/operations.md, "Lambda errors").',
      ...lambdaMetric('Errors', functionId),
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      ...greaterThan(config.lambdaErrors.threshold),
    }),
  },
  /** Every function. */
  lambdaThrottles: {
    suffix: 'ThrottlesAlarm',
    covers: () => true,
    properties: (/** @type {AlarmsConfig} */ config, /** @type {string} */ functionId) => ({
      AlarmDescription:
        'Lambda refused to run the function for lack of concurrency (docs/operations.md, "Lambda throttles").',
      ...lambdaMetric('Throttles', functionId),
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      ...greaterThan(config.lambdaThrottles.threshold),
    }),
  },
  /** Every function with a stream event: how far behind it reads. */
  iteratorAge: {
    suffix: 'IteratorAgeAlarm',
    covers: (/** @type {AlarmsConfig} */ _config, /** @type {FunctionInfo} */ fn) => fn.consumesStream,
    properties: (/** @type {AlarmsConfig} */ config, /** @type {string} */ functionId) => ({
      AlarmDescription: 'A consumer of the change stream is falling behind (docs/operations.md, "Iterator age").',
      ...lambdaMetric('IteratorAge', functionId),
      Statistic: 'Maximum',
      Unit: 'Milliseconds',
      // Five minutes in a row: a single slow or retried batch is not a backlog.
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      ...greaterThan(config.iteratorAge.threshold),
    }),
  },
};

/** The kinds of resource alarm: each entry of the kind's map in `custom.alarms` is one alarm, by its logical id. */
const resourceKinds = {
  /** Any message in the queue: for a failure queue, a batch its consumers gave up on. */
  queueDepth: (/** @type {AlarmsConfig['queueDepth'][string]} */ alarm) => ({
    AlarmDescription: alarm.description,
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [alarm.queue, 'QueueName'] } }],
    Statistic: 'Maximum',
    Period: 60,
    EvaluationPeriods: 1,
    ...greaterThan(0),
  }),

  /** Any execution of the state machine that failed, timed out or was aborted. */
  executionFailures: (/** @type {AlarmsConfig['executionFailures'][string]} */ alarm) => {
    const metric = (/** @type {string} */ name) => ({
      Namespace: 'AWS/States',
      MetricName: name,
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: alarm.stateMachine } }],
    });
    return {
      AlarmDescription: alarm.description,
      Metrics: [
        series('failed', metric('ExecutionsFailed'), 300, 'Sum'),
        series('timedOut', metric('ExecutionsTimedOut'), 300, 'Sum'),
        series('aborted', metric('ExecutionsAborted'), 300, 'Sum'),
        { Id: 'unfinished', Expression: 'SUM([failed, timedOut, aborted])', Label: alarm.label, ReturnData: true },
      ],
      EvaluationPeriods: 1,
      ...greaterThan(0),
    };
  },

  /** The share of an HTTP API's answers that are 5xx, in percent, judged only from enough requests to mean something. */
  apiErrorRate: (/** @type {AlarmsConfig['apiErrorRate'][string]} */ alarm) => {
    const metric = (/** @type {string} */ name) => ({
      Namespace: 'AWS/ApiGateway',
      MetricName: name,
      Dimensions: [{ Name: 'ApiId', Value: { Ref: alarm.api } }],
    });
    return {
      AlarmDescription: alarm.description,
      Metrics: [
        series('errors', metric('5xx'), 300, 'Sum'),
        series('requests', metric('Count'), 300, 'Sum'),
        {
          Id: 'rate',
          Expression: `IF(requests >= ${alarm.minRequests}, 100 * errors / requests, 0)`,
          Label: '5xx answers (% of requests)',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: 1,
      ...greaterThan(alarm.percent),
    };
  },

  /**
   * A table's changes stopped reaching its stream: writes counted, and no record in the stream, or some refused by
   * it, every period of `periods`. Everything that reads the stream (read models, sagas, compensations, and the
   * sweeper's index) then falls behind in silence: a consumer's iterator age is reported only when it is invoked.
   * DynamoDB's own `AgeOfOldestUnreplicatedRecord` would say it directly, but is filed under a `DelegatedOperation`
   * dimension whose value AWS's documentation does not give, and an alarm on a wrong one never fires.
   */
  changeCapture: (/** @type {ChangeCaptureAlarm} */ alarm) => {
    const stream = (/** @type {string} */ name) => ({
      Namespace: 'AWS/Kinesis',
      MetricName: name,
      Dimensions: [{ Name: 'StreamName', Value: { Ref: alarm.stream } }],
    });
    const writes = {
      Namespace: alarm.writes.namespace,
      MetricName: alarm.writes.metric,
      Dimensions: Object.entries(alarm.writes.dimensions).map(([name, value]) => ({ Name: name, Value: value })),
    };
    return {
      AlarmDescription: alarm.description,
      Metrics: [
        series('writes', writes, alarm.period, 'Sum'),
        series('incoming', stream('IncomingRecords'), alarm.period, 'Sum'),
        series('refused', stream('WriteProvisionedThroughputExceeded'), alarm.period, 'Sum'),
        {
          Id: 'stalled',
          // No data is no record: a stream with no traffic may report nothing at all.
          Expression: 'IF((FILL(writes, 0) > 0 AND FILL(incoming, 0) == 0) OR FILL(refused, 0) > 0, 1, 0)',
          Label: 'Changes not reaching the stream (1: none, or some throttled)',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: alarm.periods,
      DatapointsToAlarm: alarm.periods,
      ...greaterThan(0),
    };
  },

  /** One of the service's own metrics; summed over the values of the one dimension that lists several. */
  metrics: (/** @type {MetricAlarm} */ alarm, /** @type {string} */ id) => {
    const entries = Object.entries(alarm.dimensions);
    const summed = entries.filter(([, value]) => Array.isArray(value));
    const threshold = {
      ...(alarm.sticky ? { EvaluationPeriods: alarm.sticky, DatapointsToAlarm: 1 } : { EvaluationPeriods: 1 }),
      ...(alarm.heartbeat
        ? { Threshold: alarm.threshold, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' }
        : greaterThan(alarm.threshold)),
    };
    const [first, ...others] = summed;
    if (!first) {
      if (alarm.sum) throw new Error(`${id}: a sum needs a dimension with several values`);
      return {
        AlarmDescription: alarm.description,
        Namespace: alarm.namespace,
        MetricName: alarm.metric,
        Dimensions: entries.map(([name, value]) => ({ Name: name, Value: value })),
        Statistic: alarm.statistic,
        ...(alarm.unit === undefined ? {} : { Unit: alarm.unit }),
        Period: alarm.period,
        ...threshold,
      };
    }
    if (others.length > 0 || !alarm.sum || alarm.unit !== undefined) {
      throw new Error(`${id}: sum over one dimension's values, with a sum id and label and no unit`);
    }
    const [summedName, listed] = first;
    // One series per value, named by it: ABANDONED is `abandoned`.
    const values = [listed].flat().map((value) => ({ id: value.toLowerCase(), value }));
    const metric = (/** @type {string} */ value) => ({
      Namespace: alarm.namespace,
      MetricName: alarm.metric,
      Dimensions: entries.map(([name, other]) => ({ Name: name, Value: name === summedName ? value : other })),
    });
    return {
      AlarmDescription: alarm.description,
      Metrics: [
        ...values.map((v) => series(v.id, metric(v.value), alarm.period, alarm.statistic)),
        {
          Id: alarm.sum.id,
          Expression: `SUM([${values.map((v) => v.id).join(', ')}])`,
          Label: alarm.sum.label,
          ReturnData: true,
        },
      ],
      ...threshold,
    };
  },
};

/**
 * One alarm of the kind per entry of its map, by logical id.
 * @template T
 * @param {Record<string, T>} entries
 * @param {(alarm: T, id: string) => AlarmProperties} kind
 * @returns {[string, AlarmProperties][]}
 */
const each = (entries, kind) => Object.entries(entries).map(([id, alarm]) => [id, kind(alarm, id)]);

/**
 * The alarms `config` asks for, by logical id, for the given functions (in serverless.yml's order).
 * @param {AlarmsConfig} config
 * @param {FunctionInfo[]} functions
 * @param {Naming} naming The framework's names for a function in logical ids.
 * @returns {Record<string, { Type: 'AWS::CloudWatch::Alarm'; Properties: AlarmProperties }>}
 */
export const alarms = (config, functions, naming) => {
  const names = new Set(functions.map((fn) => fn.name));
  const unknown = config.lambdaErrors.except.filter((name) => !names.has(name));
  if (unknown.length > 0) throw new Error(`custom.alarms.lambdaErrors.except names no function: ${unknown.join(', ')}`);

  const notify = {
    AlarmActions: [{ Ref: config.topic }],
    OKActions: [{ Ref: config.topic }],
    TreatMissingData: 'notBreaching',
  };
  /** @type {[string, AlarmProperties][]} */
  const made = [
    ...each(config.queueDepth, resourceKinds.queueDepth),
    ...each(config.executionFailures, resourceKinds.executionFailures),
    ...each(config.metrics, resourceKinds.metrics),
    ...each(config.apiErrorRate, resourceKinds.apiErrorRate),
    ...each(config.changeCapture, resourceKinds.changeCapture),
    ...Object.values(functionKinds).flatMap((kind) =>
      functions
        .filter((fn) => kind.covers(config, fn))
        .map((fn) => {
          /** @type {[string, AlarmProperties]} */
          const alarm = [
            `${naming.getNormalizedFunctionName(fn.name)}${kind.suffix}`,
            kind.properties(config, naming.getLambdaLogicalId(fn.name)),
          ];
          return alarm;
        }),
    ),
  ];
  /** @type {Record<string, { Type: 'AWS::CloudWatch::Alarm'; Properties: AlarmProperties }>} */
  const resources = {};
  for (const [id, properties] of made) {
    if (id in resources) throw new Error(`two alarms are named ${id}`);
    resources[id] = { Type: 'AWS::CloudWatch::Alarm', Properties: { ...notify, ...properties } };
  }
  return resources;
};

const threshold = { type: 'number' };
const text = { type: 'string', minLength: 1 };
const alarmsOf = (/** @type {object} */ properties, /** @type {string[]} */ required) => ({
  type: 'object',
  additionalProperties: {
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  },
});

/** What `custom.alarms` may hold: the framework checks it with the rest of serverless.yml. */
const schema = {
  properties: {
    alarms: {
      type: 'object',
      properties: {
        topic: text,
        lambdaErrors: {
          type: 'object',
          properties: { threshold, except: { type: 'array', items: text } },
          required: ['threshold', 'except'],
          additionalProperties: false,
        },
        lambdaThrottles: {
          type: 'object',
          properties: { threshold },
          required: ['threshold'],
          additionalProperties: false,
        },
        iteratorAge: {
          type: 'object',
          properties: { threshold },
          required: ['threshold'],
          additionalProperties: false,
        },
        queueDepth: alarmsOf({ queue: text, description: text }, ['queue', 'description']),
        executionFailures: alarmsOf({ stateMachine: text, label: text, description: text }, [
          'stateMachine',
          'label',
          'description',
        ]),
        apiErrorRate: alarmsOf({ api: text, percent: threshold, minRequests: threshold, description: text }, [
          'api',
          'percent',
          'minRequests',
          'description',
        ]),
        changeCapture: alarmsOf(
          {
            stream: text,
            writes: {
              type: 'object',
              properties: {
                namespace: text,
                metric: text,
                dimensions: { type: 'object', additionalProperties: text },
              },
              required: ['namespace', 'metric', 'dimensions'],
              additionalProperties: false,
            },
            period: { type: 'integer', minimum: 60 },
            periods: { type: 'integer', minimum: 1 },
            description: text,
          },
          ['stream', 'writes', 'period', 'periods', 'description'],
        ),
        metrics: alarmsOf(
          {
            namespace: text,
            metric: text,
            dimensions: {
              type: 'object',
              additionalProperties: { anyOf: [text, { type: 'array', items: text, minItems: 2 }] },
            },
            statistic: { enum: ['Sum', 'Maximum'] },
            unit: text,
            period: { type: 'integer', minimum: 10 },
            threshold,
            sum: {
              type: 'object',
              properties: { id: { type: 'string', pattern: '^[a-z][a-zA-Z0-9_]*$' }, label: text },
              required: ['id', 'label'],
              additionalProperties: false,
            },
            heartbeat: { type: 'boolean' },
            sticky: { type: 'integer', minimum: 2 },
            description: text,
          },
          ['namespace', 'metric', 'dimensions', 'statistic', 'period', 'threshold', 'description'],
        ),
      },
      required: [
        'topic',
        'lambdaErrors',
        'lambdaThrottles',
        'iteratorAge',
        'queueDepth',
        'executionFailures',
        'apiErrorRate',
        'changeCapture',
        'metrics',
      ],
      additionalProperties: false,
    },
  },
};

/** The plugin: adds the alarms to the template once the functions are compiled, beside serverless.yml's resources. */
export default class Alarms {
  /** @param {Serverless} serverless */
  constructor(serverless) {
    this.serverless = serverless;
    serverless.configSchemaHandler.defineCustomProperties(schema);
    this.hooks = { 'package:compileEvents': () => this.addAlarms() };
  }

  addAlarms() {
    const { service } = this.serverless;
    const config = service.custom.alarms;
    if (!config) return;
    const functions = service.getAllFunctions().map((name) => ({
      name,
      consumesStream: service.getAllEventsInFunction(name).some((event) => 'stream' in event),
    }));
    const { naming } = this.serverless.getProvider('aws');
    let generated;
    try {
      generated = alarms(config, functions, naming);
    } catch (error) {
      throw new this.serverless.classes.Error(`infra/alarms.mjs: ${String(error)}`, 'ALARMS_CONFIGURATION');
    }
    addResources(this.serverless, generated, { plugin: 'infra/alarms.mjs', code: 'ALARMS_CONFIGURATION' });
  }
}
