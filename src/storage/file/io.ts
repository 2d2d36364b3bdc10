import { isTroupeError, TroupeError } from '../../domain/errors.js';
import { errnoOf, ioDetail } from '../../platform/errno.js';

export { errnoOf };

/** Wraps a file-system failure in IO_ERROR naming what was being done to which path. */
export function ioError(action: string, path: string, cause: unknown): TroupeError {
  if (isTroupeError(cause)) return cause;
  const errno = errnoOf(cause);
  return new TroupeError('IO_ERROR', `could not ${action} ${path}: ${ioDetail(cause)}`, {
    cause,
    context: { path, ...(errno ? { errno } : {}) },
  });
}

/**
 * Runs `fn` over `items` with at most `limit` in flight; resolves in input order. On failure it
 * still waits for the calls already started, so nothing keeps writing after the caller moves on.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return out;
}
