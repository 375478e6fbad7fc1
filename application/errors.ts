import { DomainError } from '../domain/shared/errors.js';

/** An order names a SKU that was never registered: the request can never succeed as sent. */
export class UnknownSkuError extends DomainError {
  constructor(readonly skus: string[]) {
    super('UNKNOWN_SKU', 'unprocessable', `No product with SKU${skus.length > 1 ? 's' : ''} ${skus.join(', ')}.`);
    this.name = 'UnknownSkuError';
  }
}

/**
 * A customer's cancel of an order confirmed longer ago than the stage's cancellation window: its goods may be on
 * their way. Support (an admin) may still cancel it.
 */
export class CancellationWindowClosedError extends DomainError {
  constructor(
    readonly orderId: string,
    readonly closedAt: string,
  ) {
    super(
      'CANCELLATION_WINDOW_CLOSED',
      'conflict',
      `Order ${orderId} can no longer be cancelled by its customer: it was confirmed, and the time to cancel it ended at ${closedAt}. Contact support.`,
    );
    this.name = 'CancellationWindowClosedError';
  }
}

/**
 * A decision produced an event its own schema refuses: a defect, not the caller's doing (input is validated before
 * it reaches a decision). Nothing is written, since the event could never be read back.
 */
export class UnrecordableEventError extends Error {
  constructor(
    readonly streamId: string,
    readonly type: string,
    options?: ErrorOptions,
  ) {
    super(`Refused to append a ${type} to ${streamId}: it does not match its schema.`, options);
    this.name = 'UnrecordableEventError';
  }
}
