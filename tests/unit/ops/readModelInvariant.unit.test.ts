import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../../domain/order/index.js';
import type { StoredEvent } from '../../../eventstore/types.js';
import { checkReadModel, describeInvariants } from '../../../ops/invariants.js';
import { ordersProjection } from '../../../projections/orders.js';
import { orderPlaced } from '../../support/orderEvents.js';
import { stored } from '../projections/givenView.js';

const placed = orderPlaced;

describe('the read model invariant', () => {
  it('names a stream its projection cannot fold (a parked one) as a violation, and still checks the others', () => {
    const [healthy, poisoned] = ['o-healthy', 'o-poisoned'];
    const streams = new Map<string, StoredEvent[]>([
      [`order-${poisoned}`, stored(`order-${poisoned}`, [placed(poisoned), placed(poisoned)])],
      [`order-${healthy}`, stored(`order-${healthy}`, [placed(healthy)])],
    ]);
    const view = ordersProjection.evolve(
      undefined,
      stored(`order-${healthy}`, [placed(healthy)])[0] as StoredEvent<OrderEvent>,
    );
    const views = new Map<string, Record<string, unknown>>([
      [healthy, { ...JSON.parse(JSON.stringify(view)), version: 1 }],
    ]);

    const result = checkReadModel(ordersProjection, streams, [...views.values()]);

    expect(result.checked).toBe(2);
    expect(result.violations).toEqual([
      expect.stringMatching(/^order-o-poisoned: the orders projection cannot fold it \(parked until redriven\): /),
    ]);
  });

  it('names a view that is missing, behind its stream, or unlike a fresh fold, and passes one that is right', () => {
    const ids = ['o-right', 'o-missing', 'o-behind', 'o-differs'];
    const streams = new Map(
      ids.map((id) => [
        `order-${id}`,
        stored(`order-${id}`, [
          placed(id),
          { type: 'OrderCancelled', data: { orderId: id, previousStatus: 'PENDING' } },
        ]),
      ]),
    );
    const folded = (id: string, upTo: number) =>
      (streams.get(`order-${id}`) ?? [])
        .slice(0, upTo)
        .reduce<ReturnType<typeof ordersProjection.evolve> | undefined>(
          (view, event) => ordersProjection.evolve(view, event as StoredEvent<OrderEvent>),
          undefined,
        );
    const asItem = (id: string, upTo: number) => ({ ...JSON.parse(JSON.stringify(folded(id, upTo))), version: upTo });
    const views = new Map<string, Record<string, unknown>>([
      ['o-right', asItem('o-right', 2)],
      ['o-behind', asItem('o-behind', 1)],
      ['o-differs', { ...asItem('o-differs', 2), status: 'CONFIRMED' }],
    ]);

    const result = checkReadModel(ordersProjection, streams, [...views.values()]);

    expect(result.checked).toBe(4);
    expect(result.violations).toEqual([
      'order-o-missing: no view in the orders read model',
      'order-o-behind: view at version 1, stream at 2',
      expect.stringMatching(/^order-o-differs: view differs from a fresh fold: .*"status":"CONFIRMED"/),
    ]);
  });
});

describe('the invariants as npm run invariants and npm run chaos print them', () => {
  it('says each one ok or FAIL with how many it checked, and the first violations of a broken one', () => {
    const lines = describeInvariants(
      [
        { name: 'every order has settled', checked: 3, violations: [] },
        { name: 'stock is conserved', checked: 2, violations: ['MUG-1: 1 unit lost', 'TEA-9: 2 units lost'] },
      ],
      1,
    );
    expect(
      describeInvariants([{ name: 'stock is conserved', checked: 0, violations: [], skipped: 'not read' }]),
    ).toEqual(['  skip stock is conserved (not read)']);
    expect(lines).toEqual([
      '  ok   every order has settled (3 checked)',
      '  FAIL stock is conserved (2 checked, 2 broken)',
      '         MUG-1: 1 unit lost',
    ]);
  });
});
