import { isAnswer, TroupeError } from '../../domain/errors.js';
import type { Clock } from '../clock.js';
import type { CircuitBreakerDefinition } from '../definition.js';
import { type Call, type Policy, startCall } from './policy.js';
import { codeOf, fail, type Result } from './result.js';

export type CircuitState = 'closed' | 'open' | 'half-open';
export type CircuitBreakerOptions = CircuitBreakerDefinition;

/** True if this error should count towards opening the circuit. */
export const countsAsFailure = (error: unknown): boolean => !isAnswer(codeOf(error));

/**
 * A consecutive-failure circuit breaker for one service. Closed: calls pass, and after
 * `failureThreshold` failures in a row it opens. Open: calls fail fast with CIRCUIT_OPEN
 * until `recoveryMs` has passed; then exactly one call goes through as a half-open probe,
 * whose success closes the circuit and whose failure opens it again.
 */
export class CircuitBreaker implements Policy {
  readonly name: string;
  #options: CircuitBreakerOptions;
  readonly #clock: Clock;
  readonly #onStateChange: ((from: CircuitState, to: CircuitState) => void) | undefined;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probing = false;

  constructor(
    name: string,
    options: CircuitBreakerOptions,
    clock: Clock,
    onStateChange?: (from: CircuitState, to: CircuitState) => void,
  ) {
    this.name = name;
    this.#options = options;
    this.#clock = clock;
    this.#onStateChange = onStateChange;
  }

  /** Use these thresholds from now on (the state is kept). */
  configure(options: CircuitBreakerOptions): void {
    this.#options = options;
  }

  /** The state a call made now would see: an open circuit past its recovery time reads half-open. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock.now() >= this.retryAt) return 'half-open';
    return this.#state;
  }

  /** When an open circuit lets a probe through. */
  get retryAt(): number {
    return this.#openedAt + this.#options.recoveryMs;
  }

  /** Consecutive failures counted while closed. */
  get failures(): number {
    return this.#failures;
  }

  /** `cause`: the call whose outcome moves it, told of the state it moved the circuit to. */
  #move(to: CircuitState, cause?: (to: CircuitState) => void): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    cause?.(to);
    this.#onStateChange?.(from, to);
  }

  #open(cause?: (to: CircuitState) => void): void {
    this.#openedAt = this.#clock.now();
    this.#failures = 0;
    this.#move('open', cause);
  }

  #rejection(): TroupeError {
    const retryAt = this.#state === 'half-open' ? this.#clock.now() : this.retryAt;
    return new TroupeError(
      'CIRCUIT_OPEN',
      `circuit for "${this.name}" is ${this.#state}: failing fast until ${this.#state === 'half-open' ? 'the probe call finishes' : `${Math.max(0, retryAt - this.#clock.now())} ms from now`}`,
      { retryable: false, context: { service: this.name, circuit: this.#state, retryAt } },
    );
  }

  /**
   * Run `fn` if the circuit allows it, and count its outcome. `call.events.circuit` hears of
   * the state this call moved the circuit to (from the state it found), and only of that: a
   * transition a parallel call caused is that call's.
   */
  async execute<T>(fn: (call: Call) => Promise<Result<T>>, call: Call = startCall()): Promise<Result<T>> {
    const found = this.state;
    let moved: CircuitState | undefined;
    const cause = (to: CircuitState) => {
      moved = to;
    };
    const result = await this.#execute(() => fn(call), cause);
    if (moved !== undefined && moved !== found) call.events?.circuit?.(moved);
    return result;
  }

  async #execute<T>(fn: () => Promise<Result<T>>, cause: (to: CircuitState) => void): Promise<Result<T>> {
    let probe = false;
    if (this.#state === 'open') {
      if (this.#clock.now() < this.retryAt) return fail(this.#rejection());
      this.#move('half-open', cause);
    }
    if (this.#state === 'half-open') {
      if (this.#probing) return fail(this.#rejection());
      this.#probing = true;
      probe = true;
    }
    const result = await fn();
    const failed = !result.ok && countsAsFailure(result.error);
    if (probe) {
      this.#probing = false;
      if (failed) this.#open(cause);
      else this.#move('closed', cause);
    } else if (this.#state === 'closed') {
      if (!failed) this.#failures = 0;
      else if (++this.#failures >= this.#options.failureThreshold) this.#open(cause);
    }
    return result;
  }
}
