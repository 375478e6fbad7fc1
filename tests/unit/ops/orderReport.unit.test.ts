import { describe, expect, it } from 'vitest';
import { type OrderReport, type ReportedEvent, sagaSummary } from '../../../ops/orderReport.js';

const orderId = '00000000-0000-4000-8000-000000000001';
const event = (version: number, type: string, data: Record<string, unknown> = {}): ReportedEvent => ({
  streamId: `order-${orderId}`,
  version,
  type,
  recordedAt: '2026-12-01T12:00:00.000Z',
  correlationId: 'c-1',
  actor: 'alice',
  data: { orderId, ...data },
});

const report = (events: ReportedEvent[], stage = 'local'): OrderReport => ({
  orderId,
  stage,
  fromEvents: { status: 'REJECTED', version: events.length },
  events,
  view: undefined,
  viewParked: false,
  sagaParked: [],
  saga: {
    kind: 'not-started',
    stateMachineArn: 'arn:aws:states:eu-west-1:000000000000:stateMachine:orderflow-local-order-saga',
  },
  compensations: [],
  unread: [],
});

describe('the saga line of npm run order (sagaSummary)', () => {
  it('expects no saga for an order rejected out of stock when placed, which starts none', () => {
    const [status, detail] = sagaSummary(
      report([event(1, 'OrderPlaced'), event(2, 'OrderRejected', { reason: 'OUT_OF_STOCK' })]),
    );
    expect(status).toBe('NONE');
    expect(detail).toMatch(/^none expected: rejected OUT_OF_STOCK when placed/);
  });

  it("says a settled order's saga is not found, and why the local stand-in may not know it", () => {
    const declined = [
      event(1, 'OrderPlaced'),
      event(2, 'StockReserved'),
      event(3, 'OrderRejected', { reason: 'PAYMENT_DECLINED' }),
    ];
    expect(sagaSummary(report(declined))).toEqual([
      'NOT FOUND',
      'no execution named by this order id (the local stand-in forgets ended executions when npm start stops)',
    ]);
    expect(sagaSummary(report(declined, 'prod'))).toEqual(['NOT FOUND', 'no execution named by this order id']);
  });

  it('says a PENDING order with no saga has none started', () => {
    const pending = { ...report([event(1, 'OrderPlaced'), event(2, 'StockReserved')], 'prod') };
    pending.fromEvents = { status: 'PENDING', version: 2 };
    expect(sagaSummary(pending)).toEqual(['NOT STARTED', 'no execution named by this order id']);
  });

  it('says the saga of an order whose change startSaga parked was never started, even once the order is settled', () => {
    // Given up by the sweeper since: settled, with no execution, and not one whose record was forgotten.
    const swept = report([event(1, 'OrderPlaced'), event(2, 'StockReserved'), event(3, 'OrderRejected')]);
    swept.sagaParked = ['startSaga'];
    expect(sagaSummary(swept)).toEqual([
      'NOT STARTED',
      'startSaga parked its change (below): no saga was started for it',
    ]);
  });
});
