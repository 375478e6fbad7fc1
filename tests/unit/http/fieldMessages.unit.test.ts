import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ListOrdersQuery, PlaceOrderRequest, RegisterProductRequest } from '../../../api/schemas.js';
import { fieldMessage } from '../../../functions/http/fieldMessages.js';
import { fieldErrors } from '../../../functions/http/middlewares.js';

const errorsOf = (schema: z.ZodType, input: unknown) => {
  const result = schema.safeParse(input, { error: fieldMessage });
  if (result.success) throw new Error('expected the input to be refused');
  return fieldErrors(result.error);
};

const order = (fields: Record<string, unknown>) => ({
  items: [{ sku: 'MUG-1', quantity: 1 }],
  payment: { token: 'tok_visa' },
  ...fields,
});

const product = (fields: Record<string, unknown>) => ({
  sku: 'MUG-1',
  name: 'Mug',
  price: { amount: 1250, currency: 'EUR' },
  stock: 10,
  ...fields,
});

describe('what a refused field should be, in words', () => {
  it.each([
    [order({ items: [{ sku: 'MUG-1', quantity: 1.5 }] }), '#/items/0/quantity', 'a whole number, not 1.5'],
    [
      order({ items: [{ sku: 'MUG-1', quantity: '2' }] }),
      '#/items/0/quantity',
      'a number, not a string: send 2 without quotes',
    ],
    [order({ items: [{ sku: 'MUG-1', quantity: 'two' }] }), '#/items/0/quantity', 'a number, not a string'],
    [order({ items: [{ sku: 'MUG-1', quantity: 0 }] }), '#/items/0/quantity', 'at least 1'],
    [order({ items: [{ sku: 'MUG-1', quantity: 1001 }] }), '#/items/0/quantity', 'at most 1,000'],
    [order({ items: [] }), '#/items', 'at least 1 item'],
    [
      order({ items: Array.from({ length: 51 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })) }),
      '#/items',
      'at most 50 items',
    ],
    [order({ items: { sku: 'MUG-1' } }), '#/items', 'an array, not an object'],
    [order({ payment: { token: '' } }), '#/payment/token', 'not empty'],
    [order({ payment: { token: 'x'.repeat(257) } }), '#/payment/token', 'at most 256 characters'],
    [order({ payment: { token: null } }), '#/payment/token', 'a string, not null'],
    [order({ payment: { token: true } }), '#/payment/token', 'a string, not true'],
    [order({ payment: undefined }), '#/payment', 'required: an object'],
    [product({ stock: -1 }), '#/stock', 'at least 0'],
    [product({ stock: 1_000_001 }), '#/stock', 'at most 1,000,000'],
    [product({ name: '   ' }), '#/name', 'not empty'],
    [product({ name: 'x'.repeat(201) }), '#/name', 'at most 200 characters'],
  ] as const)('%j: %s is "%s"', (body, pointer, detail) => {
    const schema = 'stock' in body ? RegisterProductRequest : PlaceOrderRequest;
    expect(errorsOf(schema, body)).toEqual([{ pointer, detail }]);
  });

  it('keeps the message a schema gives itself', () => {
    expect(errorsOf(PlaceOrderRequest, order({ items: [{ sku: 'mug 1', quantity: 1 }] }))).toEqual([
      { pointer: '#/items/0/sku', detail: 'an upper-case SKU such as ABC-123' },
    ]);
    const query = ListOrdersQuery.safeParse({ limit: '0' }, { error: fieldMessage });
    expect(query.success ? [] : query.error.issues.map((issue) => issue.message)).toEqual([
      'a whole number from 1 to 100',
    ]);
  });
});
