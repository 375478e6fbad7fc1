import { route } from '../../api/routes.js';
import { orderHistory } from '../../application/orders.js';
import { eventStore } from '../_shared/dependencies.js';
import { httpHandler, ok } from '../_shared/httpHandler.js';

export const handler = httpHandler(route('getOrderEvents'), async ({ params, caller }) =>
  ok({ events: await orderHistory({ orderId: params.orderId, caller }, eventStore()) }),
);
