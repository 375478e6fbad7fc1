import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import { type DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { dynamoPointerStore } from '../adapters/readModelPointer.js';
import { eventSchemas, slotTablesOf, type SlotTables } from '../composition/root.js';
import {
  type Aggregate,
  claimsOf,
  productAggregate,
  orderAggregate,
  paymentAggregate,
} from '../application/aggregates.js';
import { parseEvent } from '../application/handleCommand.js';
import {
  addStock,
  isKeyClaimId,
  moveStock,
  noStock,
  orderStockMoves,
  productStockMove,
  type SkuStockMove,
  type Stock,
  stockBalanceId,
} from '../domain/inventory/index.js';
import { keepsPayment, OrderStatus } from '../domain/order/index.js';
import { fold, withStateBefore } from '../domain/shared/decider.js';
import { STREAM_ID } from '../eventstore/tableKeys.js';
import type { Claim, DomainEvent, StoredEvent } from '../eventstore/types.js';
import { type EventItem, itemEvents } from '../eventstore/eventItems.js';
import type { EventSchemaRegistry } from '../eventstore/upcasting.js';
import { readModelNames, untypedProjection } from '../projections/index.js';
import { type Projection, projectedEvent } from '../projections/projection.js';

/**
 * One invariant over the whole store: how many things it looked at, and every one that broke it; or, `skipped`, why
 * it was not checked (its verdict could not be trusted).
 */
export type InvariantResult = { name: string; checked: number; violations: string[]; skipped?: string };

export type InvariantTables = {
  client: DynamoDBDocumentClient;
  events: string;
  snapshots: string;
  /** Both tables of each read model: the checks read the live one, as the pointer names it (ADR 0009). */
  slots: SlotTables;
  /** Where the read models' pointers are. */
  projections: string;
  paymentSimulator: string;
  /** The stage's event-schema registry: the invariants read events as every other reader does. */
  schemas: EventSchemaRegistry;
};

/** The tables the invariants read, named as the stage's environment names them (`table('EVENTS_TABLE')`, …). */
export const invariantTables = (
  client: DynamoDBDocumentClient,
  table: (variable: string) => string,
): InvariantTables => ({
  client,
  events: table('EVENTS_TABLE'),
  snapshots: table('SNAPSHOTS_TABLE'),
  slots: slotTablesOf(table),
  projections: table('PROJECTIONS_TABLE'),
  paymentSimulator: table('PAYMENT_SIMULATOR_TABLE'),
  schemas: eventSchemas,
});

/** Every item of a table, read with parallel scan segments and strongly consistent reads. */
const scanAll = async (client: DynamoDBDocumentClient, table: string, segments = 4) => {
  const pages = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const items: Record<string, unknown>[] = [];
      for await (const page of paginateScan(
        { client },
        { TableName: table, Segment: segment, TotalSegments: segments, ConsistentRead: true },
      )) {
        items.push(...(page.Items ?? []));
      }
      return items;
    }),
  );
  return pages.flat();
};

/** Every status but PENDING is settled: a new status is settled unless it says otherwise here. */
const settled = new Set<string>(OrderStatus.exclude(['PENDING']).options);

/** A view as DynamoDB stores it: no undefined fields. */
const asStored = (view: unknown): unknown => JSON.parse(JSON.stringify(view)) as unknown;

/** Every view of a read model (`items`, its table's items) equals a fresh fold of its stream. */
export const checkReadModel = <View extends Record<string, unknown>, Event extends DomainEvent>(
  projection: Projection<View, Event>,
  streams: Map<string, StoredEvent[]>,
  items: Record<string, unknown>[],
): InvariantResult => {
  // A view is found by the attributes its projection keys it by (`orderId`, `sku`), as the live projection finds it.
  const keyNames = Object.keys(projection.key(projection.streamPrefix));
  const keyOf = (key: Record<string, unknown>) => JSON.stringify(keyNames.map((name) => key[name]));
  const stored = new Map(items.map((item) => [keyOf(item), item]));
  const violations: string[] = [];
  let checked = 0;
  for (const [streamId, events] of streams) {
    if (!streamId.startsWith(projection.streamPrefix)) continue;
    checked += 1;
    let fresh: View | undefined;
    try {
      fresh = events.reduce<View | undefined>(
        (view, event) => projection.evolve(view, projectedEvent(projection, event)),
        undefined,
      );
    } catch (error) {
      // A poison event: the live projection parks such a stream; the check names it and goes on with the rest.
      const message = error instanceof Error ? error.message : String(error);
      violations.push(
        `${streamId}: the ${projection.name} projection cannot fold it (parked until redriven): ${message}`,
      );
      continue;
    }
    const item = stored.get(keyOf(projection.key(streamId)));
    if (!item) {
      violations.push(`${streamId}: no view in the ${projection.name} read model`);
      continue;
    }
    const { version, ...view } = item;
    const last = events.at(-1)?.version ?? 0;
    if (version !== last) violations.push(`${streamId}: view at version ${String(version)}, stream at ${last}`);
    else if (!isDeepStrictEqual(view, asStored(fresh))) {
      violations.push(
        `${streamId}: view differs from a fresh fold: ${JSON.stringify(view)} ≠ ${JSON.stringify(fresh)}`,
      );
    }
  }
  return { name: `the ${projection.name} read model equals a fresh fold of its streams`, checked, violations };
};

/** Why an event cannot be read: the error, and the schema's first complaint (a key it does not know, say). */
const unreadableReason = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const issue = error.cause instanceof z.ZodError ? error.cause.issues[0] : undefined;
  return issue ? `${error.message} ${issue.path.join('.') || 'The event'}: ${issue.message}` : error.message;
};

/**
 * Each stream of an aggregate folded to its state, by the id after the prefix. A stream holding an event this code
 * cannot read (a newer writer's, a bad write) is left out and named in `unreadable`: one such stream is a finding,
 * not the end of the whole check.
 */
const folded = <State, Command, Event extends DomainEvent>(
  streams: Map<string, StoredEvent[]>,
  aggregate: Aggregate<State, Command, Event>,
  prefix: string,
  unreadable: string[],
) =>
  new Map(
    [...streams]
      .filter(([streamId]) => streamId.startsWith(prefix))
      .flatMap(([streamId, events]) => {
        try {
          const parsed = events.map((event) => parseEvent(aggregate.events, event));
          return [[streamId.slice(prefix.length), { state: fold(aggregate.decider, parsed), events, parsed }] as const];
        } catch (error) {
          unreadable.push(`${streamId}: ${unreadableReason(error)}`);
          return [];
        }
      }),
  );

/** The event store's streams folded once, by aggregate, for every check that reads them. */
export const foldedStreams = (streams: Map<string, StoredEvent[]>) => {
  const unreadable: string[] = [];
  return {
    skus: folded(streams, productAggregate, 'product-', unreadable),
    orders: folded(streams, orderAggregate, 'order-', unreadable),
    payments: folded(streams, paymentAggregate, 'payment-', unreadable),
    unreadable,
  };
};
type FoldedStreams = ReturnType<typeof foldedStreams>;

/**
 * For every SKU: its balance equals the sum of every move its events made (its product stream's and every order's),
 * that sum is not below zero, and `available + reserved + sold = initial + restocked − written off`; and each order holds what its
 * status says. The moves are summed without a floor, so the result does not depend on the order streams are read in:
 * a cancelled order's units sold again to a later one may be read after it. `balances` are the snapshot table's items.
 */
export const stockInvariant = (
  { skus, orders }: Pick<FoldedStreams, 'skus' | 'orders'>,
  balances: Record<string, unknown>[],
): InvariantResult => {
  const stock: InvariantResult = {
    name:
      "for every SKU, its balance is the sum of its events' moves, never below zero, available + reserved + sold = " +
      "initial + restocked − written off, and each order's units match its status",
    checked: skus.size,
    violations: [],
  };
  // Every stock-moving event of a SKU, from its product stream and every order's stream, summed; and what each
  // order holds of each SKU, from its own events' moves.
  const expected = new Map<string, Stock>();
  const add = (moves: SkuStockMove[], holding?: Map<string, Stock>) => {
    for (const { sku, move } of moves) {
      expected.set(sku, addStock(expected.get(sku) ?? noStock(), move));
      holding?.set(sku, addStock(holding.get(sku) ?? noStock(), move));
    }
  };
  for (const { parsed } of skus.values()) {
    for (const event of parsed) {
      const move = productStockMove(event);
      if (move) add([{ sku: event.data.sku, move }]);
    }
  }
  const holdings = new Map<string, Map<string, Stock>>();
  for (const [orderId, { parsed }] of orders) {
    const holding = new Map<string, Stock>();
    holdings.set(orderId, holding);
    for (const [event, before] of withStateBefore(
      orderAggregate.decider,
      parsed,
      orderAggregate.decider.initialState(),
    )) {
      add(orderStockMoves(event, before), holding);
    }
  }
  const byId = new Map(balances.map((item) => [String(item.streamId), item]));
  for (const [sku, { state }] of skus) {
    if (state.status !== 'REGISTERED') continue;
    const sum = expected.get(sku) ?? noStock();
    // Each write moved the balance and refused to take it below zero, so the sum of all of them is not either.
    if (!moveStock(noStock(), sum))
      stock.violations.push(`${sku}: its events' moves sum below zero: ${JSON.stringify(sum)}`);
    const item = byId.get(stockBalanceId(sku));
    const held = { available: Number(item?.available), reserved: Number(item?.reserved), sold: Number(item?.sold) };
    if (!isDeepStrictEqual(held, sum)) {
      stock.violations.push(`${sku}: balance ${JSON.stringify(held)} ≠ its events' moves ${JSON.stringify(sum)}`);
    }
    const { available, reserved, sold } = sum;
    if (available + reserved + sold !== state.initialStock + state.restocked - state.writtenOff) {
      stock.violations.push(
        `${sku}: available ${available} + reserved ${reserved} + sold ${sold} ≠ initial ${state.initialStock} + restocked ${state.restocked} − written off ${state.writtenOff}`,
      );
    }
  }
  for (const [orderId, { state: order }] of orders) {
    if (order.status === 'NONE') continue;
    for (const { sku, quantity } of order.lines) {
      const { reserved, sold } = holdings.get(orderId)?.get(sku) ?? noStock();
      const holds = `${reserved} reserved and ${sold} sold of ${quantity}`;
      const expectedHold =
        order.status === 'CONFIRMED'
          ? reserved === 0 && sold === quantity
          : order.status === 'PENDING'
            ? sold === 0 && reserved === (order.stockReserved ? quantity : 0)
            : reserved === 0 && sold === 0;
      if (!expectedHold) stock.violations.push(`${sku}: ${order.status.toLowerCase()} order ${orderId} holds ${holds}`);
    }
  }
  return stock;
};

/**
 * Each restock, write-off, new-price or new-name key was recorded once by its product, and each claim (ADR 0024, 0025,
 * 0027) in the snapshots table is the record of a keyed event, with its quantity, price or name: the claims an event
 * takes are `productAggregate.claims`'s, as the append wrote them. A keyed event recorded before claims were taken has
 * no claim, and breaks nothing.
 */
export const keyClaimsInvariant = (
  { skus }: Pick<FoldedStreams, 'skus'>,
  snapshotItems: Record<string, unknown>[],
): InvariantResult => {
  const result: InvariantResult = {
    name: 'each restock, write-off, new-price or new-name key was recorded once, and each claim is a keyed event’s record',
    checked: 0,
    violations: [],
  };
  const recorded = new Map<string, Claim['data']>();
  for (const { parsed } of skus.values()) {
    for (const { claimId, data } of claimsOf(productAggregate, parsed)) {
      result.checked += 1;
      if (recorded.has(claimId)) result.violations.push(`${claimId}: the key was recorded more than once`);
      recorded.set(claimId, data);
    }
  }
  for (const { [STREAM_ID]: id, ...data } of snapshotItems) {
    const claimId = String(id);
    if (!isKeyClaimId(claimId)) continue;
    result.checked += 1;
    const event = recorded.get(claimId);
    if (!event) result.violations.push(`claim ${claimId} has no keyed event of its SKU`);
    else if (!isDeepStrictEqual(data, event)) {
      result.violations.push(`claim ${claimId} holds ${JSON.stringify(data)}, its event ${JSON.stringify(event)}`);
    }
  }
  return result;
};

/**
 * Reads the whole event store, the read models and the payment simulator's ledger of charges, and checks what must
 * hold once every order has settled, whatever failed on the way:
 * every stream's versions are gapless; every order is CONFIRMED, REJECTED or CANCELLED; for every SKU
 * `available + reserved + sold = initial + restocked − written off`, with no stock held for a settled order and sold
 * stock only for confirmed ones; each restock, write-off, new-price or new-name key was recorded once, and each claim
 * records its event; no order's payment is authorized or charged twice, and no order that did not end CONFIRMED keeps
 * an authorization or a charge at the gateway; every read model equals a fresh fold.
 * Scans everything: meant for the local stack and test stages, not for a large production table.
 */
export const checkInvariants = async (tables: InvariantTables): Promise<InvariantResult[]> => {
  const { schemas } = tables;
  // The pointer read consistently, not cached: after a switch or a rollback, the table readers are pointed at now.
  // The version kept for rollback is kept current by the live projection, and `--rollback` makes it live: it is held
  // to the same fold.
  const pointers = dynamoPointerStore({ client: tables.client, table: tables.projections });
  const readModelTables = (
    await Promise.all(
      readModelNames.map(async (name) => {
        const { live, previous } = await pointers.get(name);
        return [
          { name, table: tables.slots[name][live.slot], kept: undefined },
          ...(previous ? [{ name, table: tables.slots[name][previous.slot], kept: previous.version }] : []),
        ];
      }),
    )
  ).flat();
  const [storedItems, derived, charges, ...viewItems] = await Promise.all([
    scanAll(tables.client, tables.events),
    scanAll(tables.client, tables.snapshots),
    scanAll(tables.client, tables.paymentSimulator),
    ...readModelTables.map(({ table }) => scanAll(tables.client, table)),
  ]);

  const streams = new Map<string, StoredEvent[]>();
  const unreadableItems: string[] = [];
  const readable = storedItems.flatMap((item) => {
    try {
      return itemEvents(item as EventItem, schemas);
    } catch (error) {
      unreadableItems.push(`${String(item.streamId)}@${String(item.version)}: ${(error as Error).message}`);
      return [];
    }
  });
  for (const event of readable) {
    const list = streams.get(event.streamId) ?? [];
    list.push(event);
    streams.set(event.streamId, list);
  }
  for (const events of streams.values()) events.sort((a, b) => a.version - b.version);

  const gapless: InvariantResult = { name: "every stream's versions are 1..n, gapless", checked: 0, violations: [] };
  for (const [streamId, events] of streams) {
    gapless.checked += 1;
    const broken = events.findIndex((event, i) => event.version !== i + 1);
    if (broken >= 0)
      gapless.violations.push(`${streamId}: version ${events[broken]?.version} at position ${broken + 1}`);
  }

  const { skus, orders, payments, unreadable } = foldedStreams(streams);
  const readAll: InvariantResult = {
    name: 'every event is one this code reads',
    // Events, not items: an item holds one append's events (ADR 0016); one that cannot be read counts as one.
    checked: [...streams.values()].reduce((sum, events) => sum + events.length, 0) + unreadableItems.length,
    violations: [...unreadableItems, ...unreadable],
  };

  const terminal: InvariantResult = {
    name: 'every order has settled: CONFIRMED, REJECTED or CANCELLED',
    checked: orders.size,
    violations: [],
  };
  for (const [orderId, { state }] of orders) {
    // PENDING may be an order still on its way (a stack that is not quiet) or one the sweeper will give up: say where
    // to look, since only the order's report tells its saga apart.
    if (!settled.has(state.status)) {
      terminal.violations.push(
        `order ${orderId} is ${state.status} (npm run order -- ${orderId} says why, and whether the sweeper will settle it)`,
      );
    }
  }

  const stock = stockInvariant({ skus, orders }, derived);
  const keyed = keyClaimsInvariant({ skus }, derived);

  const charged: InvariantResult = {
    name: 'no payment is authorized or charged twice, and none is kept by an order that did not end CONFIRMED',
    checked: payments.size + charges.length,
    violations: [],
  };
  for (const [orderId, { events }] of payments) {
    const authorizations = events.filter((event) => event.type === 'PaymentAuthorized').length;
    if (authorizations > 1) charged.violations.push(`payment of order ${orderId} authorized ${authorizations} times`);
  }
  const statusOf = (orderId: string) => orders.get(orderId)?.state.status;
  // On a stack that is not quiet, a refund or void parked until the gateway answers (ADR 0010) is not done yet.
  const parkedHint = (orderId: string) =>
    ` (unless its refund or void is parked for the gateway: \`npm run order -- ${orderId}\` shows it, and ` +
    `\`--compensate\` starts one where none runs)`;
  for (const [orderId, { state }] of payments) {
    const status = statusOf(orderId);
    if (state.status === 'AUTHORIZED' && (status === undefined || !keepsPayment(status))) {
      charged.violations.push(
        `payment of ${status?.toLowerCase() ?? 'unknown'} order ${orderId} is still authorized${parkedHint(orderId)}`,
      );
    }
  }
  for (const item of charges) {
    const times = Number(item.charges ?? 0);
    if (times > 1) charged.violations.push(`gateway charged key ${String(item.idempotencyKey)} ${times} times`);
    if (Number(item.refunds ?? 0) > times) {
      charged.violations.push(`gateway refunded key ${String(item.idempotencyKey)} more often than it charged`);
    }
    // Keyed by order id: a charge the gateway kept for an order that is not CONFIRMED, recorded by the saga or not.
    const status = statusOf(String(item.idempotencyKey));
    if (times > Number(item.refunds ?? 0) && status !== undefined && !keepsPayment(status)) {
      charged.violations.push(
        `gateway kept the charge of ${status.toLowerCase()} order ${String(item.idempotencyKey)}${parkedHint(String(item.idempotencyKey))}`,
      );
    }
  }

  const checks = [
    gapless,
    terminal,
    stock,
    keyed,
    charged,
    ...readModelTables.map(({ name, kept }, i) => {
      const result = checkReadModel(untypedProjection(name), streams, viewItems[i] ?? []);
      return kept === undefined ? result : { ...result, name: `${result.name} (version ${kept}, kept for rollback)` };
    }),
  ];
  if (readAll.violations.length === 0) return [readAll, ...checks];
  // Folded without what cannot be read, a stream looks cut short, a balance wrong and an order unsettled, and a check
  // may pass that would fail: none of them can be trusted until it is read.
  const skipped = `not checked: ${readAll.violations.length} item(s) or event(s) above cannot be read`;
  return [readAll, ...checks.map(({ name }) => ({ name, checked: 0, violations: [], skipped }))];
};

/** The results as lines, one per invariant (`ok  ` or `FAIL`, with how many it checked), and the first violations. */
export const describeInvariants = (results: InvariantResult[], violationsShown = 5): string[] =>
  results.flatMap((i) => [
    i.skipped
      ? `  skip ${i.name} (${i.skipped})`
      : `  ${i.violations.length === 0 ? 'ok  ' : 'FAIL'} ${i.name} (${i.checked} checked${i.violations.length ? `, ${i.violations.length} broken` : ''})`,
    ...i.violations.slice(0, violationsShown).map((v) => `         ${v}`),
  ]);
