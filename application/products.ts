import {
  product,
  type ProductCommand,
  productStreamId,
  noStock,
  type ProductState,
  keyClaimId,
  type Stock,
  stockBalanceId,
} from '../domain/inventory/index.js';
import {
  ProductNotFoundError,
  RenameKeyReusedError,
  RepriceKeyReusedError,
  RestockKeyReusedError,
  StockLimitExceededError,
  WriteOffExceedsAvailableError,
  WriteOffKeyReusedError,
} from '../domain/shared/errors.js';
import { BalanceTooLowError, ClaimTakenError } from '../eventstore/errors.js';
import type { Money } from '../domain/shared/values.js';
import type { Balance, EventStore } from '../eventstore/types.js';
import { productAggregate } from './aggregates.js';
import { keepLatest } from './latest.js';
import { type CommandContext, handleCommand, load } from './handleCommand.js';

/** A product as clients see it. `version` counts the moves of its stock, so it changes whenever the figures do. */
/** What a new price or name, or discontinuing, answers: the product's catalogue facts. */
export type ProductFacts = {
  sku: string;
  name: string;
  price: Money;
  /** Sold and restocked no more (ADR 0028). */
  discontinued: boolean;
};

/** The product's catalogue facts and its stock figures, at the version of its stock balance. */
export type ProductDetails = ProductFacts & { stock: Stock; version: number };

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

/** Decides `command` on its product's stream and appends what it decides: what every command on a product runs. */
const decideOnProduct = (command: ProductCommand, context: CommandContext) =>
  handleCommand(
    productAggregate,
    productStreamId(command.data.sku),
    (current) => product.decide(command, current),
    context,
  );

/** What every product command answers of the product: its catalogue facts as `state` holds them. */
const factsOf = (sku: string, state: ProductState): ProductFacts => {
  if (state.status !== 'REGISTERED') throw new ProductNotFoundError(sku);
  return { sku, name: state.name, price: state.unitPrice, discontinued: state.discontinued === true };
};

/**
 * Registers a product. With a `registrationId` (the caller's Idempotency-Key), a retry, however late, registers nothing
 * and answers the product as it is now (ADR 0026).
 */
export const registerProduct = async (
  input: { sku: string; name: string; price: Money; stock: number; registrationId?: string },
  context: CommandContext,
): Promise<ProductDetails> => {
  const { sku, name, price, stock, registrationId } = input;
  const { state, events } = await decideOnProduct(
    {
      type: 'RegisterProduct',
      data: { sku, name, unitPrice: price, initialStock: stock, ...(registrationId ? { registrationId } : {}) },
    },
    context,
  );
  // Registration is the balance's first move: nothing else can have moved it yet.
  if (events.length > 0) {
    return { sku, name, price, stock: { available: stock, reserved: 0, sold: 0 }, version: 1, discontinued: false };
  }
  // A retry: orders, restocks and new prices may have come since.
  const facts = factsOf(sku, state);
  return { ...facts, ...(await readStock(context.store, sku, { consistent: true })) };
};

/**
 * Adds units to the product's stock. With a `restockId` (the caller's Idempotency-Key), a retry of that restock,
 * however late, adds nothing and answers the figures as they are now (ADR 0019, 0024).
 */
export const restockProduct = (
  input: { sku: string; quantity: number; restockId?: string },
  context: CommandContext,
): Promise<ProductDetails> => moveSupply({ type: 'RestockProduct', data: input }, context);

type SupplyCommand = Extract<ProductCommand, { type: 'RestockProduct' | 'WriteOffStock' }>;

/**
 * A keyed command on a product whose claim an earlier append took (ADR 0024, 0025): its retry records nothing and
 * answers the product as it is now. `earlier` reads what the claim holds, and `reused` refuses a command that is not
 * that one's retry (the same key, another quantity or price), or returns nothing for one that is.
 */
const doneBefore = <Earlier>(
  sku: string,
  taken: ClaimTakenError,
  context: CommandContext,
  earlier: (held: NonNullable<ClaimTakenError['data']>) => Earlier | undefined,
  reused: (earlier: Earlier) => Error | undefined,
) => {
  const held = taken.data && earlier(taken.data);
  // Every store says what the claim holds (the contract tests check it): without it, nothing can be answered.
  if (held === undefined) throw taken;
  const refusal = reused(held);
  if (refusal) throw refusal;
  return load(context.store, productAggregate, productStreamId(sku));
};

/**
 * A keyed restock or write-off the product no longer remembers, but whose claim holds (ADR 0024): refused for another
 * quantity as the decider refuses it for one it remembers.
 */
const supplyDoneBefore = (command: SupplyCommand, taken: ClaimTakenError, context: CommandContext) => {
  const { sku, quantity } = command.data;
  return doneBefore(
    sku,
    taken,
    context,
    (held) => (typeof held.quantity === 'number' ? held.quantity : undefined),
    (earlier) =>
      earlier === quantity
        ? undefined
        : command.type === 'RestockProduct'
          ? new RestockKeyReusedError(sku, earlier)
          : new WriteOffKeyReusedError(sku, earlier),
  );
};

/** A restock or a write-off, and the product's figures after it. */
const moveSupply = async (command: SupplyCommand, context: CommandContext): Promise<ProductDetails> => {
  const { sku } = command.data;
  const { state } = await decideOnProduct(command, context).catch(async (error: unknown) => {
    if (error instanceof ClaimTakenError) return supplyDoneBefore(command, error, context);
    // The decider refuses a restock past the supply limit before the write could find its claim: a late retry of one
    // that is in already asks its claim, and is answered as the retry it is (ADR 0024).
    if (error instanceof StockLimitExceededError && command.type === 'RestockProduct' && command.data.restockId) {
      const claimId = keyClaimId('restock', sku, command.data.restockId);
      const data = await context.store.readClaim(claimId);
      if (data) return supplyDoneBefore(command, new ClaimTakenError(claimId, data), context);
    }
    throw error;
  });
  const facts = factsOf(sku, state);
  // Orders move the balance too, so the figures after it are read, consistently, not computed here.
  return { ...facts, ...(await readStock(context.store, sku, { consistent: true })) };
};

/**
 * Takes units out of the product's available stock for good, in the write that records it: the balance refuses to
 * go below zero, so only units no order holds are written off. With a `writeOffId` (the caller's Idempotency-Key), a
 * retry of that write-off, however late, takes nothing more and answers the figures as they are now.
 */
export const writeOffStock = (
  input: { sku: string; quantity: number; writeOffId?: string },
  context: CommandContext,
): Promise<ProductDetails> =>
  moveSupply({ type: 'WriteOffStock', data: input }, context).catch((error: unknown) => {
    // The balance's answer, not a race: what it holds is said back, which another order may change a moment later.
    if (error instanceof BalanceTooLowError) {
      throw new WriteOffExceedsAvailableError(input.sku, input.quantity, error.current?.available);
    }
    throw error;
  });

/**
 * A new price or name, and the product's facts after it. A keyed one whose key is claimed already (ADR 0025, 0027) is
 * answered as its retry (the facts as they are now), or refused when the claim (`earlier`) holds another value
 * (`reused`).
 */
const changeFacts = async <Earlier>(
  command: Extract<ProductCommand, { type: 'RepriceProduct' | 'RenameProduct' }>,
  context: CommandContext,
  earlier: (held: NonNullable<ClaimTakenError['data']>) => Earlier | undefined,
  reused: (earlier: Earlier) => Error | undefined,
): Promise<ProductFacts> => {
  const { sku } = command.data;
  const { state } = await decideOnProduct(command, context).catch((error: unknown) => {
    if (!(error instanceof ClaimTakenError)) throw error;
    return doneBefore(sku, error, context, earlier, reused);
  });
  return factsOf(sku, state);
};

/**
 * Gives the product a new price, for the orders placed from now on (ADR 0022); an order placed before keeps the price
 * it was placed at. Unkeyed, the price it has already records nothing, and answers the same. With a `repriceId` (the
 * caller's Idempotency-Key), a retry, however late, records nothing and answers the product as it is now, so it cannot
 * undo a price given after it (ADR 0025).
 */
export const repriceProduct = (
  { sku, price, repriceId }: { sku: string; price: Money; repriceId?: string },
  context: CommandContext,
): Promise<ProductFacts> =>
  changeFacts(
    { type: 'RepriceProduct', data: { sku, unitPrice: price, ...(repriceId ? { repriceId } : {}) } },
    context,
    ({ amount, currency }) =>
      typeof amount === 'number' && typeof currency === 'string' ? { amount, currency } : undefined,
    (earlier) =>
      earlier.amount === price.amount && earlier.currency === price.currency
        ? undefined
        : new RepriceKeyReusedError(sku, earlier),
  );

/**
 * Gives the product a new name, as the catalogue shows it from now on (ADR 0027); orders hold no name, so none changes.
 * Unkeyed, the name it has already records nothing, and answers the same. With a `renameId` (the caller's
 * Idempotency-Key), a retry, however late, records nothing and answers the product as it is now, so it cannot undo a
 * name given after it.
 */
export const renameProduct = (
  { sku, name, renameId }: { sku: string; name: string; renameId?: string },
  context: CommandContext,
): Promise<ProductFacts> =>
  changeFacts(
    { type: 'RenameProduct', data: { sku, name, ...(renameId ? { renameId } : {}) } },
    context,
    (held) => (typeof held.name === 'string' ? held.name : undefined),
    (earlier) => (earlier === name ? undefined : new RenameKeyReusedError(sku, earlier)),
  );

/**
 * Sells the product no more, for good (ADR 0028): placement refuses orders for it from about a second on (what it
 * caches of the catalogue), and it takes no restock; its stock stays, for the orders in flight and a write-off. Sent
 * again, however late, it records nothing and answers the product as it is: it needs no key, as nothing undoes it.
 */
export const discontinueProduct = async ({ sku }: { sku: string }, context: CommandContext): Promise<ProductFacts> => {
  const { state } = await decideOnProduct({ type: 'DiscontinueProduct', data: { sku } }, context);
  return factsOf(sku, state);
};

export type RegisteredProduct = Extract<ProductState, { status: 'REGISTERED' }>;

/**
 * A product's catalogue facts as they stand now, and its stream's version: the stream loaded eventually consistently,
 * and again strongly consistently for a product not found that way (one registered a moment ago). Undefined for a SKU
 * never registered.
 */
export const currentProduct = async (
  store: EventStore,
  sku: string,
): Promise<{ product: RegisteredProduct; version: number } | undefined> => {
  const read = (consistent: boolean) => load(store, productAggregate, productStreamId(sku), { consistent });
  const first = await read(false);
  const found = first.state.status === 'REGISTERED' ? first : await read(true);
  return found.state.status === 'REGISTERED' ? { product: found.state, version: found.version } : undefined;
};

/** How long placement prices a product from what its function instance last read of it (ADR 0022). */
export const CATALOGUE_FRESH_MS = 1000;
/** The most products one instance keeps; the one read longest ago goes first. */
export const CATALOGUE_CACHED = 10_000;

/**
 * What this process last read of products, by SKU, for pricing: each with its stream's version and when it was read.
 * A warm function prices a product from here for {@link CATALOGUE_FRESH_MS}, then reads the events after that version.
 */
export type CatalogueCache = Map<string, { product: RegisteredProduct; version: number; readAt: number }>;

/**
 * The product as placement prices it: from the cache while fresh, else brought up to date with the events appended
 * since it was read (one eventually consistent read, of nothing mostly), or loaded whole the first time. A new price
 * so reaches every order placed from a second or so after it was given: about as soon as an eventually consistent
 * read shows it. Undefined for a SKU never registered.
 */
export const productForPricing = async (
  store: EventStore,
  sku: string,
  cache: CatalogueCache | undefined,
  now: number,
  kept = CATALOGUE_CACHED,
): Promise<RegisteredProduct | undefined> => {
  const cached = cache?.get(sku);
  if (cached && now - cached.readAt < CATALOGUE_FRESH_MS) return cached.product;
  let entry: { product: RegisteredProduct; version: number } | undefined;
  if (cached) {
    const { state, version } = await load(store, productAggregate, productStreamId(sku), {
      consistent: false,
      from: { state: cached.product, version: cached.version },
    });
    // Nothing takes a registered product back: brought up to date, it stays registered.
    entry = state.status === 'REGISTERED' ? { product: state, version } : undefined;
  } else {
    entry = await currentProduct(store, sku);
  }
  if (!entry) return undefined;
  if (cache) keepLatest(cache, sku, { ...entry, readAt: now }, kept);
  return entry.product;
};
