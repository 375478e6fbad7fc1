import { route } from '../../api/routes.js';
import { orderHistory } from '../../application/orderHistory.js';
import { eventStore } from '../dependencies.js';
import { etagOf } from './etags.js';
import { httpHandler } from './httpHandler.js';

// Events are only ever appended, so the last one's version names the whole history: its ETag.
export const handler = httpHandler(route('getOrderEvents'), async ({ params, caller, conditional }) => {
  const events = await orderHistory({ orderId: params.orderId, caller }, eventStore());
  return conditional(etagOf(events.at(-1)?.version ?? 0), { events });
});
