// @ts-check
import { addResources } from './template.mjs';
/**
 * The stage's DynamoDB capacity mode, from `custom.capacity` in serverless.yml. `on-demand` (the default) leaves the
 * tables as serverless.yml declares them: PAY_PER_REQUEST, so a flash sale or a read model's rebuild can write at any
 * rate at once. `provisioned` turns every table and global secondary index of the template to provisioned capacity,
 * and gives each table's and index's reads and writes an Application Auto Scaling target and a target tracking policy
 * that keeps it near `targetUtilization` percent, between `minUnits` and `maxUnits`. At a steady load a write unit then
 * costs about a third to a half of an on-demand one (`npm run cost` prices both); a burst beyond what the table holds
 * is throttled until it scales, which takes minutes. A plugin, like infra/alarms.mjs, because it adds resources
 * beside the ones serverless.yml declares.
 */

/**
 * `custom.capacity`, as serverless.yml resolves it for the stage.
 * @typedef {object} CapacityConfig
 * @property {string} mode `on-demand` or `provisioned`.
 * @property {number | string} minUnits
 * @property {number | string} maxUnits
 * @property {number | string} targetUtilization Percent.
 */

/** @typedef {{ Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }} Resource */
/** @typedef {{ IndexName: string; [key: string]: unknown }} GlobalSecondaryIndex */

/**
 * The parts of the framework this plugin uses.
 * @typedef {object} Serverless
 * @property {{ Error: new (message: string, code: string) => Error }} classes
 * @property {{ defineCustomProperties: (schema: object) => void }} configSchemaHandler
 * @property {object} service
 * @property {{ capacity?: CapacityConfig }} service.custom
 * @property {{ Resources?: Record<string, Resource> }} [service.resources]
 * @property {{ compiledCloudFormationTemplate: { Resources: Record<string, unknown> } }} service.provider
 */

const modes = ['on-demand', 'provisioned'];

/** `byCustomer` → `ByCustomer`, for logical ids. */
const pascal = (/** @type {string} */ name) =>
  `${name[0]?.toUpperCase() ?? ''}${name.slice(1).replace(/[^A-Za-z0-9]/g, '')}`;

/**
 * For `provisioned`: every table's properties with provisioned capacity, and the scaling resources; for `on-demand`,
 * nothing. Pure: serverless.yml's resources are read, not changed.
 * @param {CapacityConfig} config
 * @param {Record<string, Resource>} resources serverless.yml's `resources.Resources`.
 * @returns {{ tables: Record<string, Record<string, unknown>>; scaling: Record<string, Resource> }}
 */
export const capacity = (config, resources) => {
  if (!modes.includes(config.mode)) {
    throw new Error(`custom.capacity.mode must be one of ${modes.join(', ')}, not ${config.mode}`);
  }
  if (config.mode === 'on-demand') return { tables: {}, scaling: {} };
  // A `--param` on the command line arrives as a string.
  const minUnits = Number(config.minUnits);
  const maxUnits = Number(config.maxUnits);
  const targetUtilization = Number(config.targetUtilization);
  if (!(minUnits >= 1 && maxUnits >= minUnits)) {
    throw new Error(`custom.capacity needs 1 <= minUnits <= maxUnits, not ${minUnits} and ${maxUnits}`);
  }
  if (!(targetUtilization >= 20 && targetUtilization <= 90)) {
    throw new Error(`custom.capacity.targetUtilization must be 20 to 90 percent, not ${targetUtilization}`);
  }
  const throughput = { ReadCapacityUnits: minUnits, WriteCapacityUnits: minUnits };
  /** @type {Record<string, Record<string, unknown>>} */
  const tables = {};
  /** @type {Record<string, Resource>} */
  const scaling = {};
  /**
   * A target and its policy for one dimension of a table or index.
   * @param {string} id
   * @param {unknown} resourceId
   * @param {'table' | 'index'} kind
   * @param {'Read' | 'Write'} use
   * @param {string} tableId
   */
  const scale = (id, resourceId, kind, use, tableId) => {
    scaling[`${id}${use}ScalableTarget`] = {
      Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
      // Registering the target creates the service-linked role AWSServiceRoleForApplicationAutoScaling_DynamoDBTable.
      DependsOn: [tableId],
      Properties: {
        ServiceNamespace: 'dynamodb',
        ResourceId: resourceId,
        ScalableDimension: `dynamodb:${kind}:${use}CapacityUnits`,
        MinCapacity: minUnits,
        MaxCapacity: maxUnits,
      },
    };
    scaling[`${id}${use}ScalingPolicy`] = {
      Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
      Properties: {
        PolicyName: `${id}-${use.toLowerCase()}-utilization`,
        PolicyType: 'TargetTrackingScaling',
        ScalingTargetId: { Ref: `${id}${use}ScalableTarget` },
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: targetUtilization,
          PredefinedMetricSpecification: { PredefinedMetricType: `DynamoDB${use}CapacityUtilization` },
        },
      },
    };
  };
  for (const [tableId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const properties = resource.Properties ?? {};
    const indexes = /** @type {GlobalSecondaryIndex[] | undefined} */ (properties.GlobalSecondaryIndexes);
    tables[tableId] = {
      ...properties,
      BillingMode: 'PROVISIONED',
      ProvisionedThroughput: throughput,
      ...(indexes
        ? { GlobalSecondaryIndexes: indexes.map((index) => ({ ...index, ProvisionedThroughput: throughput })) }
        : {}),
    };
    const tablePath = { 'Fn::Join': ['', ['table/', { Ref: tableId }]] };
    for (const use of /** @type {const} */ (['Read', 'Write'])) scale(tableId, tablePath, 'table', use, tableId);
    for (const index of indexes ?? []) {
      const indexPath = { 'Fn::Join': ['', ['table/', { Ref: tableId }, `/index/${index.IndexName}`]] };
      for (const use of /** @type {const} */ (['Read', 'Write'])) {
        scale(`${tableId}${pascal(index.IndexName)}Index`, indexPath, 'index', use, tableId);
      }
    }
  }
  return { tables, scaling };
};

/** A number, or a `--param` from the command line, which arrives as a string. */
const numberOrString = { anyOf: [{ type: 'number' }, { type: 'string' }] };

const schema = {
  properties: {
    capacity: {
      type: 'object',
      properties: {
        mode: { type: 'string' },
        minUnits: numberOrString,
        maxUnits: numberOrString,
        targetUtilization: numberOrString,
      },
      required: ['mode', 'minUnits', 'maxUnits', 'targetUtilization'],
      additionalProperties: false,
    },
  },
};

/** The plugin: applies the capacity mode to serverless.yml's tables before the framework merges them in. */
export default class Capacity {
  /** @param {Serverless} serverless */
  constructor(serverless) {
    this.serverless = serverless;
    serverless.configSchemaHandler.defineCustomProperties(schema);
    this.hooks = { 'package:compileEvents': () => this.apply() };
  }

  apply() {
    const { service } = this.serverless;
    const config = service.custom.capacity;
    const resources = service.resources?.Resources;
    if (!config || !resources) return;
    let made;
    try {
      made = capacity(config, resources);
    } catch (error) {
      throw new this.serverless.classes.Error(error instanceof Error ? error.message : String(error), 'CAPACITY');
    }
    for (const [tableId, properties] of Object.entries(made.tables)) {
      const table = resources[tableId];
      if (table) table.Properties = properties;
    }
    addResources(this.serverless, made.scaling, { plugin: 'infra/capacity.mjs', code: 'CAPACITY' });
  }
}
