import { orderIdShape } from '../api/schemas.js';
import { orderStreamId } from '../domain/order/index.js';
import { compensateOrder } from './compensateOrder.js';
import { cliArgs } from './cliArgs.js';
import {
  OrderNotFoundError,
  type OrderReport,
  orderReport,
  sagaStateMachineArn,
  sagaSummary,
  type Unreadable,
} from './orderReport.js';
import { type StageClients, stageClients } from './stage.js';
import { sagaStarter, startOrderSaga } from './startSaga.js';
import type { SagaConsumer } from '../functions/streams/sagaConsumers.js';

/**
 * `npm run order -- <orderId> [--stage <name>] [--json]`: where is order X. Prints the order's events (event store),
 * its read-model view (orders table) and its saga (Step Functions), side by side. Without --stage it asks the running
 * local stack (`npm start`); with it, that deployed stage, with your AWS credentials. `--start-saga` starts the
 * order's saga as its starter would have (ops/startSaga.ts), for the runbook's "Change failures" and "Saga failures".
 * `--compensate` parks a compensation for a rejected or cancelled order whose payment nothing voids or refunds
 * (ops/compensateOrder.ts), for the runbook's "Compensation failures" and "Parked compensations".
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const usage = 'usage: npm run order -- <orderId> [--stage <name>] [--json] [--start-saga | --compensate]';
const { values, positionals } = cliArgs(
  {
    allowPositionals: true,
    options: {
      stage: { type: 'string', default: 'local' },
      json: { type: 'boolean', default: false },
      'start-saga': { type: 'boolean', default: false },
      compensate: { type: 'boolean', default: false },
    },
  },
  usage,
  { maxPositionals: 1 },
);
const [given] = positionals;
// The stream id, as logs and `npm run redrive` name it, is taken too.
const streamPrefix = orderStreamId('');
const orderId = given?.startsWith(streamPrefix) ? given.slice(streamPrefix.length) : given;
if (!orderId) {
  console.error(usage);
  process.exit(2);
}
// A mistyped id is a usage error (2), not an answer that the order does not exist (1).
if (!orderIdShape.safeParse(orderId).success) {
  console.error(
    `not an order id: ${JSON.stringify(given)} (36 hexadecimal digits and hyphens, as POST /orders answered it)`,
  );
  console.error(usage);
  process.exit(2);
}
// Alternatives, as the usage says: taking one and dropping the other unsaid would leave the other undone.
if (values['start-saga'] && values.compensate) {
  console.error(`--start-saga and --compensate are alternatives: give one.\n${usage}`);
  process.exit(2);
}

/** What happens next to an order waiting on the payment gateway, as far as its saga's record tells. */
const awaitingNote = ({ saga, stage }: OrderReport, until: string): string => {
  const overdue = Date.parse(until) < Date.now();
  const sweeper = 'the sweeper gives the order up (UNAVAILABLE) once it has been PENDING for sweepPendingAfterSeconds';
  const retries = `: the saga tries again after each wait, and rejects the\n  order PAYMENT_UNAVAILABLE at ${until} if the gateway is not back.`;
  if (saga.kind === 'execution' && saga.status === 'RUNNING') {
    return overdue
      ? `, until ${until}; its saga still runs, giving it up, and keeps\n  trying until its timeout; then ${sweeper}.`
      : retries;
  }
  if (saga.kind === 'execution') {
    // The local stand-in serves no redrive: there the sweeper settles it.
    if (stage === 'local') return `, until ${until}, but its saga ended ${saga.status}: ${sweeper}.`;
    // A STANDARD name stays taken: the execution that ended is redriven, not started again.
    return `, until ${until}, but its saga ended ${saga.status}: ${sweeper},\n  or redrive it (aws stepfunctions redrive-execution --execution-arn ${saga.executionArn}).`;
  }
  if (saga.kind === 'express' && !overdue) return retries;
  return `, until ${until}, but no saga is waiting for it: ${sweeper},\n  or start its saga again (--start-saga).`;
};

const print = (report: OrderReport) => {
  const [sagaStatus, sagaDetail] = sagaSummary(report);
  const view = report.view;
  const rows: [string, string, string, string][] = [
    ['', 'status', 'version', ''],
    ['events', report.fromEvents.status, String(report.fromEvents.version), `${report.events.length} event(s)`],
    [
      'read model',
      view?.view.status ?? 'absent',
      view ? String(view.version) : '–',
      !view
        ? report.viewParked
          ? 'parked: the projection could not apply or read its first event (npm run redrive once the cause is fixed)'
          : ''
        : view.version >= report.fromEvents.version
          ? ''
          : report.viewParked ||
              (report.fromEvents.unreadable && view.version >= report.fromEvents.unreadable.version - 1)
            ? 'parked: the projection could not apply an event after this version (npm run redrive once the cause is fixed)'
            : 'behind the events: the projection has not caught up',
    ],
    ['saga', sagaStatus, '', sagaDetail],
  ];
  const sagaParkedNotes: Record<SagaConsumer, string> = {
    startSaga: 'parked by startSaga, which could not read it: its saga may never have started',
    compensateCancellation:
      "parked by compensateCancellation, which could not read its events or its payment's (below, or in npm run redrive's " +
      "list): its cancellation's payment was never voided or refunded",
  };
  const width = (i: number) => Math.max(...rows.map((row) => (row[i] ?? '').length));
  console.log(`order ${report.orderId} on stage "${report.stage}"\n`);
  for (const row of rows) {
    console.log(`  ${row.map((cell, i) => (i < 3 ? cell.padEnd(width(i)) : cell)).join('   ')}`.trimEnd());
  }

  for (const consumer of report.sagaParked) {
    console.log(`\n  ${sagaParkedNotes[consumer]} (npm run redrive once the cause is fixed).`);
  }

  const unreadableNote = (stream: string, { version, type, reason }: Unreadable) =>
    console.log(
      `\n  The ${stream} status is as of the event before version ${version}: its ${type} cannot be read by this code ` +
        `(${reason}).\n  An event of a newer writer (see docs/operations.md, "Roll back"), or a bad write.`,
    );
  if (report.fromEvents.unreadable) unreadableNote("events'", report.fromEvents.unreadable);
  if (report.paymentUnreadable) unreadableNote("payment's", report.paymentUnreadable);

  if (report.awaitingPayment) {
    const { since, until, circuit } = report.awaitingPayment;
    const breaker = circuit
      ? `${circuit.state}${circuit.openSince ? ` since ${new Date(circuit.openSince).toISOString()}` : ''}`
      : 'CLOSED (no record: never tripped, or its item deleted)';
    console.log(
      `\n  waiting on the payment gateway since ${since}${awaitingNote(report, until)} Its circuit breaker: ${breaker}.`,
    );
  }

  console.log('\nevents (order and payment streams, as recorded)');
  for (const e of report.events) {
    console.log(
      `  ${e.recordedAt}  ${e.streamId.split('-')[0]?.padEnd(7)} v${e.version}  ${e.type.padEnd(17)} by ${e.actor}  ${JSON.stringify(e.data)}`,
    );
  }
  const correlationIds = [...new Set(report.events.map((e) => e.correlationId))];
  if (correlationIds.length > 0) console.log(`  correlation id(s): ${correlationIds.join(', ')}`);

  console.log('\nread model (orders table)');
  console.log(view ? `  ${JSON.stringify(view.view)}` : '  no view yet');

  console.log('\nsaga');
  const { saga } = report;
  if (saga.kind === 'execution') {
    console.log(`  ${saga.executionArn}`);
    console.log(
      `  ${saga.status}  started ${saga.startDate ?? '?'}${saga.stopDate ? `, stopped ${saga.stopDate}` : ''}`,
    );
    if (saga.error) console.log(`  error ${saga.error}: ${saga.cause ?? ''}`);
    console.log(`  states (${saga.statesFrom}): ${saga.states.join(' → ') || '–'}`);
  } else if (saga.kind === 'not-started') {
    console.log(`  no execution of ${saga.stateMachineArn} is named ${report.orderId}`);
  } else if (saga.kind === 'unknown') {
    console.log('  could not be read (below)');
  } else {
    console.log(
      `  ${saga.stateMachineName} is EXPRESS on this stage: Step Functions keeps no execution history to ask.`,
      `\n  The events above are the saga's record; its failures are logged in ${saga.logGroup}.`,
    );
  }

  // Where a refund or void waits for the order to settle or the gateway to answer (a cancellation's that met an
  // outage, every give-up's): until none runs, the payment stream is not final.
  console.log(
    '\nparked compensations (payment refunds and voids, run once the order is settled and the gateway answers)',
  );
  if (report.compensations.length === 0) {
    // The stand-in keeps no execution that ended before this npm start began: "none" there may be one that ran.
    console.log(
      report.stage === 'local'
        ? '  none on record (none ran since this npm start began; one that ended before it is not kept, and the payment stream above says what ran)'
        : '  none',
    );
  }
  for (const c of report.compensations) {
    console.log(
      `  ${c.name}  ${c.status}  started ${c.startDate ?? '?'}${c.stopDate ? `, stopped ${c.stopDate}` : ''}`,
    );
  }

  if (report.paymentLeftAuthorized) {
    console.log(
      `\n  Its payment is still authorized, and no compensation runs to void or refund it (one failed, or a stack was\n` +
        `  stopped under it): start one with --compensate. It is idempotent, and waits for the gateway if it is down.`,
    );
  }

  if (report.unread.length > 0) {
    console.log('\ncould not read (what the report shows of them is a guess):');
    for (const { source, error } of report.unread) console.log(`  ${source}: ${error}`);
  }
};

const startSaga = async (clients: StageClients, id: string): Promise<number> => {
  const starter = sagaStarter(clients.sfn, await sagaStateMachineArn(clients), clients.orderSaga.type);
  const started = await startOrderSaga(clients.store, id, starter.start);
  const existing = starter.existing(id);
  switch (started.outcome) {
    case 'STARTED':
      console.log(`started ${started.executionArn}`);
      return 0;
    case 'ALREADY_STARTED':
      if (existing === 'RUNNING') console.error(`the saga of ${id} is running: there is nothing to start`);
      else if (clients.stage === 'local') {
        // The local stand-in serves no redrive; it forgets ended executions when npm start stops.
        console.error(
          `an execution named ${id} exists already (${existing ?? 'ended'}): the sweeper settles the order, or ` +
            'restart npm start (which forgets ended executions) and run --start-saga again',
        );
      } else {
        console.error(
          `an execution named ${id} exists already${existing ? ` (${existing})` : ''}, and a STANDARD name is taken for ` +
            `90 days: redrive it (aws stepfunctions redrive-execution --execution-arn <its ARN>; npm run order -- ${id} ` +
            'shows it)',
        );
      }
      return 1;
    case 'NOT_PENDING':
      console.error(`order ${id} is ${started.status}: it has no saga left to run`);
      return 1;
    case 'NO_STOCK_HELD':
      console.error(`order ${id} holds no stock (it was never reserved): it has no saga to run`);
      return 1;
    case 'NO_SUCH_ORDER':
      console.error(`no such order: ${id} (stage "${values.stage}")`);
      return 1;
  }
};

const compensate = async (clients: StageClients, id: string): Promise<number> => {
  const outcome = await compensateOrder(clients, id);
  switch (outcome.outcome) {
    case 'STARTED':
      console.log(`compensation of ${id} started: npm run order -- ${id} shows it`);
      return 0;
    case 'RUNNING_ALREADY':
      console.log(`a compensation of ${id} runs already: npm run order -- ${id} shows it`);
      return 0;
    case 'NOT_SETTLED':
      console.error(`order ${id} is ${outcome.status}: only a rejected or cancelled order's payment is compensated`);
      return 1;
    case 'NO_SUCH_ORDER':
      console.error(`no such order: ${id} (stage "${values.stage}")`);
      return 1;
  }
};

try {
  const clients = await stageClients(values.stage);
  if (values['start-saga']) process.exit(await startSaga(clients, orderId));
  if (values.compensate) process.exit(await compensate(clients, orderId));
  const report = await orderReport(clients, orderId);
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else print(report);
  process.exit(0);
} catch (error) {
  // 1 is an answer (no such order), 2 that none could be had (the stack down, a permission missing).
  if (error instanceof OrderNotFoundError) {
    console.error(`no such order: ${orderId} (stage "${values.stage}")`);
    process.exit(1);
  }
  console.error(`order failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
