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
  const { sku, name, price, stock, version, discontinued } = product;
  // Named field by field, so that the tag depends on what the answer says, not on how a field was read.
  // A product for sale keeps the tag it had before products could be discontinued.
  const answer = `${sku}|${name}|${price.amount} ${price.currency}|${stock.available}/${stock.reserved}/${stock.sold}|${version}${discontinued ? '|discontinued' : ''}`;
  return conditional(digestEtag(answer, readModel), product);
});
