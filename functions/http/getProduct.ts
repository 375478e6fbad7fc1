import { route } from '../../api/routes.js';
import { getProduct } from '../../application/queries.js';
import { eventStore, readModels } from '../dependencies.js';
import { digestEtag } from './etags.js';
import { httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('getProduct'), async ({ params, conditional }) => {
  const { product, readModel } = await getProduct(params.sku, readModels(), eventStore());
  // The answer itself, not the versions it was read at: its stock comes from the balance at once, its name and price
  // from a view a batching window behind, so a restock would otherwise change the tag twice for one change of the
  // answer. A new price moves no stock, and changes the tag all the same (ADR 0022).
  return conditional(digestEtag(JSON.stringify(product), readModel), product);
});
