import type { CommandContext } from '../../application/handleCommand.js';
import { placeOrder } from '../../application/orders.js';
import { readStock, registerProduct } from '../../application/products.js';
import type { EventStore } from '../../eventstore/types.js';
import { memoryGateway } from './memoryGateway.js';
import { memoryStore, testContext } from './memoryStore.js';

/**
 * Given a shop in memory: these products (SKU → stock, each at 10.00 EUR), an in-memory store and payment gateway,
 * and what a test asks of them afterwards. `context.onConflict` counts lost races in `conflicts`.
 *
 * @example
 * const shop = await givenShop({ 'MUG-1': 10 });
 * const orderId = await shop.placed({ 'MUG-1': 2 });
 * expect(await shop.stock('MUG-1')).toEqual({ available: 8, reserved: 2, sold: 0 }); // placement reserved them
 */
export const givenShop = async (products: Record<string, number>) => {
  const store = memoryStore();
  const conflicts: string[][] = [];
  const context: CommandContext = { ...testContext(store), onConflict: (error) => conflicts.push(error.streamIds) };
  for (const [sku, stock] of Object.entries(products)) {
    await registerProduct({ sku, name: sku, price: { amount: 1000, currency: 'EUR' }, stock }, context);
  }
  return {
    store,
    context,
    conflicts,
    ...memoryGateway(),
    /** Places an order for these quantities by SKU, as `customer-1`, and answers its id. */
    placed: async (lines: Record<string, number>, idempotencyKey?: string): Promise<string> => {
      const items = Object.entries(lines).map(([sku, quantity]) => ({ sku, quantity }));
      const input = { customerId: 'customer-1', items, paymentToken: 'tok_visa' };
      return (await placeOrder(idempotencyKey ? { ...input, idempotencyKey } : input, context)).orderId;
    },
    /** The types of a stream's events, in order. */
    types: async (streamId: string): Promise<string[]> => (await store.readStream(streamId)).map((e) => e.type),
    stock: async (sku: string) => (await readStock(store, sku, { consistent: true })).stock,
    /** How many events the whole store holds. */
    count: (): number => store.readAll().length,
  };
};

/** `store`, but the first append runs `meanwhile` first: a concurrent writer landing between a read and an append. */
export const withWriteBetween = (store: EventStore, meanwhile: () => Promise<unknown>): EventStore => {
  let pending = true;
  return {
    ...store,
    append: async (...args) => {
      if (pending) {
        pending = false;
        await meanwhile();
      }
      return store.append(...args);
    },
  };
};

/**
 * The order the saga tests start from: MUG-1 registered (12.50 EUR, 10 in stock), and `customer-1`'s order of 2 mugs
 * (`tok_visa`) placed, which holds them reserved (ADR 0014). Answers the order id.
 */
export const twoMugsPlaced = async (context: CommandContext): Promise<string> => {
  await registerProduct({ sku: 'MUG-1', name: 'Mug', price: { amount: 1250, currency: 'EUR' }, stock: 10 }, context);
  const { orderId } = await placeOrder(
    { customerId: 'customer-1', items: [{ sku: 'MUG-1', quantity: 2 }], paymentToken: 'tok_visa' },
    context,
  );
  return orderId;
};
