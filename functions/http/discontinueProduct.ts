import { route } from '../../api/routes.js';
import { discontinueProduct } from '../../application/products.js';
import { commandContext } from '../dependencies.js';
import { httpHandler, ok } from './httpHandler.js';

export const handler = httpHandler(route('discontinueProduct'), async (request) =>
  ok(await discontinueProduct({ sku: request.params.sku }, commandContext(request))),
);
