import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadServerlessConfig } from '../../local/serverlessConfig.js';
import { stackEnvironment } from '../../local/environment.js';
import { placeOrder } from '../../application/orders.js';
import { registerProduct } from '../../application/products.js';
import { dropReadModelVersion, rollbackReadModel } from '../../projections/replay/rebuildJob.js';
import { stageClients, type StageClients } from '../../ops/stage.js';
import { keepEnvironment } from '../support/environment.js';

/** A Lambda context with the time left that the worker checks before each page. */
const lambdaContext = {
  functionName: 'orderflow-test-replaySegment',
  getRemainingTimeInMillis: () => 900_000,
} as Context;

let clients: StageClients;
let restore: () => void;
let handler: (event: unknown, context: Context) => Promise<unknown>;

beforeAll(async () => {
  restore = keepEnvironment();
  const endpoint = inject('dynamoEndpoint');
  Object.assign(process.env, stackEnvironment(await loadServerlessConfig('test'), { dynamodb: endpoint }));
  clients = await stageClients('test', { dynamoEndpoint: endpoint });
  ({ handler } = await import('../../functions/jobs/replaySegment.js'));
});

afterAll(() => restore());

describe('the replay job on AWS: its worker runs the blue-green rebuild phase by phase', () => {
  it('begins, scans each segment, checks and switches as the state machine asks, answering what it reads next', async () => {
    // A product and orders of its own, whatever ran before: the parity check needs streams to draw.
    const context = {
      store: clients.store,
      metadata: { correlationId: 'job-1', causationId: 'job-1', commandId: 'job-1', actor: 'test' },
    };
    const sku = `JOB-${Date.now()}`;
    await registerProduct({ sku, name: 'Job', price: { amount: 100, currency: 'EUR' }, stock: 100 }, context);
    for (let i = 0; i < 10; i++) {
      await placeOrder(
        { customerId: 'job-customer', items: [{ sku, quantity: 1 }], paymentToken: 'tok_visa' },
        context,
      );
    }
    const before = await clients.pointers.get('products');
    expect(before.building).toBeUndefined();
    const runId = `job-${Date.now()}`;
    const call = (payload: Record<string, unknown>) => handler(payload, lambdaContext);

    // RebuildBegin: its answer is the plan ($.begun: runId, slot, totalSegments).
    const begun = (await call({ action: 'rebuildBegin', projection: 'products', runId, totalSegments: 2 })) as {
      runId: string;
      slot: string;
      totalSegments: number;
    };
    expect(begun).toMatchObject({ runId, totalSegments: 2 });
    expect(begun.slot).not.toBe(before.live.slot);
    // Its own execution, redriven, begins again on the same build; another execution is refused while it runs.
    expect(await call({ action: 'rebuildBegin', projection: 'products', runId, totalSegments: 2 })).toEqual({
      ...begun,
      resumed: true,
    });
    await expect(
      call({ action: 'rebuildBegin', projection: 'products', runId: `${runId}-other`, totalSegments: 2 }),
    ).rejects.toThrow(/is already being built/);

    // RebuildSegment, once per segment, until each answers done ($.progress.done).
    for (let segment = 0; segment < begun.totalSegments; segment++) {
      let progress: { done: boolean; events: number };
      do {
        progress = (await call({ action: 'rebuildSegment', projection: 'products', ...begun, segment })) as {
          done: boolean;
          events: number;
        };
      } while (!progress.done);
    }

    // RebuildCheck: catch-up and parity, answering what its ResultSelector reads ($.checked).
    const checked = (await call({
      action: 'rebuildCheck',
      projection: 'products',
      runId,
      slot: begun.slot,
      sample: 50,
    })) as Record<string, unknown>;
    expect(checked).toMatchObject({ mismatches: 0, version: before.lastVersion + 1 });
    expect(checked.sampled).toBeGreaterThan(0);
    expect(typeof checked.caughtUp).toBe('number');

    // RebuildSwitch: readers move to the new version.
    const switched = (await call({ action: 'rebuildSwitch', projection: 'products' })) as { live: unknown };
    expect(switched.live).toMatchObject({ slot: begun.slot, version: before.lastVersion + 1 });
    expect((await clients.pointers.get('products')).live.slot).toBe(begun.slot);

    // Back as it was for the files after this one: the old version live again, the new one dropped.
    await rollbackReadModel(clients, 'products');
    await dropReadModelVersion(clients, 'products', 'finalize');
    expect((await clients.pointers.get('products')).live.slot).toBe(before.live.slot);
  });

  it('refuses an action it does not know', async () => {
    await expect(handler({ action: 'rebuildEverything', projection: 'products' }, lambdaContext)).rejects.toThrow();
  });
});
