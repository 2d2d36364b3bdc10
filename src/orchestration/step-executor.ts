import { type SerializedError, TroupeError } from '../domain/errors.js';
import { crashPoint } from '../platform/crash-points.js';
import type { StepDefinition } from './definition.js';
import type { Handler, StepContext } from './handlers.js';
import { forLog, inputForLog, shapeScrubbed } from './logged.js';
import { executeFallback, shouldFallback } from './policies/fallback.js';
import { attemptEvents, type CallEvents, startCall, wrap } from './policies/policy.js';
import { capture, codeOf, isRetryable, type Result } from './policies/result.js';
import { retry } from './policies/retry.js';
import { timeout } from './policies/timeout.js';
import { resolveRefs } from './refs.js';
import type { RunContext } from './run-context.js';

export type StepOutcome =
  | { ok: true; stepId: string; input: unknown; output: unknown; viaFallback: boolean; attempts: number }
  | { ok: false; stepId: string; error: unknown; attempts: number };

/** Look up a handler; a missing one is reported before a run starts, so this is a safety net. */
export function handlerFor(ctx: RunContext, service: string, operation: string): Handler {
  const h = ctx.engine.services[service]?.[operation];
  if (typeof h !== 'function')
    throw new TroupeError('VALIDATION_FAILED', `no handler for "${service}.${operation}"`, {
      context: { service, operation },
    });
  return h;
}

/**
 * Run one step through its policies (bulkhead → circuit breaker → retry → timeout → handler),
 * re-running it on a conflict if its recovery says so, and using its fallback while the
 * circuit is open. Emits start/attempt/retry/circuit/success events; the scheduler decides
 * what a failure means (fail, defer, re-run sequentially) and emits that.
 */
export async function executeStep(
  ctx: RunContext,
  step: StepDefinition,
  attemptsBefore: number,
): Promise<StepOutcome> {
  const { clock, random } = ctx.engine;
  const started = clock.now();
  const stepId = step.id;
  let input: unknown;
  try {
    input = resolveRefs(step.input, { input: ctx.input, steps: ctx.completed }, `step "${stepId}" input`);
  } catch (error) {
    ctx.stepEvent(step, 'start', attemptsBefore + 1);
    return { ok: false, stepId, error, attempts: attemptsBefore + 1 };
  }
  // Read back only by a compensation that takes `{ input, output }`, and by one whose input
  // names what it needs (a step's input among it).
  const inputNeeded =
    ctx.plan.compensationRefs ||
    (step.compensate !== undefined &&
      step.compensate.input === undefined &&
      step.compensate.needs !== 'output');
  const logged = inputForLog(input, ctx.redactor, inputNeeded);
  // An input kept only to be shown had every key-like word redacted already (redactKeyLike).
  const configuration = inputNeeded && ctx.engine.configurationServices.has(step.service);
  ctx.stepEvent(step, 'start', attemptsBefore + 1, { input: shapeScrubbed(logged, configuration) });

  const policy = ctx.policyFor(step);
  const breaker = policy.circuitBreaker
    ? ctx.engine.breakerFor(step.service, policy.circuitBreaker)
    : undefined;
  const bulkhead = policy.bulkhead === undefined ? undefined : ctx.engine.bulkhead(policy.bulkhead);
  const handler = handlerFor(ctx, step.service, step.operation);
  const resolveConflicts = step.recovery === 'resolve-conflict-and-retry';
  const rounds = resolveConflicts ? (policy.retry?.maxAttempts ?? 3) : 1;
  const label = `${step.service}.${step.operation}`;

  let attempts = attemptsBefore;
  let roundAttempt = attempts + 1;
  let previousError: SerializedError | undefined;
  const events: CallEvents = {
    // The breaker tells of the transition this step's call caused, never a parallel step's.
    circuit: (state) => ctx.stepEvent(step, 'circuit', roundAttempt, { circuit: state }),
    attemptStart: (attempt) => {
      attempts = attempt;
      ctx.stepEvent(step, 'attempt', attempt);
    },
    attemptEnd: (attempt, result, durationMs) => {
      if (!result.ok)
        ctx.stepEvent(step, 'attempt-failed', attempt, {
          durationMs,
          error: ctx.describeError(result.error, step, attempt),
        });
    },
    retryScheduled: ({ nextAttempt, delayMs, error }) =>
      ctx.stepEvent(step, 'retry-scheduled', nextAttempt, {
        delayMs,
        error: ctx.describeError(error, step, nextAttempt - 1),
      }),
  };
  const succeed = (output: unknown, viaFallback: boolean): StepOutcome => {
    // Read back to resume the run, by compensations that name other steps' outputs, and to
    // undo this step unless it recorded an intent (recovery then undoes it from the intent).
    const outputNeeded =
      ctx.plan.resumable ||
      ctx.plan.compensationRefs ||
      (step.compensate !== undefined && !ctx.intents.get(stepId)?.length);
    const fields = { durationMs: clock.now() - started, output: forLog(output, ctx.redactor, outputNeeded) };
    crashPoint(`step:${stepId}:done`);
    ctx.stepEvent(step, 'success', attempts, viaFallback ? { ...fields, viaFallback } : fields);
    return { ok: true, stepId, input, output, viaFallback, attempts };
  };

  // bulkhead → circuit breaker → retry → (attempt events) → timeout → handler.
  const guarded = wrap(
    bulkhead,
    breaker,
    retry(policy.retry, {
      clock,
      random,
      // A conflict is resolved by re-running the step below, not by waiting and retrying.
      ...(resolveConflicts ? { shouldRetry: (e: unknown) => codeOf(e) !== 'CONCURRENT_MODIFICATION' } : {}),
    }),
    attemptEvents(clock),
    timeout(policy.timeoutMs, { clock, label }),
  );
  let result: Result;
  for (let round = 1; ; round++) {
    roundAttempt = attempts + 1;
    result = await guarded.execute(
      (call) => {
        const { signal = new AbortController().signal, attempt } = call;
        const sc: StepContext = {
          signal,
          attempt,
          extendDeadline: call.extend,
          runId: ctx.runId,
          workflowId: ctx.workflowId,
          stepId,
          clock,
          random,
          intent: async (data, opts) => {
            const list = ctx.intents.get(stepId) ?? [];
            list.push(data);
            ctx.intents.set(stepId, list);
            const fields = { output: ctx.redactor.redact(data) };
            if (opts?.carried) return ctx.carriedStepEvent(step, 'intent', attempt, fields);
            ctx.stepEvent(step, 'intent', attempt, fields);
            const error = await ctx.flush();
            if (error) throw error;
            return undefined;
          },
        };
        if (previousError) sc.previousError = previousError;
        if (ctx.epoch !== undefined) sc.fence = { runId: ctx.runId, epoch: ctx.epoch };
        crashPoint(`step:${stepId}`);
        return capture(() => ctx.track(stepId, handler(input, sc)));
      },
      startCall(ctx.signal, events, attempts + 1),
    );
    if (result.ok) return succeed(result.value, false);
    // A conflict is re-run; a write refused because the run was taken over (not retryable) is not.
    if (round >= rounds || codeOf(result.error) !== 'CONCURRENT_MODIFICATION' || !isRetryable(result.error))
      break;
    previousError = ctx.describeError(result.error, step, attempts);
    ctx.stepEvent(step, 'conflict-retry', attempts + 1, { error: previousError });
  }

  if (step.fallback && shouldFallback(result.error)) {
    const original = result.error;
    ctx.stepEvent(step, 'fallback', attempts, { error: ctx.describeError(original, step, attempts) });
    const fallback = await capture(() =>
      executeFallback(step.fallback as NonNullable<StepDefinition['fallback']>, (operation, fbInput) => {
        const h = handlerFor(ctx, step.service, operation);
        const resolved =
          fbInput === undefined
            ? input
            : resolveRefs(
                fbInput,
                { input: ctx.input, steps: ctx.completed },
                `step "${stepId}" fallback input`,
              );
        // The fallback gets the step's timeout, and nothing else: it stands in for a service that is down.
        return timeout(policy.timeoutMs, { clock, label: `${step.service}.${operation}` }).execute(
          ({ signal = new AbortController().signal, extend }) =>
            capture(() =>
              h(resolved, {
                signal,
                extendDeadline: extend,
                attempt: attempts,
                runId: ctx.runId,
                workflowId: ctx.workflowId,
                stepId,
                clock,
              }),
            ),
          startCall(ctx.signal, undefined, attempts),
        );
      }),
    );
    const settled: Result = fallback.ok ? fallback.value : fallback;
    if (settled.ok) return succeed(settled.value, true);
    // Still a circuit-open failure (so a 'defer' recovery applies); the fallback's error is the cause.
    const error = new TroupeError('CIRCUIT_OPEN', `${label}: circuit open and the fallback failed`, {
      cause: settled.error,
      retryable: false,
      context: { circuitError: ctx.describeError(original) },
    });
    return { ok: false, stepId, error, attempts };
  }
  return { ok: false, stepId, error: result.error, attempts };
}
