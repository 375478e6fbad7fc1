import { route } from '../../api/routes.js';
import { cancelOrder } from '../../application/orders.js';
import { cancellationWindowMs } from '../config.js';
import { commandContext } from '../dependencies.js';
import { accepted, httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('cancelOrder'), async (request) => {
  const window = cancellationWindowMs();
  const order = await cancelOrder(
    {
      orderId: request.params.orderId,
      caller: request.caller,
      ...(window === undefined ? {} : { cancellationWindowMs: window }),
    },
    commandContext(request),
  );
  return accepted(`/orders/${order.orderId}`, order);
});
