import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ProblemSlug, problemType } from '../../api/problems.js';

/** A field-level complaint: a JSON pointer into the body, or the name of a header or query parameter. */
export type FieldError = { pointer?: string; header?: string; parameter?: string; detail: string };

/**
 * An HTTP failure to be answered as an RFC 9457 problem document. `slug` names the problem type, one of the
 * contract's (api/problems.ts, explained in docs/problems.md).
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: ProblemSlug,
    readonly title: string,
    readonly detail: string,
    readonly extras: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

export const problemResponse = (
  error: ProblemError,
  correlationId: string,
  instance?: string,
): APIGatewayProxyStructuredResultV2 => ({
  statusCode: error.status,
  headers: { 'content-type': 'application/problem+json', ...error.extras.headers },
  body: JSON.stringify({
    type: problemType(error.slug),
    title: error.title,
    status: error.status,
    detail: error.detail,
    ...(instance ? { instance } : {}),
    correlationId,
    ...(error.extras.errors ? { errors: error.extras.errors } : {}),
  }),
});
