/**
 * A correlation id a caller may send in `x-correlation-id`: one that is safe to log and to carry in events. Any other
 * is replaced by a fresh one (functions/http/middlewares.ts). Zod-free, so the smallest functions can share it.
 */
export const acceptableCorrelationId = /^[A-Za-z0-9._:-]{1,128}$/;
