import { route } from '../../api/routes.js';
import { getProduct } from '../../application/queries.js';
import { eventStore, readModels } from '../dependencies.js';
import { etagOf } from './etags.js';
import { httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('getProduct'), async ({ params, conditional }) => {
  const { product, readModel } = await getProduct(params.sku, readModels(), eventStore());
  return conditional(etagOf(product.version, readModel), product);
});
