import { route } from '../../api/routes.js';
import { repriceProduct } from '../../application/products.js';
import { commandContext } from '../dependencies.js';
import { httpHandler, ok } from './httpHandler.js';

export const handler = httpHandler(route('repriceProduct'), async (request) =>
  ok(await repriceProduct({ sku: request.params.sku, price: request.body.price }, commandContext(request))),
);
