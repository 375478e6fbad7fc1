import { route } from '../../api/routes.js';
import { orderHistory } from '../../application/orders.js';
import { eventStore } from '../dependencies.js';
import { httpHandler, ok } from './httpHandler.js';

export const handler = httpHandler(route('getOrderEvents'), async ({ params, caller }) =>
  ok({ events: await orderHistory({ orderId: params.orderId, caller }, eventStore()) }),
);
