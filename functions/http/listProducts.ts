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
  // A product's version counts its balance's moves; a new price or name moves none, so both are named as well (ADR
  // 0022, 0027), each item as JSON: a name may hold any separator.
  const items = page.products.map(({ sku, version, price, name }) =>
    JSON.stringify([sku, version, price.amount, price.currency, name]),
  );
  return conditional(pageEtagOf({ ...page, items }), body);
});
