import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { stepFunctionsParking } from '../../../adapters/compensationParking.js';

const stateMachineArn = 'arn:aws:states:eu-west-1:000000000000:stateMachine:orderflow-unit-compensation';

/** Step Functions as a STANDARD machine answers: a name is taken while its execution runs, and after it ends. */
const stepFunctions = () => {
  const executions = new Map<string, { status: string; input: string }>();
  const client: Pick<SFNClient, 'send'> = {
    send: (async (command: unknown) => {
      if (command instanceof StartExecutionCommand) {
        const name = String(command.input.name);
        if (executions.has(name)) {
          throw new ExecutionAlreadyExists({ message: `Execution Already Exists: ${name}`, $metadata: {} });
        }
        executions.set(name, { status: 'RUNNING', input: String(command.input.input) });
        return { executionArn: `…:${name}` };
      }
      if (command instanceof DescribeExecutionCommand) {
        const name = String(command.input.executionArn).split(':').at(-1) ?? '';
        expect(command.input.executionArn).toBe(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`);
        const found = executions.get(name);
        return { status: found?.status, input: found?.input };
      }
      throw new Error('unexpected command');
    }) as SFNClient['send'],
  };
  return { client, executions };
};

describe('stepFunctionsParking', () => {
  it('parks once per order while its compensation waits: the same compensation again finds it parked', async () => {
    const { client, executions } = stepFunctions();
    const parking = stepFunctionsParking({ client, stateMachineArn });
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'CANCELLATION' })).toBe(true);
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'CANCELLATION' })).toBe(false);
    expect([...executions.keys()]).toEqual(['o-1']);
    expect(JSON.parse(executions.get('o-1')?.input ?? '{}')).toMatchObject({
      orderId: 'o-1',
      correlationId: 'c-1',
      kind: 'CANCELLATION',
    });
  });

  it('parks a new compensation under the next name once the one before it has ended', async () => {
    const { client, executions } = stepFunctions();
    const parking = stepFunctionsParking({ client, stateMachineArn });
    await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'CANCELLATION' });
    // A give-up's parked void found the order CONFIRMED and ended; later the order is cancelled in an outage.
    executions.set('o-1', { input: JSON.stringify({ kind: 'GIVE_UP' }), status: 'SUCCEEDED' });
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'CANCELLATION' })).toBe(true);
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'CANCELLATION' })).toBe(false);
    executions.set('o-1-2', { input: '{}', status: 'FAILED' });
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'CANCELLATION' })).toBe(true);
    expect([...executions.keys()]).toEqual(['o-1', 'o-1-2', 'o-1-3']);
  });

  it('parks a cancellation beside a give-up’s void that still runs: that one may end with nothing to do', async () => {
    const { client, executions } = stepFunctions();
    const parking = stepFunctionsParking({ client, stateMachineArn });
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'GIVE_UP' })).toBe(true);
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'GIVE_UP' })).toBe(false);
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'CANCELLATION' })).toBe(true);
    expect(await parking.park({ orderId: 'o-1', correlationId: 'c-1', kind: 'CANCELLATION' })).toBe(false);
    expect([...executions.keys()]).toEqual(['o-1', 'o-1-2']);
    // One started by hand says no kind: it runs the whole compensation, so any kind finds it parked.
    executions.set('o-2', { input: JSON.stringify({ orderId: 'o-2', correlationId: 'c-2' }), status: 'RUNNING' });
    expect(await parking.park({ orderId: 'o-2', correlationId: 'c-2', kind: 'CANCELLATION' })).toBe(false);
  });
});
