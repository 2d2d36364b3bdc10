import { type ErrorCode, isTroupeError, TroupeError } from '../domain/errors.js';
import { type Clock, cancelledError, realClock } from '../orchestration/clock.js';

/** What can go wrong with a call; `times` limits a fault to the next n matching calls (default: until restored). */
export type Fault =
  | { kind: 'error'; code: ErrorCode; message?: string; times?: number }
  | { kind: 'latency'; ms: number; times?: number }
  /** Never settles until the call's AbortSignal aborts (if it has one): the workflow's timeout ends it. */
  | { kind: 'hang'; times?: number }
  /** TRANSIENT "service unavailable" on every call until `restore()`. */
  | { kind: 'unavailable' }
  /** A PERMANENT error with context `{ crash: true }`, as if the process died during the call. */
  | { kind: 'crash'; times?: number };

export type FaultKind = Fault['kind'];

/** `ok`/`error`: the real method returned/threw; `fault`: an injected fault threw; `cancelled`: the signal aborted a wait. */
export type CallOutcome = 'pending' | 'ok' | 'error' | 'fault' | 'cancelled';

/** One call a fake saw, in the order calls were made. */
export interface CallRecord {
  service: string;
  operation: string;
  /** Clock time the call was made. */
  at: number;
  /** Clock time the call settled. */
  endedAt?: number;
  /** The faults applied to the call, in the order they acted. */
  faults: FaultKind[];
  outcome: CallOutcome;
  /** Code of the error the call ended with (PERMANENT for errors that carry none). */
  code?: string;
}

/** An active rule, as `rules()` reports it. */
export interface FaultRule {
  service: string;
  operation: string;
  fault: Fault;
  /** Calls left before the rule is used up; Infinity until restored. */
  remaining: number;
}

export interface InvokeOptions {
  /** The call's signal: aborting it ends a latency or a hang. */
  signal?: AbortSignal | undefined;
  /** Overrides the injector's clock for this call's waits. */
  clock?: Clock;
}

const usage = (message: string, context: Record<string, unknown>) =>
  new TroupeError('USAGE', message, { context });

/** The reason a wait ends with: the signal's own error (the runner's TIMEOUT), else CANCELLED. */
const abortError = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : cancelledError(signal);

/** Waits `ms` on the clock (forever when undefined), rejecting with the abort reason. */
function wait(clock: Clock, ms: number | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    let cancel = () => {};
    const onAbort = () => {
      cancel();
      reject(abortError(signal as AbortSignal));
    };
    if (ms !== undefined)
      cancel = clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Holds fault rules per service and operation and applies them to calls made through
 * `invoke` (which the fakes do for every async method). For each call the matching rules
 * are consulted in the order they were added: every latency rule adds its delay, then the
 * first error, hang, unavailable or crash rule decides the outcome. Each rule that acts
 * uses up one of its `times`. Waits run on the clock, so a VirtualClock keeps them virtual.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const faults = new FaultInjector({ clock }).failNext('mail', 2).addLatency('mail', 50, 'send');
 * const send = () => clock.drive(faults.invoke('mail', 'send', async () => 'sent'));
 * await send().catch(() => {}); // TRANSIENT, after 50 ms
 * await send().catch(() => {}); // TRANSIENT again
 * await send(); // 'sent'; faults.callCount('mail', 'send') is 3
 * ```
 */
export class FaultInjector {
  readonly clock: Clock;
  readonly #rules: FaultRule[] = [];
  readonly #calls: CallRecord[] = [];

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? realClock;
  }

  /** Add a fault for `service.operation` (`'*'`: every operation of the service). */
  inject(service: string, operation: string, fault: Fault): this {
    const times = 'times' in fault ? fault.times : undefined;
    if (times !== undefined && !(Number.isInteger(times) && times >= 1))
      throw usage(`fault times must be an integer ≥ 1, got ${times}`, { service, operation, fault });
    if (fault.kind === 'latency' && !(Number.isFinite(fault.ms) && fault.ms >= 0))
      throw usage(`latency must be a finite number of ms ≥ 0, got ${fault.ms}`, { service, operation });
    this.#rules.push({
      service,
      operation,
      fault: { ...fault },
      remaining: times ?? Number.POSITIVE_INFINITY,
    });
    return this;
  }

  /** The next `n` calls fail with `code` (TRANSIENT by default: retryable). */
  failNext(service: string, n: number, code: ErrorCode = 'TRANSIENT', operation = '*'): this {
    return this.inject(service, operation, { kind: 'error', code, times: n });
  }

  /** Every call waits `ms` first, until restored. */
  addLatency(service: string, ms: number, operation = '*'): this {
    return this.inject(service, operation, { kind: 'latency', ms });
  }

  /** The next call never settles (until its signal aborts). */
  hangNext(service: string, operation = '*'): this {
    return this.inject(service, operation, { kind: 'hang', times: 1 });
  }

  /** Every call of the service fails TRANSIENT "service unavailable" until restored. */
  makeUnavailable(service: string): this {
    return this.inject(service, '*', { kind: 'unavailable' });
  }

  /** Remove the rules of one service, or all rules. Calls already waiting are not released. */
  restore(service?: string): this {
    for (let i = this.#rules.length - 1; i >= 0; i--)
      if (service === undefined || this.#rules[i]?.service === service) this.#rules.splice(i, 1);
    return this;
  }

  /** Remove every rule and forget every call. */
  reset(): this {
    this.restore();
    this.#calls.length = 0;
    return this;
  }

  /** The active rules (copies), optionally of one service. */
  rules(service?: string): FaultRule[] {
    return this.#rules
      .filter((r) => service === undefined || r.service === service)
      .map((r) => ({ ...r, fault: { ...r.fault } }));
  }

  /** Every call made through the fakes, oldest first. */
  get calls(): readonly CallRecord[] {
    return this.#calls;
  }

  /** How many calls a service (or one of its operations) received, faulted or not. */
  callCount(service: string, operation?: string): number {
    return this.#calls.filter(
      (c) => c.service === service && (operation === undefined || c.operation === operation),
    ).length;
  }

  /** Apply the faults for `service.operation`, then run `call`; every call is logged. */
  async invoke<T>(
    service: string,
    operation: string,
    call: () => T | Promise<T>,
    opts: InvokeOptions = {},
  ): Promise<T> {
    const clock = opts.clock ?? this.clock;
    const record: CallRecord = { service, operation, at: clock.now(), faults: [], outcome: 'pending' };
    this.#calls.push(record);
    const end = (outcome: CallOutcome, error?: unknown) => {
      record.outcome = outcome;
      record.endedAt = clock.now();
      if (error !== undefined) record.code = isTroupeError(error) ? error.code : 'PERMANENT';
    };
    const { delays, terminal } = this.#take(service, operation);
    try {
      for (const ms of delays) {
        record.faults.push('latency');
        await wait(clock, ms, opts.signal);
      }
      if (terminal) {
        record.faults.push(terminal.kind);
        if (terminal.kind === 'hang') await wait(clock, undefined, opts.signal);
        else throw faultError(service, operation, terminal);
      }
    } catch (e) {
      end(isTroupeError(e) && e.context.injected === true ? 'fault' : 'cancelled', e);
      throw e;
    }
    try {
      const value = await call();
      end('ok');
      return value;
    } catch (e) {
      end('error', e);
      throw e;
    }
  }

  /**
   * Log a synchronous call that faults do not apply to, and run it. A promise it returns is
   * logged as it settles (its outcome is the promise's, not "ok" the moment it is made).
   */
  passThrough<T>(service: string, operation: string, call: () => T): T {
    const record: CallRecord = { service, operation, at: this.clock.now(), faults: [], outcome: 'pending' };
    this.#calls.push(record);
    const end = (e?: unknown) => {
      record.outcome = e === undefined ? 'ok' : 'error';
      if (e !== undefined) record.code = isTroupeError(e) ? e.code : 'PERMANENT';
      record.endedAt = this.clock.now();
    };
    let value: T;
    try {
      value = call();
    } catch (e) {
      end(e);
      throw e;
    }
    if (value instanceof Promise)
      value.then(
        () => end(),
        (e: unknown) => end(e ?? new Error('rejected')),
      );
    else end();
    return value;
  }

  /** The latency delays and the deciding fault for one call, using up one of each rule's times. */
  #take(service: string, operation: string): { delays: number[]; terminal: Fault | undefined } {
    const delays: number[] = [];
    let terminal: Fault | undefined;
    for (const rule of [...this.#rules]) {
      if (rule.service !== service || (rule.operation !== '*' && rule.operation !== operation)) continue;
      if (rule.fault.kind === 'latency') delays.push(rule.fault.ms);
      else if (terminal === undefined) terminal = rule.fault;
      else continue;
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.#rules.splice(this.#rules.indexOf(rule), 1);
    }
    return { delays, terminal };
  }
}

/** The error an error, unavailable or crash fault throws; `context.injected` marks it. */
function faultError(service: string, operation: string, fault: Fault): TroupeError {
  const context = { service, operation, injected: true };
  switch (fault.kind) {
    case 'error':
      return new TroupeError(
        fault.code,
        fault.message ?? `${service}.${operation}: injected ${fault.code} error`,
        { context },
      );
    case 'unavailable':
      return new TroupeError('TRANSIENT', `${service}.${operation}: service unavailable`, { context });
    case 'crash':
      return new TroupeError('PERMANENT', `${service}.${operation}: crashed`, {
        context: { ...context, crash: true },
        retryable: false,
      });
    default:
      throw new TroupeError('USAGE', `fault "${fault.kind}" does not throw`);
  }
}
