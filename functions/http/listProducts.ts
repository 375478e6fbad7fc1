import { route } from '../../api/routes.js';
import { listProducts } from '../../application/queries.js';
import { eventStore, readModels } from '../dependencies.js';
import { pageEtagOf } from './etags.js';
import { httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('listProducts'), async ({ query, conditional }) => {
  const page = await listProducts(
    { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) },
    readModels(),
    eventStore(),
  );
  const body = { products: page.products, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  // A product's version counts its balance's moves; a new price moves none, so the price is named as well (ADR 0022).
  const items = page.products.map(({ sku, version, price }) => `${sku}@${version}:${price.amount} ${price.currency}`);
  return conditional(pageEtagOf({ ...page, items }), body);
});
