import { describe, expect, it } from 'vitest';
import { capacity } from '../../../infra/capacity.mjs';

type Config = Parameters<typeof capacity>[0];
const provisioned: Config = { mode: 'provisioned', minUnits: 5, maxUnits: 4000, targetUtilization: 70 };

/** Two tables as serverless.yml declares them: one with a global secondary index, one without. */
const resources = {
  EventsTable: {
    Type: 'AWS::DynamoDB::Table',
    Properties: { TableName: 'events', BillingMode: 'PAY_PER_REQUEST', KeySchema: [] },
  },
  OrdersTable: {
    Type: 'AWS::DynamoDB::Table',
    Properties: {
      TableName: 'orders',
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [{ IndexName: 'byCustomer', Projection: { ProjectionType: 'ALL' } }],
    },
  },
  AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: {} },
};

describe('the capacity plugin', () => {
  it('changes nothing on-demand', () => {
    expect(capacity({ ...provisioned, mode: 'on-demand' }, resources)).toEqual({ tables: {}, scaling: {} });
  });

  it('provisions every table and index at the floor, keeping the rest of their properties, and leaves the input alone', () => {
    const { tables } = capacity(provisioned, resources);
    const units = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
    expect(Object.keys(tables).sort()).toEqual(['EventsTable', 'OrdersTable']);
    expect(tables.EventsTable).toEqual({
      TableName: 'events',
      KeySchema: [],
      BillingMode: 'PROVISIONED',
      ProvisionedThroughput: units,
    });
    expect(tables.OrdersTable?.GlobalSecondaryIndexes).toEqual([
      { IndexName: 'byCustomer', Projection: { ProjectionType: 'ALL' }, ProvisionedThroughput: units },
    ]);
    expect(resources.OrdersTable.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(resources.OrdersTable.Properties.GlobalSecondaryIndexes[0]).not.toHaveProperty('ProvisionedThroughput');
  });

  it('scales reads and writes of every table and index, tracking the utilization target', () => {
    const { scaling } = capacity(provisioned, resources);
    const targets = Object.entries(scaling).filter(([, r]) => r.Type === 'AWS::ApplicationAutoScaling::ScalableTarget');
    expect(targets.map(([id]) => id).sort()).toEqual(
      [
        'EventsTableReadScalableTarget',
        'EventsTableWriteScalableTarget',
        'OrdersTableReadScalableTarget',
        'OrdersTableWriteScalableTarget',
        'OrdersTableByCustomerIndexReadScalableTarget',
        'OrdersTableByCustomerIndexWriteScalableTarget',
      ].sort(),
    );
    expect(scaling.OrdersTableByCustomerIndexWriteScalableTarget).toEqual({
      Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
      DependsOn: ['OrdersTable'],
      Properties: {
        ServiceNamespace: 'dynamodb',
        ResourceId: { 'Fn::Join': ['', ['table/', { Ref: 'OrdersTable' }, '/index/byCustomer']] },
        ScalableDimension: 'dynamodb:index:WriteCapacityUnits',
        MinCapacity: 5,
        MaxCapacity: 4000,
      },
    });
    expect(scaling.EventsTableReadScalingPolicy).toEqual({
      Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
      Properties: {
        PolicyName: 'EventsTable-read-utilization',
        PolicyType: 'TargetTrackingScaling',
        ScalingTargetId: { Ref: 'EventsTableReadScalableTarget' },
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 70,
          PredefinedMetricSpecification: { PredefinedMetricType: 'DynamoDBReadCapacityUtilization' },
        },
      },
    });
    // Every target has its policy.
    expect(Object.keys(scaling)).toHaveLength(2 * targets.length);
  });

  it('takes its units as numbers when a command line param gives them as strings', () => {
    const { scaling } = capacity(
      { ...provisioned, minUnits: '50', maxUnits: '400', targetUtilization: '60' },
      resources,
    );
    expect(scaling.EventsTableWriteScalableTarget?.Properties).toMatchObject({ MinCapacity: 50, MaxCapacity: 400 });
    expect(scaling.EventsTableWriteScalingPolicy?.Properties).toMatchObject({
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 60 },
    });
  });

  it('refuses a mode it does not know, and bounds that cannot scale', () => {
    expect(() => capacity({ ...provisioned, mode: 'provisoned' }, resources)).toThrow(
      'custom.capacity.mode must be one of on-demand, provisioned, not provisoned',
    );
    expect(() => capacity({ ...provisioned, minUnits: 10, maxUnits: 5 }, resources)).toThrow('minUnits <= maxUnits');
    expect(() => capacity({ ...provisioned, targetUtilization: 100 }, resources)).toThrow('20 to 90 percent');
    expect(() => capacity({ ...provisioned, minUnits: 'many' }, resources)).toThrow('minUnits <= maxUnits');
  });
});
