import * as z from 'zod';
import type { ZodType } from 'zod';
import {
  ListOrdersQuery,
  ListProductsQuery,
  OrderAtQuery,
  OrderIdParam,
  OrderKey,
  PlaceOrderRequest,
  RegisterProductRequest,
  RegistrationKey,
  RenameKey,
  RenameRequest,
  RepriceKey,
  RepriceRequest,
  RestockKey,
  SkuParam,
  RestockRequest,
  WriteOffKey,
  WriteOffRequest,
} from './schemas.js';

import type { Access } from './access.js';
import type { ResponseSchema } from './responses.js';
import type { ProblemSlug } from './problems.js';

export { ADMIN_SCOPE, type Access } from './access.js';

export type Route = {
  /** Also the name of the function serving it in serverless.yml. */
  operationId: string;
  method: 'GET' | 'POST';
  path: string;
  access: Access;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: ZodType;
  /**
   * What each status answers. An error's `problems` are the types it may be (api/problems.ts); left out, every type
   * of its status.
   */
  responses: Record<number, { description: string; schema?: ResponseSchema; problems?: readonly ProblemSlug[] }>;
  /**
   * Why a write that takes no `Idempotency-Key` is safe to send again all the same, for its `503`'s advice; left out,
   * the advice is to look before sending it again.
   */
  safeToResend?: string;
};

/** The HTTP contract, written once: handlers validate with it, OpenAPI is generated from it, serverless.yml must match it. */
export const routes = [
  {
    operationId: 'registerProduct',
    method: 'POST',
    path: '/products',
    access: 'admin',
    summary: 'Register a product with its price and initial stock.',
    headers: z.object({ 'idempotency-key': RegistrationKey.optional() }),
    body: RegisterProductRequest,
    responses: {
      201: {
        description:
          'The product. Sent again with the Idempotency-Key it was registered with, it registers nothing and answers ' +
          'the product as it is now: its price and stock figures may have moved since.',
        schema: 'Product',
      },
      409: {
        description: 'A product with this SKU exists, registered without this Idempotency-Key.',
        problems: ['product-already-registered'],
      },
      422: {
        description: 'The Idempotency-Key registered this SKU with another name, price or initial stock.',
        problems: ['registration-key-reused'],
      },
    },
  },
  {
    operationId: 'restockProduct',
    method: 'POST',
    path: '/products/{sku}/restock',
    access: 'admin',
    summary: 'Add units to a product’s available stock.',
    params: z.object({ sku: SkuParam }),
    headers: z.object({ 'idempotency-key': RestockKey.optional() }),
    body: RestockRequest,
    responses: {
      200: {
        description:
          'The new stock figures. Sent again with the same Idempotency-Key, it adds nothing and answers the figures ' +
          'as they are now. The key is the product’s, whoever sends it.',
        schema: 'StockMoved',
      },
      404: { description: 'No product with this SKU.' },
      409: {
        description: 'The product’s stock kept changing while the restock retried: retry after Retry-After.',
        problems: ['concurrent-modification'],
      },
      422: {
        description:
          'The restock would take the units ever supplied to the product past 1,000,000,000; the product is ' +
          'discontinued (a keyed restock recorded before is still answered as its retry); or its Idempotency-Key ' +
          'was used for a restock of another quantity.',
        problems: ['stock-limit-exceeded', 'product-discontinued', 'restock-key-reused'],
      },
    },
  },
  {
    operationId: 'writeOffStock',
    method: 'POST',
    path: '/products/{sku}/write-off',
    access: 'admin',
    summary: 'Take units out of a product’s available stock for good: damaged, lost, or missing at a count.',
    params: z.object({ sku: SkuParam }),
    headers: z.object({ 'idempotency-key': WriteOffKey.optional() }),
    body: WriteOffRequest,
    responses: {
      200: {
        description:
          'The new stock figures. Sent again with the same Idempotency-Key, it takes nothing more and answers the ' +
          'figures as they are now.',
        schema: 'StockMoved',
      },
      404: { description: 'No product with this SKU.' },
      409: {
        description: 'The product kept changing while the write-off retried: retry after Retry-After.',
        problems: ['concurrent-modification'],
      },
      422: {
        description:
          'Fewer units available than the write-off takes (units reserved by orders in flight, or sold, are not ' +
          'written off); or its Idempotency-Key was used for a write-off of another quantity.',
        problems: ['write-off-exceeds-available', 'write-off-key-reused'],
      },
    },
  },
  {
    operationId: 'repriceProduct',
    method: 'POST',
    path: '/products/{sku}/reprice',
    access: 'admin',
    summary: 'Give a product a new price, for the orders placed from now on.',
    params: z.object({ sku: SkuParam }),
    headers: z.object({ 'idempotency-key': RepriceKey.optional() }),
    body: RepriceRequest,
    responses: {
      200: {
        description:
          'The product with its new price. Orders placed from about a second on are priced at it; orders placed ' +
          'before keep the price they were placed at. Unkeyed, the price it has already records nothing, and answers ' +
          'the same. Sent again with the same Idempotency-Key, it changes nothing and answers the product as it ' +
          'is now, with a price given since if there was one. The key is the product’s, whoever sends it.',
        schema: 'ProductFacts',
      },
      404: { description: 'No product with this SKU.' },
      409: {
        description: 'The product kept changing while the new price retried: retry after Retry-After.',
        problems: ['concurrent-modification'],
      },
      422: {
        description: 'Its Idempotency-Key was used for another price.',
        problems: ['reprice-key-reused'],
      },
    },
  },
  {
    operationId: 'renameProduct',
    method: 'POST',
    path: '/products/{sku}/rename',
    access: 'admin',
    summary: 'Give a product a new name, as the catalogue shows it from now on.',
    params: z.object({ sku: SkuParam }),
    headers: z.object({ 'idempotency-key': RenameKey.optional() }),
    body: RenameRequest,
    responses: {
      200: {
        description:
          'The product with its new name, which GET /products/{sku} and the listing show a moment later (their read ' +
          'model). Orders hold no name, so none changes. Unkeyed, the name it has already records nothing, and ' +
          'answers the same. Sent again with the same Idempotency-Key, it changes nothing and answers the product as ' +
          'it is now, with a name given since if there was one. The key is the product’s, whoever sends it.',
        schema: 'ProductFacts',
      },
      404: { description: 'No product with this SKU.' },
      409: {
        description: 'The product kept changing while the new name retried: retry after Retry-After.',
        problems: ['concurrent-modification'],
      },
      422: {
        description: 'Its Idempotency-Key was used for another name.',
        problems: ['rename-key-reused'],
      },
    },
  },
  {
    operationId: 'discontinueProduct',
    method: 'POST',
    path: '/products/{sku}/discontinue',
    access: 'admin',
    summary: 'Sell a product no more, for good: no order is placed for it, and it takes no restock.',
    params: z.object({ sku: SkuParam }),
    safeToResend: 'discontinuing a discontinued product answers `200` and changes nothing',
    responses: {
      200: {
        description:
          'The product, discontinued. Orders placed from about a second on are refused (422 product-discontinued); ' +
          'orders placed before settle as they would have, and its stock stays for them and for a write-off. The ' +
          'listing leaves it out, and GET /products/{sku} shows it discontinued, a moment later (their read model). ' +
          'Sent again, however late, it changes nothing and answers the same: nothing undoes it.',
        schema: 'ProductFacts',
      },
      404: { description: 'No product with this SKU.' },
      409: {
        description: 'The product kept changing while discontinuing it retried: retry after Retry-After.',
        problems: ['concurrent-modification'],
      },
    },
  },
  {
    operationId: 'placeOrder',
    method: 'POST',
    path: '/orders',
    access: 'customer',
    summary: 'Place an order for the caller. Prices come from the products, never from the request.',
    headers: z.object({ 'idempotency-key': OrderKey.optional() }),
    body: PlaceOrderRequest,
    responses: {
      202: {
        description:
          'Accepted: the order is PENDING, its stock reserved, until the saga settles it; or REJECTED at once when a ' +
          'line asks for more than its SKU has available (OUT_OF_STOCK). Sent again with the same Idempotency-Key, ' +
          'it answers the order as it stands now.',
        schema: 'OrderAccepted',
      },
      409: {
        description: 'The stock kept changing while the placement retried: retry after Retry-After, same key.',
        problems: ['concurrent-modification'],
      },
      422: {
        description:
          'An unknown SKU, a discontinued one, mixed currencies, a SKU on two lines, a total past 2^53 − 1 minor ' +
          'units, or an idempotency key reused for another order.',
        problems: [
          'unknown-sku',
          'product-discontinued',
          'mixed-currencies',
          'duplicate-order-line',
          'order-total-too-large',
          'order-already-placed',
        ],
      },
    },
  },
  {
    operationId: 'cancelOrder',
    method: 'POST',
    path: '/orders/{orderId}/cancel',
    access: 'customer',
    summary:
      'Cancel a PENDING or CONFIRMED order: its customer, a confirmed one within the stage’s cancellation window ' +
      '(24 hours by default) of its confirmation; an admin, at any time.',
    params: z.object({ orderId: OrderIdParam }),
    responses: {
      202: {
        description:
          'The order is cancelled (or already was: a cancel sent again changes nothing); compensation follows.',
        schema: 'OrderAccepted',
      },
      404: { description: 'No such order for this caller.' },
      409: {
        description:
          'The order was rejected: there is nothing to cancel; or its customer sent the cancel after the window ' +
          'for a confirmed order closed (its goods may be on their way: support, an admin, may still cancel it); ' +
          'or it kept changing while the cancel retried: retry after Retry-After.',
        problems: ['invalid-order-transition', 'cancellation-window-closed', 'concurrent-modification'],
      },
    },
    safeToResend: 'a cancel sent again to the order it cancelled answers `202` and changes nothing',
  },
  {
    operationId: 'getOrderEvents',
    method: 'GET',
    path: '/orders/{orderId}/events',
    access: 'customer',
    summary:
      'The order’s history as recorded, in today’s event shapes, each event showing the fields its schema names, ' +
      'never the payment token (its customer, or an admin).',
    params: z.object({ orderId: OrderIdParam }),
    responses: {
      200: {
        description: 'The events, oldest first; ETag (the last version) for If-None-Match.',
        schema: 'OrderHistory',
      },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.' },
      404: { description: 'No such order for this caller.' },
    },
  },
  {
    operationId: 'getOrder',
    method: 'GET',
    path: '/orders/{orderId}',
    access: 'customer',
    summary:
      'The order from the read model (eventually consistent: it follows the events within a second or so at a steady load); while the read model lacks the order or shows it PENDING, and with `at` (as it was then), folded from its events, so the Location a 202 hands out answers at once.',
    params: z.object({ orderId: OrderIdParam }),
    query: OrderAtQuery,
    responses: {
      200: { description: 'The order, with its version; ETag for If-None-Match.', schema: 'Order' },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.' },
      404: { description: 'No such order for this caller (or none yet at `at`).' },
    },
  },
  {
    operationId: 'listOrders',
    method: 'GET',
    path: '/orders',
    access: 'customer',
    summary:
      'The caller’s own orders, newest first, a page at a time; an admin lists any customer’s with `customerId`.',
    query: ListOrdersQuery,
    responses: {
      200: { description: 'A page of orders; ETag for If-None-Match.', schema: 'OrderPage' },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.' },
      403: { description: 'Another customer’s `customerId`, from a caller who is not an admin.' },
      422: {
        description: 'A cursor this listing did not hand out (or handed out for another customer’s listing).',
        problems: ['invalid-cursor'],
      },
    },
  },
  {
    operationId: 'getProduct',
    method: 'GET',
    path: '/products/{sku}',
    access: 'customer',
    summary: 'A product and its stock figures, from the read model.',
    params: z.object({ sku: SkuParam }),
    responses: {
      200: { description: 'The product, with its version; ETag for If-None-Match.', schema: 'Product' },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.' },
      404: { description: 'No product with this SKU.' },
    },
  },
  {
    operationId: 'listProducts',
    method: 'GET',
    path: '/products',
    access: 'customer',
    summary:
      'The products with their stock figures, a page at a time, in SKU order; a product shows once the read model has it.',
    query: ListProductsQuery,
    responses: {
      200: { description: 'A page of products; ETag for If-None-Match.', schema: 'ProductPage' },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.' },
      422: {
        description:
          'A cursor that does not decode, or was handed out under another version of the products read model than the live one: start again. Cursors are not signed: an edited one only moves within the catalogue.',
        problems: ['invalid-cursor'],
      },
    },
  },
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    access: 'public',
    summary: 'This document.',
    responses: {
      200: {
        description: 'The OpenAPI 3.1 document; ETag for If-None-Match.',
        schema: 'OpenApiDocument',
      },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.' },
    },
  },
] as const satisfies readonly Route[];

/**
 * Each route's method and path, in the order above: what API Gateway's `$default` function needs to tell a 405 from a
 * 404. `npm run openapi` writes it to api/routeTable.json, which that function imports instead of this module.
 */
export const routeTable = () => routes.map(({ method, path }) => ({ method, path }));

export type Routes = (typeof routes)[number];
export type OperationId = Routes['operationId'];

/** A route by its operation id, typed exactly, so a handler's body, params and headers are the schemas' outputs. */
export const route = <Id extends OperationId>(operationId: Id): Extract<Routes, { operationId: Id }> => {
  const found = routes.find((r): r is Extract<Routes, { operationId: Id }> => r.operationId === operationId);
  if (!found) throw new Error(`No route ${operationId}`);
  return found;
};
