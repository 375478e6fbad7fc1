import { SFNClient } from '@aws-sdk/client-sfn';
import type { CompensationParking } from '../application/saga.js';
import { compensationParking as stepFunctionsParking } from '../composition/root.js';
import { config } from './config.js';
import { tracer } from './observability/tracing.js';

let parking: CompensationParking | undefined;

/**
 * The compensation state machine (`COMPENSATION_ARN`), where a compensation's payment part waits out a gateway outage:
 * for a cancellation's compensation, the saga's give-up, and the sweeper's. Apart from dependencies.ts so that only
 * the functions that park bundle the Step Functions client.
 */
export const compensationParking = (): CompensationParking => {
  if (parking) return parking;
  const stateMachineArn = config().COMPENSATION_ARN;
  if (!stateMachineArn) throw new Error('COMPENSATION_ARN is not set');
  return (parking = stepFunctionsParking({ client: tracer().captureClient(new SFNClient({})), stateMachineArn }));
};
