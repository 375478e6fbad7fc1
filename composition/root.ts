import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoCheckpoints, dynamoReplayRuns } from '../adapters/checkpoints.js';
import { dynamoCircuitStore } from '../adapters/dynamoCircuitStore.js';
import { dynamoEventScan } from '../adapters/eventScan.js';
import { liveReadModels, type SlotTables } from '../adapters/liveReadModels.js';
import { dynamoParkingLot } from '../adapters/parking.js';
import { dynamoPendingOrders } from '../adapters/pendingOrders.js';
import { cachedPointers, dynamoPointerStore, dynamoRebuildNotes } from '../adapters/readModelPointer.js';
import { simulatedPaymentGateway } from '../adapters/simulatedPaymentGateway.js';
import { dynamoViewStore } from '../adapters/viewStore.js';
import { circuitBreaker, type CircuitObserver, type CircuitStore, closedTrust } from '../application/circuitBreaker.js';
import {
  guardedPaymentGateway,
  isGatewayFailure,
  PAYMENT_CIRCUIT,
  type PaymentGateway,
} from '../application/paymentGateway.js';
import type { ReadModels } from '../application/queries.js';
import type { PendingOrders } from '../application/sweeper.js';
import { dynamoEventStore } from '../eventstore/dynamoEventStore.js';
import type { EventStore } from '../eventstore/types.js';
import type { EventSchemaRegistry } from '../eventstore/upcasting.js';
import {
  readModelNames,
  readModelProjections,
  type ReadModelName,
  untypedProjection,
  type ViewOf,
} from '../projections/index.js';
import type {
  Checkpoints,
  EventScan,
  ParkingLot,
  PointerStore,
  RebuildNotes,
  ReplayRuns,
  ViewStore,
} from '../projections/ports.js';
import { parkedIn, type ReadModelPointer, type Slot } from '../projections/readModelVersions.js';
import { type RebuildDependencies, rebuildTarget, type RebuildTarget } from '../projections/replay/rebuild.js';
import { replayTarget, type ReplayTarget } from '../projections/replay/segments.js';
import { eventSchemas } from './schemas.js';
import type { StageEnvironment } from './settings.js';

export { eventSchemas };

// The Step Functions implementations of the saga's ports. They take the calling function's own (traced) SFN client,
// so they are chosen here but built where that client is: the sweeper and the cancellation's compensation.
export { stepFunctionsExecutions as sagaExecutions } from '../adapters/pendingOrders.js';
export { stepFunctionsParking as compensationParking } from '../adapters/compensationParking.js';
export type { SlotTables };

export { readModelProjections, type ReadModelName, type ViewOf };

/** How long a half-open probe may hold the circuit: a saga step's function times out before that. */
const PROBE_TIMEOUT_MS = 15_000;
/**
 * How long a function instance takes the payment circuit, read CLOSED, as read: about one read a second per warm
 * instance instead of one a payment. Another instance's opening reaches it that much later, sooner if it fails itself.
 */
const CIRCUIT_CLOSED_TRUST_MS = 1000;

export type Stage = {
  client: DynamoDBDocumentClient;
  schemas: EventSchemaRegistry;
  environment: StageEnvironment;
  store: EventStore;
  /** The events table read whole, by segments: replay and rebuilds. */
  events: EventScan;
  parking: ParkingLot;
  /** Each read model's two tables (ADR 0009). */
  slots: SlotTables;
  pointers: PointerStore;
  notes: RebuildNotes;
  /** Which table of a read model is live, read at most every `READ_MODEL_CACHE_MS`: readers and live projections. */
  cachedPointer(projection: string): Promise<ReadModelPointer>;
  readModels: ReadModels;
  /** The orders still PENDING, from the live orders table's pendingSince index: the sweeper's (ADR 0009). */
  pendingOrders(): Promise<PendingOrders>;
  /** A read model's views in one of its tables. */
  viewStore<Name extends ReadModelName>(name: Name, slot: Slot): ViewStore<ViewOf<Name>>;
  /** The table of a read model its readers use now, as the stored pointer says (read consistently). */
  liveSlot(name: ReadModelName): Promise<Slot>;
  /** The replay target of each read model on its live table. */
  liveTargets(): Promise<Record<ReadModelName, ReplayTarget>>;
  rebuildTargets: Record<ReadModelName, RebuildTarget>;
  rebuildDependencies: RebuildDependencies;
  checkpoints(runId: string): Checkpoints;
  /** The last replay run of each set of projections. */
  replayRuns: ReplayRuns;
  /** Where the stage's circuit breakers keep their state: what ops commands report. */
  circuits: CircuitStore;
  /** The payment gateway behind the stage's circuit breaker; `observer` hears its state changes. */
  paymentGateway(observer?: CircuitObserver): PaymentGateway;
};

/**
 * Each read model's two tables, by the names serverless.yml gives them in the environment (ADR 0009: the original
 * table is blue). The one place the wiring names a read model: `satisfies` holds it to readModelProjections' list.
 */
const slotTableNames = {
  orders: { blue: 'ORDERS_TABLE', green: 'ORDERS_GREEN_TABLE' },
  products: { blue: 'PRODUCTS_TABLE', green: 'PRODUCTS_GREEN_TABLE' },
} as const satisfies Record<ReadModelName, Record<Slot, keyof StageEnvironment>>;

/** One value per read model, in readModelProjections' order. */
const perReadModel = <T>(make: (name: ReadModelName, index: number) => T): Record<ReadModelName, T> =>
  Object.fromEntries(readModelNames.map((name, index) => [name, make(name, index)])) as Record<ReadModelName, T>;

type SlotTableVariable = (typeof slotTableNames)[ReadModelName][Slot];

/** Each read model's two tables, as `table` reads a stage's environment variable: the wiring's, and the invariants'. */
export const slotTablesOf = (table: (variable: SlotTableVariable) => string): SlotTables =>
  perReadModel((name) => ({ blue: table(slotTableNames[name].blue), green: table(slotTableNames[name].green) }));

/** A read model's views in each of its two tables. */
const slotViews = <View extends Record<string, unknown>>(
  client: DynamoDBDocumentClient,
  tables: Record<Slot, string>,
): Record<Slot, ViewStore<View>> => ({
  blue: dynamoViewStore<View>({ client, table: tables.blue }),
  green: dynamoViewStore<View>({ client, table: tables.green }),
});

/**
 * The composition root: every entry point (the Lambda handlers, the replay worker, the ops commands, the local
 * stack, the tests and benchmarks) builds the store, the registry, the read models and the gateway here, from a
 * DynamoDB client and the stage's environment. Nothing else wires adapters to ports.
 */
export const composeStage = ({
  client,
  environment,
}: {
  client: DynamoDBDocumentClient;
  environment: StageEnvironment;
}): Stage => {
  const schemas = eventSchemas;
  const projectionsTable = environment.PROJECTIONS_TABLE;
  const slots = slotTablesOf((variable) => environment[variable]);
  const store = dynamoEventStore({
    client,
    eventsTable: environment.EVENTS_TABLE,
    snapshotsTable: environment.SNAPSHOTS_TABLE,
    schemas,
  });
  const events = dynamoEventScan({ client, table: environment.EVENTS_TABLE, schemas });
  const parking = dynamoParkingLot({ client, table: projectionsTable });
  const pointers = dynamoPointerStore({ client, table: projectionsTable });
  const notes = dynamoRebuildNotes({ client, table: projectionsTable });
  const cachedPointer = cachedPointers(client, projectionsTable, environment.READ_MODEL_CACHE_MS);
  // Untyped: code that handles every read model alike (replay, rebuilds) reads no view's fields.
  const views = perReadModel((name) => slotViews<Record<string, unknown>>(client, slots[name]));
  const liveSlot = async (name: ReadModelName) => (await pointers.get(name)).live.slot;
  const circuits = dynamoCircuitStore({ client, table: environment.CIRCUITS_TABLE });
  // By observer, which callers make per invocation's logger: weakly, so they go with it.
  const gateways = new WeakMap<CircuitObserver, PaymentGateway>();
  // One for the instance: each invocation's gateway has a breaker of its own (its observer logs for that invocation).
  const paymentCircuitTrust = closedTrust(CIRCUIT_CLOSED_TRUST_MS);
  let unobserved: PaymentGateway | undefined;
  return {
    client,
    schemas,
    environment,
    store,
    events,
    parking,
    slots,
    pointers,
    notes,
    cachedPointer,
    readModels: liveReadModels({ client, tables: slots, pointer: cachedPointer }),
    pendingOrders: async () =>
      dynamoPendingOrders({ client, table: slots.orders[(await cachedPointer('orders')).live.slot] }),
    viewStore: <Name extends ReadModelName>(name: Name, slot: Slot) =>
      dynamoViewStore<ViewOf<Name>>({ client, table: slots[name][slot] }),
    liveSlot,
    liveTargets: async () => {
      const live = await Promise.all(readModelNames.map(liveSlot));
      // The live slot's views, and its parked streams under that slot's name.
      return perReadModel((name, index) => {
        const slot = live[index] as Slot;
        return replayTarget(untypedProjection(name), views[name][slot], parkedIn(name, slot));
      });
    },
    rebuildTargets: perReadModel((name) => rebuildTarget(untypedProjection(name), views[name])),
    rebuildDependencies: { events, store, parking, pointers, notes, cacheMs: environment.READ_MODEL_CACHE_MS },
    circuits,
    replayRuns: dynamoReplayRuns({ client, table: projectionsTable }),
    checkpoints: (runId) => dynamoCheckpoints({ client, table: projectionsTable, runId }),
    paymentGateway(observer) {
      const known = observer ? gateways.get(observer) : unobserved;
      if (known) return known;
      const breaker = circuitBreaker({
        name: PAYMENT_CIRCUIT,
        store: circuits,
        settings: {
          failureThreshold: environment.CIRCUIT_FAILURE_THRESHOLD,
          windowMs: environment.CIRCUIT_WINDOW_SECONDS * 1000,
          coolDownMs: environment.CIRCUIT_COOL_DOWN_SECONDS * 1000,
          probeTimeoutMs: PROBE_TIMEOUT_MS,
        },
        trust: paymentCircuitTrust,
        isFailure: isGatewayFailure,
        ...(observer ? { observer } : {}),
      });
      // The simulated gateway (test tokens in adapters/simulatedPaymentGateway.ts) until a real provider plugs in here.
      const gateway = guardedPaymentGateway(
        simulatedPaymentGateway({ client, table: environment.PAYMENT_SIMULATOR_TABLE }),
        breaker,
      );
      if (observer) gateways.set(observer, gateway);
      else unobserved = gateway;
      return gateway;
    },
  };
};
