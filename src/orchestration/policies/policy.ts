import type { PolicyDefinition, StepDefinition, WorkflowDefinition } from '../definition.js';
import type { CircuitState } from './circuit-breaker.js';
import type { Result } from './result.js';
import type { ExtendDeadline } from './timeout.js';

const FIELDS = ['timeoutMs', 'retry', 'circuitBreaker', 'bulkhead'] as const;

/**
 * The policy a step runs under. Each field (timeoutMs, retry, circuitBreaker, bulkhead) comes
 * from the first place that sets it: the step, the workflow's service policy, the runner's
 * service policy. Fields are taken whole: a step's `retry` replaces the service's `retry`.
 */
export function effectivePolicy(
  step: Pick<StepDefinition, 'service' | 'policy'>,
  def: Pick<WorkflowDefinition, 'policies'>,
  runnerPolicies: Record<string, PolicyDefinition> | undefined,
): PolicyDefinition {
  const layers = [step.policy, def.policies?.services?.[step.service], runnerPolicies?.[step.service]];
  const out: PolicyDefinition = {};
  for (const field of FIELDS) {
    for (const layer of layers) {
      const value = layer?.[field];
      if (value !== undefined) {
        (out as Record<string, unknown>)[field] = value;
        break;
      }
    }
  }
  return out;
}

/** What policies tell of a call as they handle it (each hears only of this call). */
export interface CallEvents {
  /** An attempt is about to call the guarded function. */
  attemptStart?(attempt: number): void;
  /** An attempt finished (timeout included) after `durationMs`. */
  attemptEnd?(attempt: number, result: Result, durationMs: number): void;
  retryScheduled?(info: { nextAttempt: number; delayMs: number; error: unknown }): void;
  /** This call moved its service's circuit to `state` (the breaker says so itself). */
  circuit?(state: CircuitState): void;
}

/** One call as a policy sees it; each layer may pass a changed copy inwards. */
export interface Call {
  /** Aborts the call: the caller's, or a timeout's inside it. */
  signal?: AbortSignal | undefined;
  /** 1-based; a retry layer counts up from here. */
  attempt: number;
  /** Moves the deadline of the innermost timeout later (a no-op without one). */
  extend: ExtendDeadline;
  events?: CallEvents | undefined;
}

/**
 * A resilience policy: runs `fn` under its rule and says how it went as a `Result` (never a
 * throw). Timeout, retry, circuit breaker and bulkhead are each one; `wrap` composes them.
 */
export interface Policy {
  execute<T>(fn: (call: Call) => Promise<Result<T>>, call?: Call): Promise<Result<T>>;
}

/** A call's start: attempt 1 under the given signal. */
export const startCall = (signal?: AbortSignal, events?: CallEvents, attempt = 1): Call => ({
  signal,
  attempt,
  extend: () => {},
  events,
});

/**
 * Policies composed outermost first: `wrap(bulkhead, breaker, retry, timeout)` queues for a
 * slot, checks the circuit once for the whole retried call, and times each attempt. Layers
 * left out (`undefined`) are skipped, so a composition reads as the policy it is.
 */
export function wrap(...layers: ReadonlyArray<Policy | undefined>): Policy {
  const present = layers.filter((p): p is Policy => p !== undefined);
  return {
    execute<T>(fn: (call: Call) => Promise<Result<T>>, call: Call = startCall()): Promise<Result<T>> {
      let inner = fn;
      for (let i = present.length - 1; i >= 0; i--) {
        const policy = present[i] as Policy;
        const next = inner;
        inner = (c) => policy.execute(next, c);
      }
      return inner(call);
    },
  };
}

/** Tells `call.events` of each attempt's start and end (with its duration on `clock`). */
export const attemptEvents = (clock: { now(): number }): Policy => ({
  async execute(fn, call = startCall()) {
    const events = call.events;
    if (!events?.attemptStart && !events?.attemptEnd) return fn(call);
    events.attemptStart?.(call.attempt);
    const started = clock.now();
    const result = await fn(call);
    events.attemptEnd?.(call.attempt, result, clock.now() - started);
    return result;
  },
});
