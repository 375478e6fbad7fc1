import { route } from '../../api/routes.js';
import { renameProduct } from '../../application/products.js';
import { commandContext } from '../dependencies.js';
import { httpHandler, ok } from './httpHandler.js';

export const handler = httpHandler(route('renameProduct'), async (request) => {
  const { params, body, headers } = request;
  return ok(
    await renameProduct(
      {
        sku: params.sku,
        name: body.name,
        ...(headers['idempotency-key'] ? { renameId: headers['idempotency-key'] } : {}),
      },
      commandContext(request),
    ),
  );
});
