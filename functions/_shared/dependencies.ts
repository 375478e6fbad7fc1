import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CommandContext } from '../../application/handleCommand.js';
import { dynamoReadModels, type ReadModels } from '../../adapters/readModels.js';
import { simulatedPaymentGateway } from '../../adapters/simulatedPaymentGateway.js';
import type { PaymentGateway } from '../../application/paymentGateway.js';
import { documentClient } from '../../eventstore/dynamoClient.js';
import { dynamoEventStore } from '../../eventstore/dynamoEventStore.js';
import type { EventMetadata, EventStore } from '../../eventstore/types.js';
import { config } from './config.js';
import type { Logger } from './logger.js';
import { onConflict, observedStore } from './telemetry.js';
import { tracer } from './tracing.js';

// One store per cold start: its client keeps connections warm across invocations. Only functions that import this
// module bundle the AWS SDK.
let client: DynamoDBDocumentClient | undefined;
let store: EventStore | undefined;
let reads: ReadModels | undefined;

export const documentClientSingleton = (): DynamoDBDocumentClient =>
  (client ??= documentClient({}, { instrument: (base) => tracer().captureClient(base) }));

export const eventStore = (): EventStore => {
  if (!store) {
    const { EVENTS_TABLE, SNAPSHOTS_TABLE } = config();
    store = dynamoEventStore({
      client: documentClientSingleton(),
      eventsTable: EVENTS_TABLE,
      snapshotsTable: SNAPSHOTS_TABLE,
    });
  }
  return store;
};

let gateway: PaymentGateway | undefined;

/** The payment gateway: the simulated one (test tokens in adapters/simulatedPaymentGateway.ts) until a real provider plugs in here. */
export const paymentGateway = (): PaymentGateway =>
  (gateway ??= simulatedPaymentGateway({ client: documentClientSingleton(), table: config().PAYMENT_SIMULATOR_TABLE }));

export const readModels = (): ReadModels =>
  (reads ??= dynamoReadModels({
    client: documentClientSingleton(),
    ordersTable: config().ORDERS_TABLE,
    inventoryTable: config().INVENTORY_TABLE,
  }));

/**
 * What a command issued by this request needs: the store (metered: lost races and committed order outcomes are
 * counted), the request's metadata, and a log of lost races.
 */
export const commandContext = ({
  metadata,
  logger,
}: {
  metadata: () => EventMetadata;
  logger: Logger;
}): CommandContext => ({
  store: observedStore(eventStore()),
  metadata: metadata(),
  onConflict: onConflict(logger),
});
