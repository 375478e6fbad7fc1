/**
 * Limits the values' schemas hold (values.ts), in a module without zod, so code that checks one without the schemas
 * (the HTTP stack shared by the functions that load no zod) bundles none of it.
 */

/**
 * The most units a SKU is ever supplied (registered with plus restocked), and so the most any of its stock figures
 * reaches: read models and answers hold them to it.
 */
export const STOCK_LEVEL_MAX = 1_000_000_000;

/** A customer id is the token's subject (`sub`), recorded on every order. */
export const CUSTOMER_ID_MAX_LENGTH = 256;
