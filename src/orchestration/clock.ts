import { cancelledError, TroupeError } from '../domain/errors.js';

/** Time as the engine sees it: every delay, timeout and timestamp goes through one of these. */
export interface Clock {
  /** Milliseconds since the epoch (or since the virtual start). */
  now(): number;
  /** Resolves after `ms`; rejects with CANCELLED as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` once after `ms`; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** The CANCELLED error a sleep rejects with, keeping the abort reason as its cause. */
export { cancelledError } from '../domain/errors.js';

/** Shared by both clocks: a sleep built on `setTimeout` that honours an AbortSignal. */
function sleepWith(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(cancelledError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(cancelledError(signal as AbortSignal));
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The system clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return sleepWith(realClock, ms, signal);
  },
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * The real timers, as they were when this module was loaded: a test runner's fake timers
 * (`vi.useFakeTimers()`, `jest.useFakeTimers()`) installed later never hold up `drive`, which
 * moves its own time and only needs the event loop to turn.
 */
const realTimers = { setImmediate: globalThis.setImmediate, setTimeout: globalThis.setTimeout };

/** Lets every promise chain that is ready to run settle (a macrotask turn drains all microtasks). */
const settle = () => new Promise<void>((resolve) => realTimers.setImmediate(resolve));

/**
 * A clock that only moves when told to, so a scenario with 2-second timeouts and 5-second
 * recovery windows runs in microseconds and always the same way. Timers fire in time order
 * (ties in creation order), and code awaiting a fired timer runs before the next one fires.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const runner = new WorkflowRunner({ services, clock });
 * const retry = { maxAttempts: 3, baseDelayMs: 1_000 };
 * const def = workflow('w').step('call', 'api', 'call', { policy: { retry } }).build();
 * const result = await clock.drive(runner.run(def)); // the backoff waits take no real time
 * clock.now(); // 3000 if the first two attempts failed TRANSIENT
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(opts: { start?: number } = {}) {
    this.#now = opts.start ?? 0;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  setTimeout(fn: () => void, ms: number): () => void {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    // Keep the list sorted by (at, seq); timers are few, so a linear insert is fine.
    let i = this.#timers.length;
    while (i > 0 && (this.#timers[i - 1] as Timer).at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return () => {
      const at = this.#timers.indexOf(timer);
      if (at >= 0) this.#timers.splice(at, 1);
    };
  }

  /** How many timers are waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** When the next timer fires, if any. */
  get nextTimerAt(): number | undefined {
    return this.#timers[0]?.at;
  }

  /** Let pending promise chains run without moving time. */
  async settle(): Promise<void> {
    await settle();
  }

  /** Move time forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + Math.max(0, ms));
  }

  /** Move time forward to `time` (never backwards). */
  async advanceTo(time: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > time) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = Math.max(this.#now, time);
    await settle();
  }

  /**
   * Fire timers until none are left (including timers that firing creates); throws if more
   * than `maxTimers` fire, which means something keeps rescheduling itself.
   */
  async runAll(maxTimers = 100_000): Promise<void> {
    await settle();
    for (let fired = 0; ; fired++) {
      const next = this.#timers[0];
      if (next === undefined) return;
      if (fired >= maxTimers)
        throw new TroupeError('USAGE', `VirtualClock.runAll: more than ${maxTimers} timers fired`, {
          context: { now: this.#now, pendingTimers: this.#timers.length },
        });
      await this.advanceTo(next.at);
    }
  }

  /** Same as `runAll`: run until no timer is pending. */
  advanceUntilIdle(maxTimers?: number): Promise<void> {
    return this.runAll(maxTimers);
  }

  /**
   * Run the clock until `promise` settles, then return its value (or throw its error). When no
   * timer is pending it yields to real I/O (a file write, say) for up to `idleMs` of real time
   * before giving up on moving time and simply awaiting the promise.
   */
  async drive<T>(promise: Promise<T>, opts: { maxTimers?: number; idleMs?: number } = {}): Promise<T> {
    const maxTimers = opts.maxTimers ?? 100_000;
    const idleMs = opts.idleMs ?? 2000;
    let done = false;
    const watched = promise.finally(() => {
      done = true;
    });
    // Avoid an unhandled rejection while we are still moving time.
    watched.catch(() => {});
    await settle();
    let fired = 0;
    let idle = 0;
    while (!done) {
      const next = this.#timers[0];
      if (next === undefined) {
        if (idle++ >= idleMs) break;
        await new Promise<void>((resolve) => realTimers.setTimeout(resolve, 1));
        continue;
      }
      idle = 0;
      if (fired++ >= maxTimers)
        throw new TroupeError('USAGE', `VirtualClock.drive: more than ${maxTimers} timers fired`, {
          context: { now: this.#now },
        });
      await this.advanceTo(next.at);
    }
    return watched;
  }
}
