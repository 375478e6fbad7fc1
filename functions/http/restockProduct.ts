import { route } from '../../api/routes.js';
import { restockProduct } from '../../application/products.js';
import { commandContext } from '../dependencies.js';
import { httpHandler, ok } from './httpHandler.js';

export const handler = httpHandler(route('restockProduct'), async (request) => {
  const { params, body, headers } = request;
  const { sku, stock, version } = await restockProduct(
    {
      sku: params.sku,
      quantity: body.quantity,
      ...(headers['idempotency-key'] ? { restockId: headers['idempotency-key'] } : {}),
    },
    commandContext(request),
  );
  return ok({ sku, stock, version });
});
