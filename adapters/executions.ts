/**
 * The ARN of a STANDARD execution, from its state machine's ARN and its name (a name is unique per state machine), so
 * it can be described without listing: the order saga's and the parked compensations', named by their order.
 */
export const executionArnOf = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
