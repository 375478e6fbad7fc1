import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CommandContext } from '../../application/handleCommand.js';
import { liveReadModels } from '../../adapters/liveReadModels.js';
import { cachedPointers, type SlotTables } from '../../adapters/readModelPointer.js';
import type { ReadModels } from '../../adapters/readModels.js';
import type { ReadModelPointer } from '../../projections/readModelVersions.js';
import { dynamoCircuitStore } from '../../adapters/dynamoCircuitStore.js';
import { simulatedPaymentGateway } from '../../adapters/simulatedPaymentGateway.js';
import { circuitBreaker } from '../../application/circuitBreaker.js';
import {
  guardedPaymentGateway,
  isGatewayFailure,
  PAYMENT_CIRCUIT,
  type PaymentGateway,
} from '../../application/paymentGateway.js';
import { documentClient } from '../../eventstore/dynamoClient.js';
import { dynamoEventStore } from '../../eventstore/dynamoEventStore.js';
import type { EventMetadata, EventStore } from '../../eventstore/types.js';
import { config } from './config.js';
import { baseLogger } from './log.js';
import type { Logger } from './logger.js';
import { metrics } from './metrics.js';
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

/** How long a half-open probe may hold the circuit: a saga step's function times out before that. */
const PROBE_TIMEOUT_MS = 15_000;

/**
 * The payment gateway: the simulated one (test tokens in adapters/simulatedPaymentGateway.ts) until a real provider
 * plugs in here, behind the stage's circuit breaker. Its state changes are logged (warn when it opens) and counted
 * (`CircuitTransitions`); each refused call reports how long it has been open (`CircuitOpenFor`).
 */
export const paymentGateway = (): PaymentGateway => {
  if (gateway) return gateway;
  const settings = config();
  const breaker = circuitBreaker({
    name: PAYMENT_CIRCUIT,
    store: dynamoCircuitStore({ client: documentClientSingleton(), table: settings.CIRCUITS_TABLE }),
    settings: {
      failureThreshold: settings.CIRCUIT_FAILURE_THRESHOLD,
      windowMs: settings.CIRCUIT_WINDOW_SECONDS * 1000,
      coolDownMs: settings.CIRCUIT_COOL_DOWN_SECONDS * 1000,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
    },
    isFailure: isGatewayFailure,
    observer: {
      transition: ({ circuit, from, to, openForMs }) => {
        metrics().add('CircuitTransitions', 1, { state: to });
        const line = { circuit, from, to, openForMs };
        if (to === 'OPEN') baseLogger().warn('circuit opened: calls to the payment gateway fail fast', line);
        else baseLogger().info(`circuit ${to === 'CLOSED' ? 'closed' : 'half-open'}`, line);
      },
      refused: ({ circuit, openForMs }) => metrics().add('CircuitOpenFor', openForMs, { circuit }),
    },
  });
  gateway = guardedPaymentGateway(
    simulatedPaymentGateway({ client: documentClientSingleton(), table: settings.PAYMENT_SIMULATOR_TABLE }),
    breaker,
  );
  return gateway;
};

/** Each read model's two tables, by slot (ADR 0009). */
export const slotTables = (): SlotTables => {
  const { ORDERS_TABLE, ORDERS_GREEN_TABLE, INVENTORY_TABLE, INVENTORY_GREEN_TABLE } = config();
  return {
    orders: { blue: ORDERS_TABLE, green: ORDERS_GREEN_TABLE },
    inventory: { blue: INVENTORY_TABLE, green: INVENTORY_GREEN_TABLE },
  };
};

let pointers: ((projection: string) => Promise<ReadModelPointer>) | undefined;

/** Which table of a read model is live (and what a rebuild is doing), read at most every `READ_MODEL_CACHE_MS`. */
export const readModelPointer = (projection: string): Promise<ReadModelPointer> =>
  (pointers ??= cachedPointers(documentClientSingleton(), config().PROJECTIONS_TABLE, config().READ_MODEL_CACHE_MS))(
    projection,
  );

export const readModels = (): ReadModels =>
  (reads ??= liveReadModels({ client: documentClientSingleton(), tables: slotTables(), pointer: readModelPointer }));

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
