import { route } from '../../api/routes.js';
import { writeOffStock } from '../../application/products.js';
import { commandContext } from '../dependencies.js';
import { httpHandler, ok } from './httpHandler.js';

export const handler = httpHandler(route('writeOffStock'), async (request) => {
  const { params, body, headers } = request;
  const { sku, stock, version } = await writeOffStock(
    {
      sku: params.sku,
      quantity: body.quantity,
      ...(headers['idempotency-key'] ? { writeOffId: headers['idempotency-key'] } : {}),
    },
    commandContext(request),
  );
  return ok({ sku, stock, version });
});
