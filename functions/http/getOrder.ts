import { route } from '../../api/routes.js';
import { cancellableUntil, getOrder, getOrderAt } from '../../application/queries.js';
import { cancellationWindowMs } from '../config.js';
import { eventStore, readModels } from '../dependencies.js';
import { etagOf } from './etags.js';
import { httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('getOrder'), async ({ params, query, caller, conditional }) => {
  const { orderId } = params;
  const { view, version, readModel } = query.at
    ? await getOrderAt({ orderId, caller, at: new Date(query.at) }, eventStore())
    : await getOrder({ orderId, caller }, readModels(), eventStore());
  return conditional(etagOf(version, readModel), {
    ...view,
    version,
    ...cancellableUntil(view, cancellationWindowMs()),
  });
});
