/**
 * Limits the values' schemas hold (values.ts), in a module without zod, so code that checks one without the schemas
 * (the HTTP stack shared by the functions that load no zod) bundles none of it.
 */

/** A customer id is the token's subject (`sub`), recorded on every order. */
export const CUSTOMER_ID_MAX_LENGTH = 256;
