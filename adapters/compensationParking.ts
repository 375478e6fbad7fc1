import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { CompensationParking } from '../application/saga.js';

/**
 * {@link CompensationParking} on Step Functions: one execution of the compensation state machine
 * (statemachines/compensation.asl.json, STANDARD, so it may wait for days) per parked order, named by the order id,
 * so a cancellation delivered again finds it parked already instead of parking it twice.
 */
export const stepFunctionsParking = ({
  client,
  stateMachineArn,
}: {
  client: SFNClient;
  stateMachineArn: string;
}): CompensationParking => ({
  async park({ orderId, correlationId }) {
    try {
      await client.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: orderId,
          // When it was parked, so a second park's input differs: Step Functions answers a start with the same name
          // and the same input as a running execution with success, and only a different input with
          // ExecutionAlreadyExists, which is how a repeat is told from a first park.
          input: JSON.stringify({ orderId, correlationId, parkedAt: new Date().toISOString() }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return false;
      throw error;
    }
  },
});
