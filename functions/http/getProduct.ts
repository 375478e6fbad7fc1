import { route } from '../../api/routes.js';
import { getProduct } from '../../application/queries.js';
import { eventStore, readModels } from '../dependencies.js';
import { etagOf } from './etags.js';
import { httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('getProduct'), async ({ params, conditional }) => {
  const { product, readModel, catalogueVersion } = await getProduct(params.sku, readModels(), eventStore());
  // The stock's moves and the product's own events: a new price changes the answer and moves no stock (ADR 0022).
  return conditional(etagOf(`${catalogueVersion}.${product.version}`, readModel), product);
});
