import { TroupeError } from '../../domain/errors.js';
import { type Clock, cancelledError } from '../clock.js';
import { capture, fail, type Result } from './result.js';

/**
 * Run `fn` with a signal that aborts after `timeoutMs` (or when `parent` aborts). The result
 * is TIMEOUT (retryable) or CANCELLED even if `fn` ignores its signal and keeps running.
 */
export async function executeWithTimeout<T>(
  timeoutMs: number | undefined,
  env: { clock: Clock; signal?: AbortSignal | undefined; label: string },
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<Result<T>> {
  const parent = env.signal;
  if (parent?.aborted) return fail(cancelledError(parent));
  // Without a timeout the parent's signal is passed down as is; only its abort needs racing.
  if (timeoutMs === undefined) {
    return parent === undefined ? capture(() => fn(new AbortController().signal)) : raceParent(parent, fn);
  }
  const controller = new AbortController();
  let interrupt: (r: Result<T>) => void = () => {};
  const interrupted = new Promise<Result<T>>((resolve) => {
    interrupt = resolve;
  });
  const onParentAbort = () => {
    const error = cancelledError(parent as AbortSignal);
    controller.abort(error);
    interrupt(fail(error));
  };
  parent?.addEventListener('abort', onParentAbort, { once: true });
  const cancelTimer = env.clock.setTimeout(() => {
    const error = new TroupeError('TIMEOUT', `${env.label} timed out after ${timeoutMs} ms`, {
      context: { timeoutMs },
    });
    controller.abort(error);
    interrupt(fail(error));
  }, timeoutMs);
  try {
    return await Promise.race([capture(() => fn(controller.signal)), interrupted]);
  } finally {
    cancelTimer();
    parent?.removeEventListener('abort', onParentAbort);
  }
}

async function raceParent<T>(
  parent: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<Result<T>> {
  let onAbort: () => void = () => {};
  const interrupted = new Promise<Result<T>>((resolve) => {
    onAbort = () => resolve(fail(cancelledError(parent)));
  });
  parent.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([capture(() => fn(parent)), interrupted]);
  } finally {
    parent.removeEventListener('abort', onAbort);
  }
}
