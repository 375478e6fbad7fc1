import { route } from '../../api/routes.js';
import { cancellableUntil, listOrders } from '../../application/queries.js';
import { cancellationWindowMs } from '../config.js';
import { readModels } from '../dependencies.js';
import { pageEtagOf } from './etags.js';
import { httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('listOrders'), async ({ query, caller, conditional }) => {
  const page = await listOrders(
    {
      caller,
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
      ...(query.customerId ? { customerId: query.customerId } : {}),
      ...(query.status ? { statuses: query.status } : {}),
      ...(query.placedFrom ? { placedFrom: new Date(query.placedFrom) } : {}),
      ...(query.placedBefore ? { placedBefore: new Date(query.placedBefore) } : {}),
    },
    readModels(),
  );
  const body = {
    orders: page.orders.map(({ view, version }) => ({
      ...view,
      version,
      ...cancellableUntil(view, cancellationWindowMs()),
    })),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
  return conditional(
    pageEtagOf({ ...page, items: page.orders.map(({ view, version }) => `${view.orderId}@${version}`) }),
    body,
  );
});
