import type * as z from 'zod';
import type { ResponseSchema, responseSchemas } from './responses.js';
import type { OperationId, Routes } from './routes.js';

type RouteOf<Id extends OperationId> = Extract<Routes, { operationId: Id }>;
type BodyOf<Id extends OperationId> = RouteOf<Id> extends { body: z.ZodType } ? z.input<RouteOf<Id>['body']> : never;
type Responses<Id extends OperationId> = RouteOf<Id>['responses'];
type SuccessOf<Id extends OperationId> = {
  [Status in keyof Responses<Id> & number]: Responses<Id>[Status] extends { schema: ResponseSchema }
    ? { status: Status; value: z.output<(typeof responseSchemas)[Responses<Id>[Status]['schema']]> }
    : never;
}[keyof Responses<Id> & number];

/**
 * One request and one answer per route, as the document shows them to a reader and a mock server serves them: a
 * product registered, restocked and sold to one order. A unit test parses each with its route's schema, so an example
 * cannot drift from the contract; only the document reads this module.
 */
export type Example<Id extends OperationId> = { request?: BodyOf<Id>; response: SuccessOf<Id> };

const orderId = '0f8fad5b-d9cb-469f-a165-70867728950e';
const customerId = 'auth0|5f7c8ec7c33c6c004bbafe82';
const price = { amount: 1299, currency: 'EUR' };
const line = { sku: 'MUG-001', name: 'Enamel mug, 350 ml', quantity: 2, unitPrice: price };
const total = { amount: 2598, currency: 'EUR' };
const placedAt = '2026-12-01T09:30:00.000Z';
const confirmedAt = '2026-12-01T09:30:01.250Z';
const product = { sku: line.sku, name: line.name, price };
const forSale = { ...product, discontinued: false };
const order = {
  orderId,
  customerId,
  status: 'CONFIRMED' as const,
  lines: [line],
  total,
  placedAt,
  updatedAt: confirmedAt,
  confirmedAt,
  version: 3,
};
const correlationId = '9b2f6c1e-4a7d-4e0b-8f3a-2d5c7e9a1b64';

export const examples: { [Id in Exclude<OperationId, 'getOpenApi'>]: Example<Id> } = {
  registerProduct: {
    request: { ...product, stock: 100 },
    response: { status: 201, value: { ...forSale, stock: { available: 100, reserved: 0, sold: 0 }, version: 1 } },
  },
  restockProduct: {
    request: { quantity: 50 },
    response: { status: 200, value: { sku: 'MUG-001', stock: { available: 148, reserved: 0, sold: 2 }, version: 4 } },
  },
  writeOffStock: {
    request: { quantity: 3 },
    response: { status: 200, value: { sku: 'MUG-001', stock: { available: 145, reserved: 0, sold: 2 }, version: 5 } },
  },
  repriceProduct: {
    request: { price: { amount: 1499, currency: 'EUR' } },
    response: { status: 200, value: { ...forSale, price: { amount: 1499, currency: 'EUR' } } },
  },
  renameProduct: {
    request: { name: 'Stoneware mug, 350 ml' },
    response: { status: 200, value: { ...forSale, name: 'Stoneware mug, 350 ml' } },
  },
  discontinueProduct: { response: { status: 200, value: { ...product, discontinued: true } } },
  placeOrder: {
    request: { items: [{ sku: 'MUG-001', quantity: 2 }], payment: { token: 'tok_visa' } },
    response: { status: 202, value: { orderId, status: 'PENDING', lines: [line], total } },
  },
  cancelOrder: { response: { status: 202, value: { orderId, status: 'CANCELLED', lines: [line], total } } },
  getOrderEvents: {
    response: {
      status: 200,
      value: {
        events: [
          {
            type: 'OrderPlaced',
            version: 1,
            data: { orderId, customerId, lines: [line], total },
            recordedAt: placedAt,
            correlationId,
          },
          {
            type: 'StockReserved',
            version: 2,
            data: { orderId, lines: [{ sku: 'MUG-001', quantity: 2 }] },
            recordedAt: placedAt,
            correlationId,
          },
          { type: 'OrderConfirmed', version: 3, data: { orderId }, recordedAt: confirmedAt, correlationId },
        ],
      },
    },
  },
  getOrder: { response: { status: 200, value: order } },
  listOrders: {
    response: { status: 200, value: { orders: [order], nextCursor: 'eyJvcmRlcklkIjoiMGY4ZmFkNWIifQ' } },
  },
  getProduct: {
    response: {
      status: 200,
      value: { ...forSale, stock: { available: 145, reserved: 0, sold: 2 }, version: 5 },
    },
  },
  listProducts: {
    response: {
      status: 200,
      value: { products: [{ ...forSale, stock: { available: 145, reserved: 0, sold: 2 }, version: 5 }] },
    },
  },
};

/** An example as the document writes it, whatever its route's types. */
export type LooseExample = { request?: unknown; response: { status: number; value: unknown } };

/** The route's example, if it has one (every route but the document itself). */
export const exampleOf = (operationId: string): LooseExample | undefined =>
  (examples as Partial<Record<string, LooseExample>>)[operationId];
