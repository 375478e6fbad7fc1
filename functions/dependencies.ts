import type { CircuitObserver } from '../application/circuitBreaker.js';
import type { CommandContext } from '../application/handleCommand.js';
import type { PaymentGateway } from '../application/paymentGateway.js';
import type { CatalogueCache } from '../application/products.js';
import type { ReadModels } from '../application/queries.js';
import { composeStage, type Stage } from '../composition/root.js';
import { documentClient } from '../eventstore/dynamoClient.js';
import type { EventMetadata, EventStore } from '../eventstore/types.js';
import type { ReadModelPointer } from '../projections/readModelVersions.js';
import type { Logger } from '../ports/logger.js';
import { config } from './config.js';
import { metrics } from './observability/metrics.js';
import { onConflict, observedStore } from './observability/telemetry.js';
import { tracer } from './observability/tracing.js';

// One stage per cold start, composed by the root (composition/root.ts) from the function's environment: its client
// keeps connections warm across invocations. Only functions that import this module bundle the AWS SDK.
let stage: Stage | undefined;

export const services = (): Stage =>
  (stage ??= composeStage({
    client: documentClient({}, { instrument: (base) => tracer().captureClient(base) }),
    environment: config(),
  }));

export const eventStore = (): EventStore => services().store;

/** One observer per logger, so a gateway asked for twice with the same logger is the same gateway. */
const observers = new WeakMap<Logger, CircuitObserver>();
export const circuitObserver = (logger: Logger): CircuitObserver => {
  let observer = observers.get(logger);
  if (!observer) {
    observer = {
      transition: ({ circuit, from, to, openForMs }) => {
        metrics().add('CircuitTransitions', 1, { state: to });
        const line = { circuit, from, to, openForMs };
        // One warning an outage: a probe that fails reopens the circuit, which is the outage going on.
        if (to === 'OPEN' && from === 'CLOSED')
          logger.warn('circuit opened: calls to the payment gateway fail fast', line);
        else if (to === 'OPEN') logger.info('circuit opened again: the probe failed', line);
        else logger.info(`circuit ${to === 'CLOSED' ? 'closed' : 'half-open'}`, line);
      },
      refused: ({ circuit, openForMs }) => metrics().add('CircuitOpenFor', openForMs, { circuit }),
    };
    observers.set(logger, observer);
  }
  return observer;
};

/**
 * The payment gateway behind the stage's circuit breaker. Its state changes are logged on `logger` (warn when it
 * opens), so the line names the function and the order whose call moved it, and counted (`CircuitTransitions`); each
 * refused call reports how long it has been open (`CircuitOpenFor`).
 */
export const paymentGateway = (logger: Logger): PaymentGateway => services().paymentGateway(circuitObserver(logger));

/** Which table of a read model is live (and what a rebuild is doing), read at most every `READ_MODEL_CACHE_MS`. */
export const readModelPointer = (projection: string): Promise<ReadModelPointer> => services().cachedPointer(projection);

export const readModels = (): ReadModels => services().readModels;

/** What this function instance learned of SKUs' available stock from refused writes: placement's guesses. */
const stockHints = new Map<string, number>();
/** What this function instance last read of products, for pricing within a second of it. */
const catalogue: CatalogueCache = new Map();

/**
 * What a command issued by this request needs: the store (metered: lost races and committed order outcomes are
 * counted), the request's metadata, a log of lost races, and the instance's stock hints and products read.
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
  stockHints,
  catalogue,
});
