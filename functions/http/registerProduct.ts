import { route } from '../../api/routes.js';
import { registerProduct } from '../../application/products.js';
import { commandContext } from '../dependencies.js';
import { created, httpHandler } from './httpHandler.js';

export const handler = httpHandler(route('registerProduct'), async (request) => {
  const { body, headers } = request;
  const product = await registerProduct(
    { ...body, ...(headers['idempotency-key'] ? { registrationId: headers['idempotency-key'] } : {}) },
    commandContext(request),
  );
  return created(`/products/${product.sku}`, product);
});
