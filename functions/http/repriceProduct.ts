import { route } from '../../api/routes.js';
import { repriceProduct } from '../../application/products.js';
import { commandContext } from '../dependencies.js';
import { httpHandler, ok } from './httpHandler.js';

export const handler = httpHandler(route('repriceProduct'), async (request) => {
  const { params, body, headers } = request;
  return ok(
    await repriceProduct(
      {
        sku: params.sku,
        price: body.price,
        ...(headers['idempotency-key'] ? { repriceId: headers['idempotency-key'] } : {}),
      },
      commandContext(request),
    ),
  );
});
