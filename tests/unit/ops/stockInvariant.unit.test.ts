import { describe, expect, it } from 'vitest';
import type { DomainEvent, StoredEvent } from '../../../eventstore/types.js';
import { foldedStreams, keyClaimsInvariant, stockInvariant } from '../../../ops/invariants.js';
import { oneUnitPlaced } from '../../support/orderEvents.js';
import { eventSchemas } from '../../../composition/schemas.js';

/**
 * The invariants' stock check (ops/invariants.ts) over streams made by hand: a SKU with one unit, sold to order A,
 * given back by A's cancellation, and sold again to order B. The check must not depend on the order in which a scan
 * happens to return the streams.
 */
const sku = 'MUG-1';
const price = { amount: 1000, currency: 'EUR' };

const stream = (streamId: string, events: DomainEvent[]): [string, StoredEvent[]] => [
  streamId,
  events.map((event, i) => ({
    ...event,
    streamId,
    version: i + 1,
    eventId: `${streamId}-${i + 1}`,
    schemaVersion: eventSchemas.currentVersion(event.type),
    recordedAt: '2026-11-30T00:00:00.000Z',
    metadata: { correlationId: 'c', causationId: 'c', commandId: 'c', actor: 'test' },
  })),
];

const confirmedOrder = (orderId: string, then: DomainEvent[] = []) =>
  stream(`order-${orderId}`, [
    ...oneUnitPlaced(orderId, sku, price),
    { type: 'OrderConfirmed', data: { orderId } },
    ...then,
  ]);

const product = stream(`product-${sku}`, [
  { type: 'ProductRegistered', data: { sku, name: 'Mug', unitPrice: price, initialStock: 1 } },
]);
const cancelled = confirmedOrder('a', [
  { type: 'OrderCancelled', data: { orderId: 'a', previousStatus: 'CONFIRMED' } },
]);
const confirmed = confirmedOrder('b');
const balance = (counts: { available: number; reserved: number; sold: number }) => ({
  streamId: `stock-${sku}`,
  ...counts,
});

describe('the stock invariant', () => {
  it.each([
    ['the cancelled order read first', [product, cancelled, confirmed]],
    ['the order that bought its unit again read first', [product, confirmed, cancelled]],
    ['the product read last', [confirmed, cancelled, product]],
  ] as const)('holds whatever the order streams are read in: %s', (_, streams) => {
    const result = stockInvariant(foldedStreams(new Map(streams)), [balance({ available: 0, reserved: 0, sold: 1 })]);
    expect(result).toMatchObject({ checked: 1, violations: [] });
  });

  it('names a balance that is not the sum of its moves', () => {
    const result = stockInvariant(foldedStreams(new Map([product, cancelled, confirmed])), [
      balance({ available: 1, reserved: 0, sold: 0 }),
    ]);
    expect(result.violations).toEqual([
      `${sku}: balance {"available":1,"reserved":0,"sold":0} ≠ its events' moves {"available":0,"reserved":0,"sold":1}`,
    ]);
  });

  it('names moves that sum below zero: a unit sold twice', () => {
    const twice = confirmedOrder('c');
    const result = stockInvariant(foldedStreams(new Map([product, confirmed, twice])), [
      balance({ available: -1, reserved: 0, sold: 2 }),
    ]);
    expect(result.violations).toEqual([
      `${sku}: its events' moves sum below zero: {"available":-1,"reserved":0,"sold":2}`,
    ]);
  });
});

describe('the streams the invariants fold', () => {
  it('leave out a stream holding an event this code cannot read, and name it, instead of ending the whole check', () => {
    const newer = confirmedOrder('c', [{ type: 'OrderGiftWrapped', data: { orderId: 'c' } }]);
    const { orders, unreadable } = foldedStreams(new Map([product, confirmed, newer]));
    expect([...orders.keys()]).toEqual(['b']);
    expect(unreadable).toEqual([
      expect.stringMatching(/^order-c: Event order-c@4 \(schema version 1\) does not match its schema\. type: .+/),
    ]);
  });
});

describe('the stock invariant with a write-off', () => {
  const writtenOff = stream(`product-${sku}`, [
    { type: 'ProductRegistered', data: { sku, name: 'Mug', unitPrice: price, initialStock: 5 } },
    { type: 'StockWrittenOff', data: { sku, quantity: 2 } },
  ]);

  it('holds when the balance is what was supplied less what was written off', () => {
    const result = stockInvariant(foldedStreams(new Map([writtenOff])), [
      balance({ available: 3, reserved: 0, sold: 0 }),
    ]);
    expect(result).toMatchObject({ checked: 1, violations: [] });
  });

  it('names a balance that still counts the units written off', () => {
    const result = stockInvariant(foldedStreams(new Map([writtenOff])), [
      balance({ available: 5, reserved: 0, sold: 0 }),
    ]);
    expect(result.violations).toEqual([expect.stringMatching(/^MUG-1: balance .* ≠ its events' moves/)]);
  });
});

describe('the key claims invariant (ADR 0024, 0025)', () => {
  const keyed = (moves: DomainEvent[]) =>
    foldedStreams(
      new Map([
        stream(`product-${sku}`, [
          { type: 'ProductRegistered', data: { sku, name: 'Mug', unitPrice: price, initialStock: 5 } },
          ...moves,
        ]),
      ]),
    );
  const restock = (quantity: number, restockId?: string): DomainEvent => ({
    type: 'ProductRestocked',
    data: { sku, quantity, ...(restockId ? { restockId } : {}) },
  });
  const writeOff = (quantity: number, writeOffId: string): DomainEvent => ({
    type: 'StockWrittenOff',
    data: { sku, quantity, writeOffId },
  });
  const claim = (id: string, quantity: number) => ({ streamId: id, quantity });
  const restockClaim = claim(`restockKey-${sku}/po-1`, 10);
  const claims = [restockClaim, claim(`writeOffKey-${sku}/count-1`, 2)];

  it('holds when each key moved the stock once and each claim records its move; an unkeyed restock claims nothing', () => {
    const skus = keyed([restock(10, 'po-1'), restock(3), writeOff(2, 'count-1')]);
    // A balance beside the claims is not a claim.
    const result = keyClaimsInvariant(skus, [...claims, balance({ available: 16, reserved: 0, sold: 0 })]);
    expect(result).toMatchObject({ checked: 4, violations: [] });
  });

  it('holds for a keyed move recorded before claims were taken, which has none', () => {
    expect(keyClaimsInvariant(keyed([restock(10, 'po-1')]), [])).toMatchObject({ checked: 1, violations: [] });
  });

  it('names a key that moved the stock twice', () => {
    const result = keyClaimsInvariant(keyed([restock(10, 'po-1'), restock(10, 'po-1')]), [restockClaim]);
    expect(result.violations).toEqual([`restockKey-${sku}/po-1: the key was recorded more than once`]);
  });

  it('holds a keyed new price to its claim of amount and currency, and names one whose currency differs', () => {
    const repriced = (amount: number, currency: string, repriceId?: string): DomainEvent => ({
      type: 'ProductRepriced',
      data: { sku, unitPrice: { amount, currency }, ...(repriceId ? { repriceId } : {}) },
    });
    const skus = keyed([repriced(900, 'EUR', 'list-1'), repriced(800, 'EUR')]);
    const held = { streamId: `repriceKey-${sku}/list-1`, amount: 900, currency: 'EUR' };
    expect(keyClaimsInvariant(skus, [held])).toMatchObject({ checked: 2, violations: [] });
    expect(keyClaimsInvariant(skus, [{ ...held, currency: 'USD' }]).violations).toEqual([
      `claim repriceKey-${sku}/list-1 holds {"amount":900,"currency":"USD"}, its event {"amount":900,"currency":"EUR"}`,
    ]);
  });

  it('names a claim with no move, and one whose quantity is not its move’s', () => {
    const result = keyClaimsInvariant(keyed([restock(7, 'po-1')]), claims);
    expect(result.violations).toEqual([
      `claim restockKey-${sku}/po-1 holds {"quantity":10}, its event {"quantity":7}`,
      `claim writeOffKey-${sku}/count-1 has no keyed event of its SKU`,
    ]);
  });
});
