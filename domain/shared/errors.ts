/**
 * How a refused command should be understood by a caller: the command clashes with the aggregate's current state
 * (`conflict`), names something that does not exist (`not-found`), can never succeed as given (`unprocessable`),
 * or asks for what this caller may not have (`forbidden`). Adapters map the kind, never the class, so a new error
 * needs no new mapping.
 */
export type DomainErrorKind = 'conflict' | 'forbidden' | 'not-found' | 'unprocessable';

/** A command the domain does not allow. `code` is stable and documented; `message` is for people. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: DomainErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class ProductAlreadyRegisteredError extends DomainError {
  constructor(readonly sku: string) {
    super(
      'PRODUCT_ALREADY_REGISTERED',
      'conflict',
      `Product ${sku} is already registered; a registration sent again is answered as registered only under the Idempotency-Key it was first sent with.`,
    );
    this.name = 'ProductAlreadyRegisteredError';
  }
}

export class RegistrationKeyReusedError extends DomainError {
  constructor(readonly sku: string) {
    super(
      'REGISTRATION_KEY_REUSED',
      'unprocessable',
      `Product ${sku} was registered under this idempotency key with another name, price or initial stock; a key cannot be reused for another registration.`,
    );
    this.name = 'RegistrationKeyReusedError';
  }
}

/** `1 unit`, `3 units`. */
const units = (count: number) => `${count} unit${count === 1 ? '' : 's'}`;

export class RestockKeyReusedError extends DomainError {
  constructor(
    readonly sku: string,
    readonly quantity: number,
  ) {
    super(
      'RESTOCK_KEY_REUSED',
      'unprocessable',
      `Product ${sku} was already restocked under this idempotency key with ${units(quantity)}; a key cannot be reused for another restock.`,
    );
    this.name = 'RestockKeyReusedError';
  }
}

export class WriteOffKeyReusedError extends DomainError {
  constructor(
    readonly sku: string,
    readonly quantity: number,
  ) {
    super(
      'WRITE_OFF_KEY_REUSED',
      'unprocessable',
      `Product ${sku} had ${units(quantity)} written off under this idempotency key; a key cannot be reused for another write-off.`,
    );
    this.name = 'WriteOffKeyReusedError';
  }
}

export class RepriceKeyReusedError extends DomainError {
  constructor(
    readonly sku: string,
    readonly price: { amount: number; currency: string },
  ) {
    super(
      'REPRICE_KEY_REUSED',
      'unprocessable',
      `Product ${sku} was already given a new price under this idempotency key, ${price.amount} minor units of ${price.currency}; a key cannot be reused for another price.`,
    );
    this.name = 'RepriceKeyReusedError';
  }
}

/** An idempotency key already used for a new name of the product, sent again with another name. */
export class RenameKeyReusedError extends DomainError {
  constructor(
    readonly sku: string,
    readonly earlierName: string,
  ) {
    super(
      'RENAME_KEY_REUSED',
      'unprocessable',
      `Product ${sku} was already given a new name under this idempotency key, ${JSON.stringify(earlierName)}; a key cannot be reused for another name.`,
    );
    this.name = 'RenameKeyReusedError';
  }
}

/** An order for a product, or a restock of one, that is sold no more (ADR 0028): it never will be again. */
export class ProductDiscontinuedError extends DomainError {
  constructor(readonly skus: string[]) {
    super(
      'PRODUCT_DISCONTINUED',
      'unprocessable',
      `Product${skus.length > 1 ? 's' : ''} ${skus.join(', ')} ${skus.length > 1 ? 'are' : 'is'} discontinued: sold and restocked no more.`,
    );
    this.name = 'ProductDiscontinuedError';
  }
}

/** A write-off of more units than are available: units held by orders in flight, or sold, are not to be written off. */
export class WriteOffExceedsAvailableError extends DomainError {
  constructor(
    readonly sku: string,
    readonly quantity: number,
    readonly available: number | undefined,
  ) {
    super(
      'WRITE_OFF_EXCEEDS_AVAILABLE',
      'unprocessable',
      `Product ${sku} has ${available === undefined ? 'too few units' : units(available)} available to write off ${units(quantity)}; units held by orders are not written off.`,
    );
    this.name = 'WriteOffExceedsAvailableError';
  }
}

export class ProductNotFoundError extends DomainError {
  constructor(readonly sku: string) {
    super('PRODUCT_NOT_FOUND', 'not-found', `Product ${sku} does not exist.`);
    this.name = 'ProductNotFoundError';
  }
}

export class StockLimitExceededError extends DomainError {
  constructor(
    readonly sku: string,
    readonly supplied: number,
    readonly quantity: number,
    readonly limit: number,
  ) {
    super(
      'STOCK_LIMIT_EXCEEDED',
      'unprocessable',
      `Product ${sku} has been supplied ${units(supplied)}; ${quantity} more would pass the limit of ${limit}.`,
    );
    this.name = 'StockLimitExceededError';
  }
}

export class StockNotReservedError extends DomainError {
  constructor(readonly orderId: string) {
    super('STOCK_NOT_RESERVED', 'conflict', `Order ${orderId} holds no reserved stock to sell.`);
    this.name = 'StockNotReservedError';
  }
}

export class OrderNotFoundError extends DomainError {
  constructor(readonly orderId: string) {
    super('ORDER_NOT_FOUND', 'not-found', `Order ${orderId} does not exist.`);
    this.name = 'OrderNotFoundError';
  }
}

export class OrderAlreadyPlacedError extends DomainError {
  constructor(readonly orderId: string) {
    super(
      'ORDER_ALREADY_PLACED',
      'unprocessable',
      `Order ${orderId} was already placed with different contents; an idempotency key cannot be reused for another order.`,
    );
    this.name = 'OrderAlreadyPlacedError';
  }
}

export class InvalidOrderTransitionError extends DomainError {
  constructor(
    readonly orderId: string,
    readonly from: string,
    readonly to: string,
  ) {
    super('INVALID_ORDER_TRANSITION', 'conflict', `Order ${orderId} is ${from} and cannot become ${to}.`);
    this.name = 'InvalidOrderTransitionError';
  }
}

export class MixedCurrenciesError extends DomainError {
  constructor(readonly currencies: string[]) {
    super('MIXED_CURRENCIES', 'unprocessable', `An order is paid in one currency; got ${currencies.join(', ')}.`);
    this.name = 'MixedCurrenciesError';
  }
}

export class OrderTotalTooLargeError extends DomainError {
  constructor(readonly currency: string) {
    super(
      'ORDER_TOTAL_TOO_LARGE',
      'unprocessable',
      `The order's total is more than ${Number.MAX_SAFE_INTEGER} minor units of ${currency}, the largest amount recorded exactly.`,
    );
    this.name = 'OrderTotalTooLargeError';
  }
}

export class DuplicateOrderLineError extends DomainError {
  constructor(readonly sku: string) {
    super('DUPLICATE_ORDER_LINE', 'unprocessable', `Product ${sku} appears on more than one line.`);
    this.name = 'DuplicateOrderLineError';
  }
}

export class PaymentStateError extends DomainError {
  constructor(
    readonly orderId: string,
    readonly status: string,
    readonly attempted: string,
  ) {
    super('INVALID_PAYMENT_TRANSITION', 'conflict', `Payment of order ${orderId} is ${status}; cannot ${attempted}.`);
    this.name = 'PaymentStateError';
  }
}
