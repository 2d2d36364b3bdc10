import { formatIssues } from '../domain/common.js';
import { isAnswer, isTroupeError, TroupeError } from '../domain/errors.js';
import type { StepDefinition } from './definition.js';
import type { DeferredStep } from './events.js';
import { downstream } from './graph.js';
import { codeOf } from './policies/result.js';
import { retryDelay } from './policies/retry.js';
import type { RunContext } from './run-context.js';
import { executeStep, type StepOutcome } from './step-executor.js';

/** How one pass over the DAG ended: the failure that stops the run, or steps put off until later. */
export interface PassResult {
  failure?: { stepId: string; error: unknown; attempt: number };
  deferred: DeferredStep[];
}

/** A service that is down (rather than answering no) is worth coming back to. */
const DEFERRABLE = new Set(['TRANSIENT', 'TIMEOUT', 'CIRCUIT_OPEN']);
/** When a deferred step has no policy that says when its service is back. */
export const DEFAULT_DEFER_MS = 1000;

function retryAtFor(ctx: RunContext, step: StepDefinition, error: unknown): number {
  const now = ctx.now();
  const policy = ctx.policyFor(step);
  const context = (error as { context?: Record<string, unknown> }).context;
  if (codeOf(error) === 'CIRCUIT_OPEN' && typeof context?.retryAt === 'number')
    return Math.max(now, context.retryAt);
  if (policy.circuitBreaker) return now + policy.circuitBreaker.recoveryMs;
  if (policy.retry) return now + retryDelay(policy.retry, policy.retry.maxAttempts);
  return now + DEFAULT_DEFER_MS;
}

/**
 * Report a step's success to the checkpoint (unless a later step checks it: `checkedBy`);
 * issues (or a checkpoint that throws) fail the step.
 */
async function stepCheckpoint(ctx: RunContext, step: StepDefinition): Promise<unknown> {
  const logError = await ctx.flush();
  if (logError !== undefined)
    return new TroupeError(
      'IO_ERROR',
      `run log could not record step "${step.id}": ${logError instanceof Error ? logError.message : String(logError)}`,
      { cause: logError },
    );
  return step.checkedBy === undefined ? checkpointFailure(ctx, 'step', step.id) : undefined;
}

/**
 * The error a checkpoint's verdict fails the run with: VALIDATION_FAILED naming its issues, or,
 * when the checkpoint could not look (the database away, the disk unreadable), that error's
 * own code, so the caller is told the environment failed, not the data.
 */
export async function checkpointFailure(
  ctx: RunContext,
  phase: 'step' | 'completion',
  stepId?: string,
): Promise<TroupeError | undefined> {
  const { issues, thrown } = await runCheckpoint(ctx, phase, stepId);
  if (issues.length === 0) return undefined;
  const where = stepId === undefined ? 'checkpoint on completion' : `checkpoint after step "${stepId}"`;
  const message = `${where}: ${formatIssues(issues, { join: '; ', where: false })}`;
  if (isTroupeError(thrown) && !isAnswer(thrown.code))
    return new TroupeError(thrown.code, message, { cause: thrown, issues, retryable: thrown.retryable });
  return new TroupeError('VALIDATION_FAILED', message, { issues, retryable: false });
}

/** Call the runner's checkpoint (if any) and record what it said; a throw becomes one issue. */
export async function runCheckpoint(
  ctx: RunContext,
  phase: 'step' | 'failure' | 'completion',
  stepId?: string,
): Promise<{ issues: TroupeError['issues']; thrown?: unknown }> {
  const checkpoint = ctx.engine.checkpoint;
  if (!checkpoint) return { issues: [] };
  let thrown: unknown;
  const c = { runId: ctx.runId, workflowId: ctx.workflowId, phase, outputs: ctx.outputs() };
  let issues: TroupeError['issues'];
  try {
    issues = await checkpoint(stepId === undefined ? c : { ...c, stepId });
  } catch (e) {
    thrown = e;
    issues = [
      { path: '(checkpoint)', message: `checkpoint threw: ${e instanceof Error ? e.message : String(e)}` },
    ];
  }
  const redacted = ctx.redactor.redact(issues);
  ctx.record(
    stepId === undefined
      ? { type: 'checkpoint', at: ctx.now(), phase, issues: redacted }
      : { type: 'checkpoint', at: ctx.now(), phase, stepId, issues: redacted },
  );
  if (issues.length > 0)
    ctx.checkpointIssues.push(
      stepId === undefined ? { phase, issues: redacted } : { phase, stepId, issues: redacted },
    );
  return { issues, thrown };
}

/**
 * Run `pending` steps (definition order) as a DAG: a step starts once its dependencies have
 * completed, up to `maxParallel` at once, ties broken by definition order. The first failure
 * that no recovery handles stops new starts; steps already running are allowed to finish.
 */
export async function runPass(ctx: RunContext, pending: readonly string[]): Promise<PassResult> {
  const { plan } = ctx;
  const waiting = new Set(pending);
  const running = new Set<string>();
  const overlapped = new Set<string>();
  const requeued = new Set<string>();
  const blocked = new Set<string>();
  const attempts = new Map<string, number>();
  const deferred: DeferredStep[] = [];
  const settled: StepOutcome[] = [];
  let wake: (() => void) | undefined;
  let sequential = false;
  let failure: PassResult['failure'];

  const ready = (step: StepDefinition) => (step.dependsOn ?? []).every((d) => ctx.completed.has(d));
  const start = (step: StepDefinition) => {
    waiting.delete(step.id);
    if (running.size > 0) {
      overlapped.add(step.id);
      for (const id of running) overlapped.add(id);
    }
    running.add(step.id);
    const before = attempts.get(step.id) ?? 0;
    void executeStep(ctx, step, before)
      // executeStep reports failures as values; this only guards against a bug hanging the run.
      .catch((error: unknown): StepOutcome => ({ ok: false, stepId: step.id, error, attempts: before + 1 }))
      .then((outcome) => {
        settled.push(outcome);
        wake?.();
      });
  };

  for (;;) {
    if (failure === undefined) {
      const limit = sequential ? 1 : ctx.def.maxParallel;
      for (const step of plan.steps) {
        if (running.size >= limit) break;
        if (waiting.has(step.id) && !blocked.has(step.id) && ready(step)) start(step);
      }
    }
    if (running.size === 0) break;
    while (settled.length === 0)
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    const outcome = settled.shift() as StepOutcome;
    running.delete(outcome.stepId);
    attempts.set(outcome.stepId, outcome.attempts);
    const step = plan.byId.get(outcome.stepId) as StepDefinition;

    if (outcome.ok) {
      ctx.completed.set(step.id, {
        input: outcome.input,
        output: outcome.output,
        viaFallback: outcome.viaFallback,
      });
      const rejected = await stepCheckpoint(ctx, step);
      if (rejected === undefined) continue;
      ctx.stepEvent(step, 'failure', outcome.attempts, {
        error: ctx.describeError(rejected, step, outcome.attempts),
      });
      failure ??= { stepId: step.id, error: rejected, attempt: outcome.attempts };
      continue;
    }

    const code = codeOf(outcome.error);
    const error = ctx.describeError(outcome.error, step, outcome.attempts);
    if (
      failure === undefined &&
      step.recovery === 'fallback-sequential' &&
      code === 'TIMEOUT' &&
      overlapped.has(step.id) &&
      !requeued.has(step.id)
    ) {
      // Parallel load may be what made it slow: finish the rest one at a time before giving up.
      sequential = true;
      requeued.add(step.id);
      waiting.add(step.id);
      ctx.stepEvent(step, 'requeued', outcome.attempts, { error });
      continue;
    }
    if (step.recovery === 'defer' && DEFERRABLE.has(code)) {
      const retryAt = retryAtFor(ctx, step, outcome.error);
      deferred.push({ stepId: step.id, retryAt, error });
      ctx.stepEvent(step, 'deferred', outcome.attempts, { error, retryAt });
      for (const id of downstream(step.id, plan.dependents)) {
        if (id === step.id || blocked.has(id)) continue;
        blocked.add(id);
        const s = plan.byId.get(id) as StepDefinition;
        ctx.stepEvent(s, 'skipped', 0);
      }
      continue;
    }
    ctx.stepEvent(step, 'failure', outcome.attempts, { error });
    failure ??= { stepId: step.id, error: outcome.error, attempt: outcome.attempts };
  }
  return failure === undefined ? { deferred } : { failure, deferred };
}
