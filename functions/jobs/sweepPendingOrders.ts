import { randomUUID } from 'node:crypto';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { sagaExecutions } from '../../composition/root.js';
import type { CommandContext } from '../../application/handleCommand.js';
import { voidParked } from '../../application/saga.js';
import { sweepPendingOrders } from '../../application/sweeper.js';
import { orderStreamId } from '../../domain/order/index.js';
import { compensationParking } from '../compensationParking.js';
import { config } from '../config.js';
import { eventStore, paymentGateway, services } from '../dependencies.js';
import { baseLogger } from '../observability/log.js';
import { metrics } from '../observability/metrics.js';
import { observedStore, onConflict, telemetry } from '../observability/telemetry.js';
import { tracer } from '../observability/tracing.js';

/**
 * What invokes it: EventBridge's scheduled event (whose fields are ignored), or a person or test sweeping now, who
 * may set the threshold (`pendingAfterSeconds`, 0 for every PENDING order whose saga is not running).
 */
const Input = z.looseObject({ pendingAfterSeconds: z.int().min(0).optional() });

/** Orders one sweep takes, at most (its report and log lines stay bounded): the rest wait for the next one. */
const LIMIT = 5_000;
/** Orders given up at once: a few DynamoDB requests each, a gateway call, and on STANDARD a DescribeExecution. */
const CONCURRENCY = 4;
/**
 * A sweep takes no new order once less than this is left of its invocation (120 s), so the orders it has started
 * finish: each is a few seconds at worst, the gateway's calls bounded by their timeouts.
 */
const TIME_LEFT_MS = 30_000;

let sfn: SFNClient | undefined;

/** The sweep's outcome per action, and the orders it touched. */
export type SweepReport = {
  found: number;
  /** It stopped with more orders to take, out of time or at its limit: the next sweep takes them. */
  cutShort: boolean;
  counts: Record<string, number>;
  orders: { orderId: string; action: string }[];
};

/**
 * The sweeper (serverless.yml's schedule, every `sweepRate`): settles the orders left PENDING for longer than
 * `SWEEP_PENDING_AFTER_SECONDS` whose saga is not running (application/sweeper.ts). Each order it gives up, or fails
 * to, is counted in `OrdersSwept` (alarmed: docs/operations.md, "Swept orders") and logged with its order and
 * correlation id.
 */
export const handler = middy<unknown, SweepReport, Error, Context>()
  .use(telemetry())
  .handler(async (event, lambdaContext) => {
    const input = Input.parse(event ?? {});
    const { ORDER_SAGA_ARN, SAGA_TYPE, SWEEP_PENDING_AFTER_SECONDS } = config();
    if (!ORDER_SAGA_ARN) throw new Error('ORDER_SAGA_ARN is not set');
    const pendingAfterSeconds = input.pendingAfterSeconds ?? SWEEP_PENDING_AFTER_SECONDS ?? 900;
    const logger = baseLogger().child({ function: lambdaContext.functionName, job: 'sweep', pendingAfterSeconds });
    // Adaptive: a backlog on a STANDARD stage describes executions faster than DescribeExecution's refill (15 a
    // second); the client then slows itself to what is allowed instead of failing orders with throttling errors.
    sfn ??= tracer().captureClient(new SFNClient({ retryMode: 'adaptive' }));
    const store = eventStore();
    const correlations = new Map<string, string>();
    const contextFor = async (orderId: string): Promise<CommandContext> => {
      const [placed] = await store.readStream(orderStreamId(orderId), { toVersion: 1 });
      const correlationId = placed?.metadata.correlationId ?? randomUUID();
      correlations.set(orderId, correlationId);
      const orderLogger = logger.child({ orderId, correlationId });
      return {
        store: observedStore(store),
        metadata: {
          correlationId,
          causationId: `sweep-${lambdaContext.awsRequestId}`,
          commandId: randomUUID(),
          actor: 'sweeper',
        },
        onConflict: onConflict(orderLogger, 'sweeper lost a race; retrying'),
      };
    };
    const { swept, cutShort, readError } = await sweepPendingOrders({
      now: new Date(),
      pendingAfterMs: pendingAfterSeconds * 1000,
      limit: LIMIT,
      concurrency: CONCURRENCY,
      hasTime: () => lambdaContext.getRemainingTimeInMillis() > TIME_LEFT_MS,
      pending: await services().pendingOrders(),
      executions: sagaExecutions({
        client: sfn,
        stateMachineArn: ORDER_SAGA_ARN,
        type: SAGA_TYPE ?? 'STANDARD',
      }),
      contextFor,
      gateway: paymentGateway(logger),
      parking: compensationParking(),
    });
    const counts: Record<string, number> = {};
    for (const order of swept) {
      counts[order.action] = (counts[order.action] ?? 0) + 1;
      const fields = { orderId: order.orderId, correlationId: correlations.get(order.orderId), action: order.action };
      if (order.action === 'ABANDONED') {
        // A void left to the parked one, the gateway being unavailable.
        if (order.abandonment.payment === 'PARKED') metrics().add('CompensationsParked', 1);
        metrics().add('OrdersSwept', 1, { outcome: 'ABANDONED' });
        logger.warn('order left PENDING given up: payment undone or parked, stock given back, rejected UNAVAILABLE', {
          ...fields,
          // `payment…` keys are redacted in logs: say what happened to it under another name.
          refunded: order.abandonment.payment === 'REFUNDED',
          parked: voidParked(order.abandonment),
        });
      } else if (order.action === 'FAILED') {
        metrics().add('OrdersSwept', 1, { outcome: 'FAILED' });
        logger.error('could not settle an order left PENDING; the next sweep tries again', {
          ...fields,
          error: order.error,
        });
      } else if (order.action === 'ALREADY_SETTLED') {
        // Settled by its saga or its customer while the sweep gave it up: that one keeps or gives back its payment.
        logger.info('order settled by someone else while the sweeper gave it up; its payment is theirs', fields);
      } else logger.info('order left PENDING needs nothing from the sweeper', fields);
    }
    if (readError !== undefined) {
      // After the lines of the orders it did settle: the invocation fails, for its errors alarm and the next sweep.
      logger.error('sweep stopped: the pending orders could not be read further', {
        found: swept.length,
        ...counts,
        error: readError,
      });
      throw readError;
    }
    if (cutShort) {
      logger.warn('sweep cut short with orders left PENDING to take: the next sweep takes them', {
        found: swept.length,
        ...counts,
      });
    } else logger.info('sweep finished', { found: swept.length, ...counts });
    return {
      found: swept.length,
      cutShort,
      counts,
      orders: swept.map(({ orderId, action }) => ({ orderId, action })),
    };
  });
