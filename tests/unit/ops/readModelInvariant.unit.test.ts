import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../../domain/order/index.js';
import type { StoredEvent } from '../../../eventstore/types.js';
import { checkReadModel } from '../../../ops/invariants.js';
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

    const result = checkReadModel(ordersProjection, streams, views, (streamId) => streamId.slice('order-'.length));

    expect(result.checked).toBe(2);
    expect(result.violations).toEqual([
      expect.stringMatching(/^order-o-poisoned: the orders projection cannot fold it \(parked until redriven\): /),
    ]);
  });
});
