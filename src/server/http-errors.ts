import { type ErrorCode, isTroupeError, serializeError } from '../domain/errors.js';
import { Redactor } from '../orchestration/redact.js';

/** The HTTP status of each error code: a client's mistake is 4xx, the server's or a store's 5xx. */
const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 422,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  REFERENCE_IN_USE: 409,
  IMMUTABLE_ROLE: 409,
  CONCURRENT_MODIFICATION: 412,
  TIMEOUT: 504,
  CIRCUIT_OPEN: 503,
  BULKHEAD_FULL: 503,
  TRANSIENT: 503,
  PERMANENT: 500,
  CANCELLED: 499,
  WORKFLOW_FAILED: 500,
  NOT_A_TROUPE_DIRECTORY: 500,
  LOCK_FAILED: 503,
  IO_ERROR: 500,
  USAGE: 400,
};

/** Errors without a troupe code of their own: the request was refused before reaching troupe. */
export type HttpOnlyCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'METHOD_NOT_ALLOWED'
  | 'PRECONDITION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE';

export const HTTP_ONLY: Record<HttpOnlyCode, number> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  METHOD_NOT_ALLOWED: 405,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
};

/** A request the HTTP layer refuses before it reaches the library. */
export class HttpRefusal extends Error {
  constructor(
    readonly code: HttpOnlyCode,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON error body: the same `code`s as the CLI's `--json`, every string scrubbed of secrets. */
export function errorBody(e: unknown): { status: number; body: { error: Record<string, unknown> } } {
  if (e instanceof HttpRefusal) return httpError(e.code, e.message);
  const status = isTroupeError(e) ? (STATUS[e.code] ?? 500) : 500;
  const error = isTroupeError(e)
    ? (serializeError(e) as unknown as Record<string, unknown>)
    : { code: 'PERMANENT', message: 'internal error', retryable: false };
  if (isTroupeError(e) && e.issues.length) error.issues = e.issues;
  return { status, body: { error: new Redactor().redact(error) } };
}

/** A refusal of the HTTP layer itself (auth, size, a missing precondition), scrubbed of secrets. */
export function httpError(
  code: HttpOnlyCode,
  message: string,
): { status: number; body: { error: { code: string; message: string; retryable: false } } } {
  // A refusal may quote what the request sent (a header, a path): scrubbed as every error is.
  const error = new Redactor().redact({ code, message, retryable: false as const });
  return { status: HTTP_ONLY[code], body: { error } };
}
