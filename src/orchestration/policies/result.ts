import { type ErrorCode, isTroupeError } from '../../domain/errors.js';

/** Inside the engine an expected failure is a value, not an exception. */
export type Result<T = unknown> = { ok: true; value: T } | { ok: false; error: unknown };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (error: unknown): { ok: false; error: unknown } => ({ ok: false, error });

/** Run `fn`, turning a throw or rejection into a failed result. */
export async function capture<T>(fn: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Whether to try again is a property of the error: only TroupeErrors marked retryable are. */
export const isRetryable = (e: unknown): boolean => isTroupeError(e) && e.retryable;

/** The stable code of any thrown value; plain errors are PERMANENT. */
export const codeOf = (e: unknown): ErrorCode => (isTroupeError(e) ? e.code : 'PERMANENT');
