import { inventory, inventoryStreamId, type InventoryState } from '../domain/inventory/index.js';
import { ProductNotFoundError } from '../domain/shared/errors.js';
import type { Money } from '../domain/shared/values.js';
import { inventoryAggregate } from './aggregates.js';
import { type CommandContext, handleCommand } from './handleCommand.js';

export type ProductView = {
  sku: string;
  name: string;
  price: Money;
  stock: { available: number; reserved: number; sold: number };
  version: number;
};

export const productView = (state: InventoryState, version: number): ProductView => {
  if (state.status !== 'REGISTERED') throw new Error('productView of an unregistered product');
  const { sku, name, unitPrice, available, reserved, sold } = state;
  return { sku, name, price: unitPrice, stock: { available, reserved, sold }, version };
};

export const registerProduct = async (
  input: { sku: string; name: string; price: Money; stock: number },
  context: CommandContext,
): Promise<ProductView> => {
  const { state, version } = await handleCommand(
    inventoryAggregate,
    inventoryStreamId(input.sku),
    (current) =>
      inventory.decide(
        {
          type: 'RegisterProduct',
          data: { sku: input.sku, name: input.name, unitPrice: input.price, initialStock: input.stock },
        },
        current,
      ),
    context,
  );
  return productView(state, version);
};

export const restockProduct = async (
  input: { sku: string; quantity: number },
  context: CommandContext,
): Promise<ProductView> => {
  const { state, version } = await handleCommand(
    inventoryAggregate,
    inventoryStreamId(input.sku),
    (current) => inventory.decide({ type: 'RestockProduct', data: input }, current),
    context,
  );
  if (state.status !== 'REGISTERED') throw new ProductNotFoundError(input.sku);
  return productView(state, version);
};
