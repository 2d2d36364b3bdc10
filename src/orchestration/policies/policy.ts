import type { Clock } from '../clock.js';
import type { PolicyDefinition, StepDefinition, WorkflowDefinition } from '../definition.js';
import type { Random } from '../random.js';
import type { Bulkhead } from './bulkhead.js';
import type { CircuitBreaker, CircuitState } from './circuit-breaker.js';
import type { Result } from './result.js';
import { executeWithRetry } from './retry.js';
import { type ExtendDeadline, executeWithTimeout } from './timeout.js';

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

export interface PipelineHooks {
  /** An attempt is about to call the handler. */
  attemptStart?(attempt: number): void;
  /** An attempt finished (timeout included) after `durationMs`. */
  attemptEnd?(attempt: number, result: Result, durationMs: number): void;
  retryScheduled?(info: { nextAttempt: number; delayMs: number; error: unknown }): void;
  /** This call moved its service's circuit to `state` (the breaker says so itself). */
  circuit?(state: CircuitState): void;
}

export interface PipelineEnv {
  clock: Clock;
  random: Random;
  policy: PolicyDefinition;
  signal?: AbortSignal | undefined;
  bulkhead?: Bulkhead | undefined;
  breaker?: CircuitBreaker | undefined;
  /** Names the call in TIMEOUT messages: `service.operation`. */
  label: string;
  /** Added to the retry layer's attempt number (a recovery may run the pipeline again). */
  attemptOffset?: number;
  shouldRetry?: (error: unknown) => boolean;
  hooks?: PipelineHooks;
}

/** bulkhead → circuit breaker → retry → timeout → call, each layer present only if configured. */
export function executePipeline<T>(
  env: PipelineEnv,
  call: (signal: AbortSignal, attempt: number, extend: ExtendDeadline) => Promise<T>,
): Promise<Result<T>> {
  const { clock, policy, hooks } = env;
  const offset = env.attemptOffset ?? 0;
  const once = async (n: number): Promise<Result<T>> => {
    const attempt = n + offset;
    hooks?.attemptStart?.(attempt);
    const started = hooks?.attemptEnd ? clock.now() : 0;
    const result = await executeWithTimeout(
      policy.timeoutMs,
      { clock, signal: env.signal, label: env.label },
      (signal, extend) => call(signal, attempt, extend),
    );
    hooks?.attemptEnd?.(attempt, result, clock.now() - started);
    return result;
  };
  const retried = () =>
    executeWithRetry(
      policy.retry,
      {
        clock,
        random: env.random,
        signal: env.signal,
        ...(env.shouldRetry ? { shouldRetry: env.shouldRetry } : {}),
        ...(hooks?.retryScheduled
          ? {
              onRetry: (i: { nextAttempt: number; delayMs: number; error: unknown }) =>
                hooks.retryScheduled?.({ ...i, nextAttempt: i.nextAttempt + offset }),
            }
          : {}),
      },
      once,
    );
  const onTransition = hooks?.circuit;
  const guarded = env.breaker
    ? () => (env.breaker as CircuitBreaker).execute(retried, onTransition ? { onTransition } : {})
    : retried;
  return env.bulkhead ? env.bulkhead.execute(guarded, env.signal) : guarded();
}
