import { DomainError } from '../domain/shared/errors.js';

/** An order names a SKU that was never registered: the request can never succeed as sent. */
export class UnknownSkuError extends DomainError {
  constructor(readonly skus: string[]) {
    super('UNKNOWN_SKU', 'unprocessable', `No product with SKU ${skus.join(', ')}.`);
    this.name = 'UnknownSkuError';
  }
}
