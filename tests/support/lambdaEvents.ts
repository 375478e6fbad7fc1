import { marshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';

/** A stored event's INSERT as Kinesis Data Streams for DynamoDB carries it to a stream consumer. */
export const changeRecord = (sequenceNumber: string, stored: object): KinesisStreamRecord => {
  const data = Buffer.from(JSON.stringify({ eventName: 'INSERT', dynamodb: { NewImage: marshall(stored) } }));
  return { kinesis: { sequenceNumber, data: data.toString('base64') } } as KinesisStreamRecord;
};

/** A function's environment as serverless.yml gives it, on made-up table names, for unit tests of handlers. */
export const unitEnvironment = {
  STAGE: 'unit',
  EVENTS_TABLE: 'events',
  SNAPSHOTS_TABLE: 'snapshots',
  ORDERS_TABLE: 'orders',
  PRODUCTS_TABLE: 'products',
  ORDERS_GREEN_TABLE: 'orders-green',
  PRODUCTS_GREEN_TABLE: 'products-green',
  PROJECTIONS_TABLE: 'projections',
  PAYMENT_SIMULATOR_TABLE: 'payments',
  CIRCUITS_TABLE: 'circuits',
  CIRCUIT_FAILURE_THRESHOLD: '5',
  CIRCUIT_WINDOW_SECONDS: '30',
  CIRCUIT_COOL_DOWN_SECONDS: '15',
  // Here, not in the one file that needs it: unit files share a worker's modules, and the first to read the
  // configuration caches it for every file after (startSaga's test failed when another file ran first).
  ORDER_SAGA_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:orderflow-unit-order-saga',
};
