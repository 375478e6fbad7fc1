import { describe, expect, it } from 'vitest';
import { eventItems, itemEvents, storedItemEvents } from '../../../eventstore/eventItems.js';
import type { StoredEvent } from '../../../eventstore/types.js';
import { eventSchemaRegistry, upcastItem } from '../../../eventstore/upcasting.js';

const metadata = { correlationId: 'c', causationId: 'cause', commandId: 'command', actor: 'test' };
const stored = (streamId: string, version: number, type: string, data: Record<string, unknown> = {}): StoredEvent => ({
  streamId,
  version,
  eventId: `${streamId}-${version}`,
  type,
  data,
  schemaVersion: 1,
  recordedAt: '2026-11-30T06:00:00.000Z',
  metadata,
});

describe('event items: one per stream and append (ADR 0016)', () => {
  const placement = [
    stored('order-1', 1, 'OrderPlaced', { orderId: '1' }),
    stored('order-1', 2, 'StockReserved', { orderId: '1', lines: [] }),
  ];

  it("puts one stream's events in one item keyed by the first, and each other stream in its own", () => {
    const items = eventItems([...placement, stored('order-2', 4, 'OrderConfirmed')]);
    expect(items).toEqual([
      {
        ...placement[0],
        following: [
          { eventId: 'order-1-2', type: 'StockReserved', data: { orderId: '1', lines: [] }, schemaVersion: 1 },
        ],
      },
      stored('order-2', 4, 'OrderConfirmed'),
    ]);
  });

  it('keeps two streams apart even where the second one’s version follows on from the first one’s', () => {
    // An order at version 1 and its payment stream at version 2, in one append: two items, never one.
    const events = [stored('order-1', 1, 'OrderPlaced'), stored('payment-1', 2, 'PaymentAuthorized')];
    expect(eventItems(events)).toEqual(events);
  });

  it('gives back the events it was made of, with their versions', () => {
    const events = [...placement, stored('order-2', 4, 'OrderConfirmed')];
    expect(eventItems(events).flatMap(storedItemEvents)).toEqual(events);
  });

  it('starts a new item where the versions of one stream do not follow on', () => {
    expect(eventItems([stored('s', 1, 'A'), stored('s', 3, 'B')])).toHaveLength(2);
  });

  it('brings each event of an item to its current schema', () => {
    const schemas = eventSchemaRegistry({ StockReserved: { 1: (data) => ({ ...data, upcast: true }) } });
    const [item] = eventItems(placement);
    if (!item) throw new Error('no item');
    const [placed, reserved] = itemEvents(item, schemas);
    expect(placed?.data).toEqual({ orderId: '1' });
    expect(reserved).toMatchObject({ version: 2, schemaVersion: 2, data: { orderId: '1', lines: [], upcast: true } });
  });

  it('names the upcasters a snapshot was folded under the same, in whatever order they were registered', () => {
    const step = (data: Record<string, unknown>) => data;
    expect(eventSchemaRegistry({ B: { 1: step }, A: { 1: step, 2: step } }).fingerprint).toBe('A@3,B@2');
    expect(eventSchemaRegistry({ A: { 1: step, 2: step }, B: { 1: step } }).fingerprint).toBe('A@3,B@2');
    expect(eventSchemaRegistry().fingerprint).toBe('');
  });

  it('leaves an event a newer release wrote as it was written, its version included, and marks it for its readers', () => {
    const newer = { ...stored('order-1', 1, 'OrderPlaced', { orderId: '1', giftWrap: true }), schemaVersion: 3 };
    expect(
      upcastItem(newer, eventSchemaRegistry({ OrderPlaced: { 1: (data) => ({ ...data, channel: 'x' }) } })),
    ).toEqual({ ...newer, newerSchema: true });
  });
});
