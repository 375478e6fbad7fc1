import { route } from '../../api/routes.js';
import { getProduct } from '../../application/queries.js';
import { readModels } from '../_shared/dependencies.js';
import { etagOf, httpHandler } from '../_shared/httpHandler.js';

export const handler = httpHandler(route('getProduct'), async ({ params, conditional }) => {
  const { view, version } = await getProduct(params.sku, readModels());
  const { sku, name, price, available, reserved, sold } = view;
  return conditional(etagOf(version), { sku, name, price, stock: { available, reserved, sold }, version });
});
