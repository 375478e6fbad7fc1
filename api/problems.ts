/**
 * Every problem type the API answers, by slug, with its status: the contract's list, which docs/problems.md explains
 * and the document narrows per answer (`type` is one of the slugs that route and status can give).
 */
export const problemStatus = {
  'malformed-json': 400,
  'body-required': 400,
  'validation-failed': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'product-already-registered': 409,
  'invalid-order-transition': 409,
  'concurrent-modification': 409,
  'cancellation-window-closed': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'unknown-sku': 422,
  'product-discontinued': 422,
  'mixed-currencies': 422,
  'duplicate-order-line': 422,
  'order-total-too-large': 422,
  'invalid-cursor': 422,
  'order-already-placed': 422,
  'registration-key-reused': 422,
  'restock-key-reused': 422,
  'write-off-key-reused': 422,
  'reprice-key-reused': 422,
  'rename-key-reused': 422,
  'write-off-exceeds-available': 422,
  'stock-limit-exceeded': 422,
  'internal-error': 500,
  'service-unavailable': 503,
} as const satisfies Record<string, number>;

export type ProblemSlug = keyof typeof problemStatus;

export const isProblemSlug = (slug: string): slug is ProblemSlug => Object.hasOwn(problemStatus, slug);

export const problemType = (slug: ProblemSlug): string => `urn:orderflow:problem:${slug}`;

/**
 * At most this many field errors in one answer: a 64 KiB body of unknown keys named thousands, an answer six times
 * its size. The detail still counts them all.
 */
export const FIELD_ERRORS_LISTED = 100;
