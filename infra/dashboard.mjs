// @ts-check
import { addResources } from './template.mjs';
/**
 * The stage's CloudWatch dashboard, `<service>-<stage>-<region>`, made from `custom.dashboard` in serverless.yml: the state of
 * every alarm in the template, then the service's own metrics (functions/observability/metrics.ts) and AWS's for the
 * API, the functions, the change stream, the saga and the events table, each widget a question an operator asks
 * (docs/operations.md, "Dashboard"). A plugin, after infra/alarms.mjs on the same hook, so that it finds the alarms.
 */

/**
 * `custom.dashboard`, as serverless.yml resolves it for the stage.
 * @typedef {object} DashboardConfig
 * @property {boolean} enabled
 * @property {string} api The HTTP API's logical id.
 * @property {string} orderSaga The order saga's state machine's logical id.
 * @property {string} eventsTable The events table's logical id.
 * @property {string} changes The change stream's logical id.
 */

/**
 * The parts of the framework this plugin uses.
 * @typedef {object} Serverless
 * @property {{ Error: new (message: string, code: string) => Error }} classes
 * @property {{ defineCustomProperties: (schema: object) => void }} configSchemaHandler
 * @property {(name: 'aws') => { naming: { getLambdaLogicalId: (name: string) => string }; getStage: () => string }} getProvider
 * @property {object} service
 * @property {string} service.service
 * @property {{ dashboard?: DashboardConfig }} service.custom
 * @property {() => string[]} service.getAllFunctions
 * @property {(name: string) => object[]} service.getAllEventsInFunction
 * @property {{ compiledCloudFormationTemplate: { Resources: Record<string, { Type?: string }> } }} service.provider
 */

/** The service's own metrics (functions/observability/metrics.ts), in CloudWatch under this namespace. */
const namespace = 'orderflow';
const period = 300;

/**
 * A metric widget's line: a metric (namespace, name, then dimension names and values), and its options.
 * @typedef {(string | Record<string, unknown>)[]} MetricLine
 */

/**
 * A time series widget. Its `${…}` are CloudFormation's (Fn::Sub): the region, and the resources' names.
 * @param {string} title
 * @param {MetricLine[]} metrics
 * @param {{ stat?: string; yAxisLabel?: string }} [options]
 */
const graph = (title, metrics, { stat = 'Sum', yAxisLabel } = {}) => ({
  type: 'metric',
  width: 12,
  height: 6,
  properties: {
    title,
    region: '${AWS::Region}',
    view: 'timeSeries',
    stacked: false,
    stat,
    period,
    metrics,
    ...(yAxisLabel ? { yAxis: { left: { label: yAxisLabel, showUnits: false } } } : {}),
  },
});

/**
 * One of the service's metrics with only the stage as dimension.
 * @param {string} stage
 * @param {string} name
 * @param {Record<string, unknown>} [options]
 * @returns {MetricLine}
 */
const own = (stage, name, options = {}) => [namespace, name, 'stage', stage, { label: name, ...options }];

/**
 * One line per value of the metric's extra dimension, whatever values it has had: a search, so that a new reason
 * or outcome shows without a change here.
 * @param {string} stage
 * @param {string} name
 * @param {string} dimension
 * @param {string} stat
 * @param {string} id
 * @returns {MetricLine}
 */
const byDimension = (stage, name, dimension, stat, id) => [
  {
    id,
    expression: `SEARCH('{${namespace},${dimension},stage} MetricName="${name}" stage="${stage}"', '${stat}', ${period})`,
    label: '',
  },
];

/**
 * AWS's metrics of one resource of the template, by its logical id (`Ref`: its name, id or ARN, as the namespace's
 * dimension takes it).
 * @param {string} metricNamespace
 * @param {string} dimension
 * @param {string} id
 */
const ofResource =
  (metricNamespace, dimension, id) =>
  (/** @type {string} */ metric, /** @type {Record<string, unknown>} */ options = {}) => [
    metricNamespace,
    metric,
    dimension,
    `\${${id}}`,
    { label: metric, ...options },
  ];

/**
 * The dashboard's widgets, laid out two to a row under the alarms.
 * @param {DashboardConfig} config
 * @param {{ stage: string; functions: { name: string; id: string; consumesStream: boolean }[]; alarms: string[] }} stack
 */
export const dashboardWidgets = (config, { stage, functions, alarms }) => {
  const lambda = (/** @type {string} */ metric, /** @type {{ name: string; id: string }[]} */ covered) =>
    covered.map(({ name, id }) => ['AWS/Lambda', metric, 'FunctionName', `\${${id}}`, { label: name }]);
  const api = ofResource('AWS/ApiGateway', 'ApiId', config.api);
  const saga = ofResource('AWS/States', 'StateMachineArn', config.orderSaga);
  const table = ofResource('AWS/DynamoDB', 'TableName', config.eventsTable);
  const changes = ofResource('AWS/Kinesis', 'StreamName', config.changes);
  const graphs = [
    graph('Orders: placed, settled (5 min)', [
      own(stage, 'OrdersPlaced'),
      own(stage, 'OrdersConfirmed'),
      own(stage, 'OrdersCancelled'),
      byDimension(stage, 'OrdersRejected', 'reason', 'Sum', 'rejected'),
    ]),
    graph(
      'Placement to settlement, p50 and p99 (ms)',
      [
        byDimension(stage, 'SagaDuration', 'outcome', 'p50', 'p50'),
        byDimension(stage, 'SagaDuration', 'outcome', 'p99', 'p99'),
      ],
      { stat: 'p99', yAxisLabel: 'ms' },
    ),
    graph('API: requests and errors (5 min)', [api('Count'), api('4xx'), api('5xx')]),
    graph(
      'API latency, p50 and p99 (ms)',
      [
        api('Latency', { stat: 'p50', label: 'Latency p50' }),
        api('Latency', { label: 'Latency p99' }),
        api('IntegrationLatency', { label: 'IntegrationLatency p99' }),
      ],
      {
        stat: 'p99',
        yAxisLabel: 'ms',
      },
    ),
    graph(
      'Read models behind their events, max (ms)',
      [byDimension(stage, 'ProjectionLag', 'projection', 'Maximum', 'lag')],
      { stat: 'Maximum', yAxisLabel: 'ms' },
    ),
    graph(
      'Change stream consumers behind, max iterator age (ms)',
      lambda(
        'IteratorAge',
        functions.filter((fn) => fn.consumesStream),
      ),
      { stat: 'Maximum', yAxisLabel: 'ms' },
    ),
    graph(
      'Order saga executions (5 min)',
      ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map(
        (metric) => saga(metric),
      ),
    ),
    graph('Payment gateway: breaker and parked compensations', [
      own(stage, 'CompensationsParked'),
      own(stage, 'CompensationsResumed'),
      byDimension(stage, 'CircuitTransitions', 'state', 'Sum', 'transitions'),
    ]),
    graph(
      'Payment gateway: open for, parked for, max (ms)',
      [
        [namespace, 'CircuitOpenFor', 'circuit', 'payment-gateway', 'stage', stage, { label: 'CircuitOpenFor' }],
        own(stage, 'CompensationParkedFor'),
      ],
      { stat: 'Maximum', yAxisLabel: 'ms' },
    ),
    graph('Given up or held back: parked streams, swept orders, lost races (5 min)', [
      byDimension(stage, 'StreamsParked', 'projection', 'Sum', 'parked'),
      byDimension(stage, 'OrdersSwept', 'outcome', 'Sum', 'swept'),
      own(stage, 'CommandConflicts'),
      own(stage, 'CommandRetries'),
    ]),
    graph('Function errors (5 min)', lambda('Errors', functions)),
    graph('Function throttles (5 min)', lambda('Throttles', functions)),
    graph('Events table: write and read units, throttled (5 min)', [
      table('ConsumedWriteCapacityUnits'),
      table('ConsumedReadCapacityUnits'),
      table('WriteThrottleEvents'),
      table('ReadThrottleEvents'),
    ]),
    // Beside the table, what DynamoDB copies of it into the change stream, and what the stream refused
    // (ChangeCaptureAlarm).
    graph('Change stream: records in, refused (5 min)', [
      changes('IncomingRecords'),
      changes('WriteProvisionedThroughputExceeded'),
    ]),
  ];
  return [
    {
      type: 'alarm',
      x: 0,
      y: 0,
      width: 24,
      height: 6,
      properties: {
        title: `Alarms (${alarms.length}): docs/operations.md, "Alarms", says what each means and what to do`,
        alarms: alarms.map((id) => `\${${id}.Arn}`),
        sortBy: 'stateUpdatedTimestamp',
      },
    },
    ...graphs.map((widget, index) => ({ ...widget, x: (index % 2) * 12, y: 6 + Math.floor(index / 2) * 6 })),
  ];
};

const text = { type: 'string', minLength: 1 };
/** What `custom.dashboard` may hold: the framework checks it with the rest of serverless.yml. */
const schema = {
  properties: {
    dashboard: {
      type: 'object',
      properties: { enabled: { type: 'boolean' }, api: text, orderSaga: text, eventsTable: text, changes: text },
      required: ['enabled', 'api', 'orderSaga', 'eventsTable', 'changes'],
      additionalProperties: false,
    },
  },
};

/** The plugin: adds the dashboard to the template once the functions and the alarms are compiled. */
export default class Dashboard {
  /** @param {Serverless} serverless */
  constructor(serverless) {
    this.serverless = serverless;
    serverless.configSchemaHandler.defineCustomProperties(schema);
    this.hooks = { 'package:compileEvents': () => this.addDashboard() };
  }

  addDashboard() {
    const { service } = this.serverless;
    const config = service.custom.dashboard;
    if (!config?.enabled) return;
    const provider = this.serverless.getProvider('aws');
    const functions = service.getAllFunctions().map((name) => ({
      name,
      id: provider.naming.getLambdaLogicalId(name),
      consumesStream: service.getAllEventsInFunction(name).some((event) => 'stream' in event),
    }));
    const alarms = Object.entries(service.provider.compiledCloudFormationTemplate.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id)
      .sort();
    const stage = provider.getStage();
    const widgets = dashboardWidgets(config, { stage, functions, alarms });
    addResources(
      this.serverless,
      {
        Dashboard: {
          Type: 'AWS::CloudWatch::Dashboard',
          Properties: {
            // Dashboards are the account's, not the region's: a stage deployed to a second region needs its own name.
            DashboardName: { 'Fn::Sub': `${service.service}-${stage}-\${AWS::Region}` },
            DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
          },
        },
      },
      { plugin: 'infra/dashboard.mjs', code: 'DASHBOARD_CONFIGURATION' },
    );
  }
}
