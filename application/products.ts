import {
  product,
  productStreamId,
  noStock,
  type ProductState,
  type Stock,
  stockBalanceId,
} from '../domain/inventory/index.js';
import { ProductNotFoundError } from '../domain/shared/errors.js';
import type { Money } from '../domain/shared/values.js';
import type { Balance, EventStore } from '../eventstore/types.js';
import { productAggregate } from './aggregates.js';
import { type CommandContext, handleCommand, load } from './handleCommand.js';

/** A product as clients see it. `version` counts the moves of its stock, so it changes whenever the figures do. */
export type ProductDetails = {
  sku: string;
  name: string;
  price: Money;
  stock: Stock;
  version: number;
};

/** The SKU's stock as its balance holds it: the figures every reservation, sale and restock has moved. */
export const stockOf = (balance: Balance | undefined): { stock: Stock; version: number } => {
  const counts = balance?.counts ?? {};
  const { available = 0, reserved = 0, sold = 0 } = counts;
  return { stock: { ...noStock(), available, reserved, sold }, version: balance?.version ?? 0 };
};

export const readStock = async (
  store: EventStore,
  sku: string,
  options: { consistent?: boolean } = {},
): Promise<{ stock: Stock; version: number }> => stockOf(await store.readBalance(stockBalanceId(sku), options));

export const registerProduct = async (
  input: { sku: string; name: string; price: Money; stock: number },
  context: CommandContext,
): Promise<ProductDetails> => {
  await handleCommand(
    productAggregate,
    productStreamId(input.sku),
    (current) =>
      product.decide(
        {
          type: 'RegisterProduct',
          data: { sku: input.sku, name: input.name, unitPrice: input.price, initialStock: input.stock },
        },
        current,
      ),
    context,
  );
  // Registration is the balance's first move: nothing else can have moved it yet.
  return {
    sku: input.sku,
    name: input.name,
    price: input.price,
    stock: { available: input.stock, reserved: 0, sold: 0 },
    version: 1,
  };
};

/**
 * Adds units to the product's stock. With a `restockId` (the caller's Idempotency-Key), a retry of one of the
 * product's latest restocks adds nothing and answers the figures as they are now.
 */
export const restockProduct = async (
  input: { sku: string; quantity: number; restockId?: string },
  context: CommandContext,
): Promise<ProductDetails> => {
  const { state } = await handleCommand(
    productAggregate,
    productStreamId(input.sku),
    (current) => product.decide({ type: 'RestockProduct', data: input }, current),
    context,
  );
  if (state.status !== 'REGISTERED') throw new ProductNotFoundError(input.sku);
  // Orders move the balance too, so the figures after the restock are read, consistently, not computed here.
  const { stock, version } = await readStock(context.store, input.sku, { consistent: true });
  return { sku: input.sku, name: state.name, price: state.unitPrice, stock, version };
};

/**
 * A product's catalogue facts as registered: ProductRegistered, the first event of its stream, sets its name and its
 * price once and for all. That one event is read, eventually consistently, and again strongly consistently for a
 * product not found that way (one registered a moment ago). Undefined for a SKU never registered.
 */
export const productRegistration = async (
  store: EventStore,
  sku: string,
): Promise<Extract<ProductState, { status: 'REGISTERED' }> | undefined> => {
  const streamId = productStreamId(sku);
  const read = async (consistent: boolean) =>
    (await load(store, productAggregate, streamId, { toVersion: 1, consistent })).state;
  const first = await read(false);
  const registered = first.status === 'REGISTERED' ? first : await read(true);
  return registered.status === 'REGISTERED' ? registered : undefined;
};
