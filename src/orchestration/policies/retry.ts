import type { Clock } from '../clock.js';
import type { RetryDefinition } from '../definition.js';
import type { Random } from '../random.js';
import { type Policy, startCall } from './policy.js';
import { fail, isRetryable, type Result } from './result.js';

export type RetryOptions = Pick<RetryDefinition, 'maxAttempts' | 'baseDelayMs'> &
  Partial<Pick<RetryDefinition, 'multiplier' | 'maxDelayMs' | 'jitterPercent'>>;

/**
 * The delay before the attempt after `failedAttempt` (1-based): base × multiplier^(n−1),
 * spread by ±jitterPercent using `random`, capped by maxDelayMs, in whole milliseconds.
 */
export function retryDelay(opts: RetryOptions, failedAttempt: number, random?: Random): number {
  let delay = opts.baseDelayMs * (opts.multiplier ?? 2) ** (failedAttempt - 1);
  if (opts.jitterPercent && random) delay *= 1 + ((2 * random.next() - 1) * opts.jitterPercent) / 100;
  if (opts.maxDelayMs !== undefined) delay = Math.min(delay, opts.maxDelayMs);
  return Math.max(0, Math.round(delay));
}

export interface RetryEnv {
  clock: Clock;
  random?: Random;
  signal?: AbortSignal | undefined;
  /** Narrows which errors are retried; an error must also be retryable. */
  shouldRetry?: (error: unknown) => boolean;
  /** Called before each wait with the attempt number that will follow. */
  onRetry?: (info: { nextAttempt: number; delayMs: number; error: unknown }) => void;
}

/** Call `fn` until it succeeds, fails permanently, or attempts run out; waits through the clock. */
export async function executeWithRetry<T>(
  opts: RetryOptions | undefined,
  env: RetryEnv,
  fn: (attempt: number) => Promise<Result<T>>,
): Promise<Result<T>> {
  const max = opts?.maxAttempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    const result = await fn(attempt);
    if (result.ok || attempt >= max || opts === undefined) return result;
    if (!isRetryable(result.error) || (env.shouldRetry && !env.shouldRetry(result.error))) return result;
    const delayMs = retryDelay(opts, attempt, env.random);
    env.onRetry?.({ nextAttempt: attempt + 1, delayMs, error: result.error });
    try {
      await env.clock.sleep(delayMs, env.signal);
    } catch (cancelled) {
      return fail(cancelled);
    }
  }
}

/**
 * `executeWithRetry` as a policy: attempts numbered on from `call.attempt`; each retry is told
 * to `call.events` before its wait. No options: one attempt.
 */
export const retry = (opts: RetryOptions | undefined, env: Omit<RetryEnv, 'signal' | 'onRetry'>): Policy => ({
  execute: (fn, call = startCall()) => {
    const base = call.attempt - 1;
    const told = call.events?.retryScheduled;
    return executeWithRetry(
      opts,
      {
        ...env,
        signal: call.signal,
        ...(told ? { onRetry: (i) => told({ ...i, nextAttempt: i.nextAttempt + base }) } : {}),
      },
      (n) => fn({ ...call, attempt: n + base }),
    );
  },
});
