import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../api/openapi.js';
import { type Route, routes as typedRoutes } from '../../../api/routes.js';
import { version } from '../../../api/version.js';

const routes: readonly Route[] = typedRoutes;
// As the document is served: JSON.
const document = JSON.parse(JSON.stringify(openApiDocument(version))) as {
  paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
};
const writes = routes.filter((route) => route.method === 'POST');

describe("a write's 503 advice", () => {
  it.each(writes.map((route) => [route.operationId, route] as const))(
    '%s: says how to send it again safely, by its Idempotency-Key or by why none is needed',
    (_, route) => {
      const advice = document.paths[route.path]?.post?.responses['503']?.description ?? '';
      const keyed = route.headers?.shape['idempotency-key'] !== undefined;
      // Every write is safe to send again one way or the other; none is left to "look before sending it again".
      expect(keyed || route.safeToResend !== undefined).toBe(true);
      expect(advice).toContain(
        keyed
          ? 'with the same `Idempotency-Key`: it takes effect once'
          : `Retry after \`Retry-After\`: ${route.safeToResend}`,
      );
      expect(advice).not.toContain('Look before');
    },
  );

  it('is given for every write: the registration, the stock moves, the new price and name, discontinuing, the order and its cancel', () => {
    expect(writes.map((route) => route.operationId).sort()).toEqual(
      [
        'cancelOrder',
        'discontinueProduct',
        'placeOrder',
        'registerProduct',
        'renameProduct',
        'repriceProduct',
        'restockProduct',
        'writeOffStock',
      ].sort(),
    );
  });
});
