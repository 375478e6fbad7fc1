import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { CompensationKind, CompensationParking } from '../application/saga.js';
import { executionArnOf } from './executions.js';

/** The kind of compensation an execution's input says it parks, if it says. */
const kindOf = (input: string | undefined): CompensationKind | undefined => {
  try {
    const { kind } = JSON.parse(input ?? '{}') as { kind?: unknown };
    return kind === 'CANCELLATION' || kind === 'GIVE_UP' ? kind : undefined;
  } catch {
    return undefined;
  }
};

/** How many compensations one order may park in turn, each once the one before it has ended. */
const MAX_PARKINGS = 10;

/** The names an order's parked compensations take, in turn: the order id, then `<orderId>-2`, … */
export const compensationNames = (orderId: string): string[] =>
  Array.from({ length: MAX_PARKINGS }, (_, i) => (i === 0 ? orderId : `${orderId}-${i + 1}`));

/**
 * {@link CompensationParking} on Step Functions: one execution of the compensation state machine
 * (statemachines/compensation.asl.json, STANDARD, so it may wait for days) per parked compensation, named by the
 * order id, so a compensation that comes again while one waits finds it parked already instead of parking twice.
 *
 * A STANDARD name stays taken for 90 days after its execution ends. An order may need a second compensation after
 * the first ended (a give-up that lost its race to a confirmation parked one that found nothing to do; the order is
 * cancelled later), or beside one of another kind that still runs: that one is named `<orderId>-2`, and so on. Each
 * runs the whole compensation, which is idempotent, so one more than needed does nothing.
 */
export const stepFunctionsParking = ({
  client,
  stateMachineArn,
}: {
  client: Pick<SFNClient, 'send'>;
  stateMachineArn: string;
}): CompensationParking => ({
  async park({ orderId, correlationId, kind }) {
    for (const name of compensationNames(orderId)) {
      try {
        await client.send(
          new StartExecutionCommand({
            stateMachineArn,
            name,
            // When it was parked, so a second park's input differs: Step Functions answers a start with the same
            // name and the same input as a running execution with success, and only a different input with
            // ExecutionAlreadyExists, which is how a repeat is told from a first park.
            input: JSON.stringify({ orderId, correlationId, kind, parkedAt: new Date().toISOString() }),
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof ExecutionAlreadyExists)) throw error;
      }
      const { status, input } = await client.send(
        new DescribeExecutionCommand({ executionArn: executionArnOf(stateMachineArn, name) }),
      );
      // Parked already: this kind of compensation of the order waits there (one started by hand has no kind: it runs
      // the whole compensation, so it is taken as any kind).
      const waiting = status === 'RUNNING' || status === 'PENDING_REDRIVE';
      if (waiting && [kind, undefined].includes(kindOf(input))) return false;
    }
    throw new Error(`Order ${orderId} has parked ${MAX_PARKINGS} compensations already: look at them.`);
  },
});
