import { describe, expect, it } from 'vitest';
import { circuitObserver } from '../../../functions/dependencies.js';
import { createLogger } from '../../../functions/observability/logger.js';

describe("the payment circuit's lines", () => {
  it('are written by the logger of the invocation whose call moved the circuit: its function and order', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      fields: { stage: 'test' },
      sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    }).child({ function: 'orderflow-test-authorizePayment', orderId: 'o-1', correlationId: 'c-1' });
    const observer = circuitObserver(logger);
    // Asked again for the same invocation, the same observer: the gateway behind it is not built twice.
    expect(circuitObserver(logger)).toBe(observer);

    observer.transition?.({ circuit: 'payment-gateway', from: 'CLOSED', to: 'OPEN', openForMs: 0 });
    // A failed probe reopens it: the same outage, so no second warning.
    observer.transition?.({ circuit: 'payment-gateway', from: 'HALF_OPEN', to: 'OPEN', openForMs: 16_000 });
    observer.transition?.({ circuit: 'payment-gateway', from: 'HALF_OPEN', to: 'CLOSED', openForMs: 31_000 });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'circuit opened: calls to the payment gateway fail fast',
        function: 'orderflow-test-authorizePayment',
        orderId: 'o-1',
        correlationId: 'c-1',
        from: 'CLOSED',
        to: 'OPEN',
      }),
      expect.objectContaining({ level: 'info', message: 'circuit opened again: the probe failed', from: 'HALF_OPEN' }),
      expect.objectContaining({ level: 'info', message: 'circuit closed', orderId: 'o-1', openForMs: 31_000 }),
    ]);
  });
});
