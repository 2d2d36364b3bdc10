import { crashPoint } from '../platform/crash-points.js';
import type { StepDefinition } from './definition.js';
import type { CompensationFailure } from './events.js';
import { wrap } from './policies/policy.js';
import { capture, type Result } from './policies/result.js';
import { retry } from './policies/retry.js';
import { timeout } from './policies/timeout.js';
import { resolveRefs } from './refs.js';
import type { RunContext } from './run-context.js';
import { handlerFor } from './step-executor.js';

export interface CompensationResult {
  /** Step ids in the order they were compensated. */
  compensated: string[];
  failures: CompensationFailure[];
}

/** The steps to undo, last completed first: only those with a `compensate` that really ran. */
export function compensationOrder(ctx: RunContext): StepDefinition[] {
  const out: StepDefinition[] = [];
  for (const [id, result] of [...ctx.completed].reverse()) {
    const step = ctx.plan.byId.get(id);
    if (!step?.compensate || result.viaFallback || ctx.compensatedSteps.has(id)) continue;
    out.push(step);
  }
  return out;
}

/**
 * Undo completed steps in reverse completion order. Each compensation runs under the step's
 * timeout and retry (never its circuit breaker or bulkhead: an undo must be attempted) and
 * with a signal of its own, so a cancelled run still cleans up. A failed compensation is
 * recorded and the others still run.
 */
/**
 * Steps that failed after recording an intent (a timed-out call may still have written):
 * undone first, each intent of each attempt, once every call of the step has settled.
 */
async function failedWithIntents(
  ctx: RunContext,
): Promise<Array<{ step: StepDefinition; done: { input: unknown; output: unknown } }>> {
  const out: Array<{ step: StepDefinition; done: { input: unknown; output: unknown } }> = [];
  for (const [id, intents] of ctx.intents) {
    const step = ctx.plan.byId.get(id);
    if (!step?.compensate || ctx.completed.has(id) || ctx.compensatedSteps.has(id)) continue;
    await Promise.all(ctx.inFlight.get(id) ?? []);
    for (const intent of [...intents].reverse())
      out.push({ step, done: { input: undefined, output: intent } });
  }
  return out;
}

export async function compensate(ctx: RunContext): Promise<CompensationResult> {
  const { clock, random } = ctx.engine;
  const compensated: string[] = [];
  const failures: CompensationFailure[] = [];
  const todo = [
    ...(await failedWithIntents(ctx)),
    ...compensationOrder(ctx).map((step) => ({
      step,
      done: ctx.completed.get(step.id) as { input: unknown; output: unknown },
    })),
  ];
  for (const { step, done } of todo) {
    const spec = step.compensate as NonNullable<StepDefinition['compensate']>;
    const started = clock.now();
    let attempt = 0;
    const result: Result = await capture(async () => {
      const input =
        spec.input === undefined
          ? { input: done.input, output: done.output }
          : resolveRefs(
              spec.input,
              { input: ctx.input, steps: ctx.completed },
              `step "${step.id}" compensate input`,
            );
      ctx.stepEvent(step, 'compensate-start', 1, { input: ctx.redactor.redact(input) });
      const handler = handlerFor(ctx, step.service, spec.operation);
      crashPoint(`undo:${step.id}`);
      // The step's own timeout and retry, never its circuit breaker or bulkhead.
      const policy = ctx.policyFor(step);
      const guarded = wrap(
        retry(policy.retry, { clock, random }),
        timeout(policy.timeoutMs, { clock, label: `${step.service}.${spec.operation}` }),
      );
      return guarded.execute(({ signal = new AbortController().signal, attempt: n, extend }) => {
        attempt = n;
        return capture(() =>
          handler(input, {
            signal,
            attempt: n,
            extendDeadline: extend,
            runId: ctx.runId,
            workflowId: ctx.workflowId,
            stepId: step.id,
            clock,
            ...(ctx.epoch === undefined ? {} : { fence: { runId: ctx.runId, epoch: ctx.epoch } }),
            ...(ctx.recovering ? { recovering: true as const } : {}),
          }),
        );
      });
    }).then((r) => (r.ok ? r.value : r));
    const durationMs = clock.now() - started;
    if (result.ok) {
      ctx.compensatedSteps.add(step.id);
      compensated.push(step.id);
      ctx.stepEvent(step, 'compensated', Math.max(1, attempt), { durationMs });
    } else {
      const error = ctx.describeError(result.error, step, Math.max(1, attempt));
      error.context = { ...error.context, compensation: spec.operation };
      failures.push({ stepId: step.id, error });
      ctx.stepEvent(step, 'compensation-failed', Math.max(1, attempt), { durationMs, error });
    }
  }
  return { compensated, failures };
}
