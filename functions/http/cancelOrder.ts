import { route } from '../../api/routes.js';
import { cancelOrder } from '../../application/orders.js';
import { commandContext } from '../dependencies.js';
import { accepted, httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('cancelOrder'), async (request) => {
  const order = await cancelOrder({ orderId: request.params.orderId, caller: request.caller }, commandContext(request));
  return accepted(`/orders/${order.orderId}`, order);
});
