import { createHash } from 'node:crypto';
import { route } from '../../api/routes.js';
import { listOrders } from '../../application/queries.js';
import { readModels } from '../dependencies.js';
import { etagOf, httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('listOrders'), async ({ query, caller, conditional }) => {
  const page = await listOrders(
    {
      caller,
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
      ...(query.customerId ? { customerId: query.customerId } : {}),
    },
    readModels(),
  );
  const body = {
    orders: page.orders.map(({ view, version }) => ({ ...view, version })),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
  // The page changes exactly when one of its orders does, the page boundary moves, or another version of the read
  // model answers.
  const versions = page.orders.map(({ view, version }) => `${view.orderId}@${version}`).join(',');
  return conditional(
    etagOf(
      createHash('sha256')
        .update(`${versions}|${page.nextCursor ?? ''}|${page.readModel ?? ''}`)
        .digest('base64url')
        .slice(0, 22),
    ),
    body,
  );
});
