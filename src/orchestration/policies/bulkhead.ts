import { TroupeError } from '../../domain/errors.js';
import { cancelledError } from '../clock.js';
import { type Call, type Policy, startCall } from './policy.js';
import { fail, type Result } from './result.js';

export interface BulkheadOptions {
  /** Calls running at once. */
  maxConcurrent: number;
  /** Calls waiting for a slot; one more is rejected with BULKHEAD_FULL. */
  maxQueue: number;
}

/**
 * A named pool that isolates a group of calls: at most `maxConcurrent` run, at most
 * `maxQueue` wait (first come, first served), and the rest are rejected at once, so a flood
 * in one pool cannot starve another.
 */
export class Bulkhead implements Policy {
  readonly name: string;
  readonly options: BulkheadOptions;
  #running = 0;
  readonly #queue: Array<() => void> = [];

  constructor(name: string, options: BulkheadOptions) {
    this.name = name;
    this.options = options;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  #full(): TroupeError {
    return new TroupeError(
      'BULKHEAD_FULL',
      `bulkhead "${this.name}" is full: ${this.#running} running (max ${this.options.maxConcurrent}), ${this.#queue.length} queued (max ${this.options.maxQueue})`,
      { context: { bulkhead: this.name, ...this.options } },
    );
  }

  #release(): void {
    const next = this.#queue.shift();
    // Hand the slot straight to the next waiter so nobody can overtake it.
    if (next) next();
    else this.#running--;
  }

  /** Run `fn` in a slot, waiting in the queue if needed; a queued call leaves the queue on abort. */
  async execute<T>(fn: (call: Call) => Promise<Result<T>>, call: Call = startCall()): Promise<Result<T>> {
    const signal = call.signal;
    if (signal?.aborted) return fail(cancelledError(signal));
    if (this.#running < this.options.maxConcurrent) {
      this.#running++;
    } else if (this.#queue.length < this.options.maxQueue) {
      const admitted = await new Promise<boolean>((resolve) => {
        const enter = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        };
        const onAbort = () => {
          const at = this.#queue.indexOf(enter);
          if (at >= 0) this.#queue.splice(at, 1);
          resolve(false);
        };
        this.#queue.push(enter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (!admitted) return fail(cancelledError(signal as AbortSignal));
    } else {
      return fail(this.#full());
    }
    try {
      return await fn(call);
    } finally {
      this.#release();
    }
  }
}
