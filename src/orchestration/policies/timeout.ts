import { TroupeError } from '../../domain/errors.js';
import { type Clock, cancelledError } from '../clock.js';
import { type Policy, startCall } from './policy.js';
import { capture, fail, type Result } from './result.js';

/** Moves a running call's deadline later (never earlier): `ms` from now. */
export type ExtendDeadline = (ms: number) => void;
const noExtension: ExtendDeadline = () => {};

/**
 * Run `fn` with a signal that aborts after `timeoutMs` (or when `parent` aborts). The result
 * is TIMEOUT (retryable) or CANCELLED even if `fn` ignores its signal and keeps running. `fn`
 * may push its deadline later once it knows how much work it has (a commit of many files).
 */
export function executeWithTimeout<T>(
  timeoutMs: number | undefined,
  env: { clock: Clock; signal?: AbortSignal | undefined; label: string },
  fn: (signal: AbortSignal, extend: ExtendDeadline) => Promise<T>,
): Promise<Result<T>> {
  return timed(timeoutMs, env, (signal, extend) => capture(() => fn(signal, extend)));
}

/** The timeout itself, around a call that already says how it went (it never throws). */
async function timed<T>(
  timeoutMs: number | undefined,
  env: { clock: Clock; signal?: AbortSignal | undefined; label: string },
  fn: (signal: AbortSignal, extend: ExtendDeadline) => Promise<Result<T>>,
): Promise<Result<T>> {
  const parent = env.signal;
  if (parent?.aborted) return fail(cancelledError(parent));
  // Without a timeout the parent's signal is passed down as is; only its abort needs racing.
  if (timeoutMs === undefined) {
    return parent === undefined
      ? fn(new AbortController().signal, noExtension)
      : raceParent(parent, (signal) => fn(signal, noExtension));
  }
  const { clock } = env;
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
  const started = clock.now();
  let deadline = started + timeoutMs;
  const fire = () => {
    const allowed = deadline - started;
    const error = new TroupeError(
      'TIMEOUT',
      `${env.label} timed out after ${allowed} ms${allowed > timeoutMs ? ` (its timeout of ${timeoutMs} ms, extended for its work)` : ''}`,
      { context: { timeoutMs: allowed } },
    );
    controller.abort(error);
    interrupt(fail(error));
  };
  let cancelTimer = clock.setTimeout(fire, timeoutMs);
  const extend: ExtendDeadline = (ms) => {
    const next = clock.now() + Math.max(0, ms);
    if (next <= deadline || controller.signal.aborted) return;
    cancelTimer();
    deadline = next;
    cancelTimer = clock.setTimeout(fire, next - clock.now());
  };
  try {
    return await Promise.race([fn(controller.signal, extend), interrupted]);
  } finally {
    cancelTimer();
    parent?.removeEventListener('abort', onParentAbort);
  }
}

async function raceParent<T>(
  parent: AbortSignal,
  fn: (signal: AbortSignal) => Promise<Result<T>>,
): Promise<Result<T>> {
  let onAbort: () => void = () => {};
  const interrupted = new Promise<Result<T>>((resolve) => {
    onAbort = () => resolve(fail(cancelledError(parent)));
  });
  parent.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([fn(parent), interrupted]);
  } finally {
    parent.removeEventListener('abort', onAbort);
  }
}

/** `executeWithTimeout` as a policy: each call gets `timeoutMs` (none: only the caller's signal). */
export const timeout = (timeoutMs: number | undefined, env: { clock: Clock; label: string }): Policy => ({
  execute: (fn, call = startCall()) =>
    timed(timeoutMs, { clock: env.clock, label: env.label, signal: call.signal }, async (signal, extend) => {
      try {
        return await fn({ signal, extend, attempt: call.attempt, events: call.events });
      } catch (error) {
        return fail(error); // a guarded call that throws instead of failing is a failure all the same
      }
    }),
});
