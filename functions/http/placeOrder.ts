import { route } from '../../api/routes.js';
import { placeOrder } from '../../application/orders.js';
import { commandContext } from '../dependencies.js';
import { accepted, httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('placeOrder'), async (request) => {
  const { body, headers, caller } = request;
  const order = await placeOrder(
    {
      customerId: caller.sub,
      items: body.items,
      paymentToken: body.payment.token,
      ...(headers['idempotency-key'] ? { idempotencyKey: headers['idempotency-key'] } : {}),
    },
    commandContext(request),
  );
  return accepted(`/orders/${order.orderId}`, order);
});
