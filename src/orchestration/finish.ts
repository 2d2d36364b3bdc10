import { compensate } from './compensation.js';
import type { StepDefinition } from './definition.js';
import type { RunResult } from './events.js';
import { checkpointFailure, type PassResult, runCheckpoint } from './execution.js';
import type { RunContext } from './run-context.js';
import type { RunOutcome } from './run-log.js';

/** Record the final state (with its outcome) and build the result the caller gets. */
export async function endRun(
  ctx: RunContext,
  status: RunResult['status'],
  parts: Partial<Pick<RunOutcome, 'error' | 'deferred' | 'compensated' | 'compensationFailures'>> = {},
  { undoPending = false }: { undoPending?: boolean } = {},
): Promise<RunResult> {
  const outcome: RunOutcome = {
    status,
    compensated: parts.compensated ?? [],
    compensationFailures: parts.compensationFailures ?? [],
    deferred: parts.deferred ?? [],
    checkpointIssues: ctx.checkpointIssues,
  };
  if (parts.error) outcome.error = parts.error;
  // An undo the disk or the lock refused is not the run's last word: its log stays
  // "compensating", so recovery (the next open of the store, or `workflow recover`) finishes it.
  if (!undoPending) ctx.setState(status, outcome);
  const logError = await ctx.flush();
  const result: RunResult = {
    runId: ctx.runId,
    workflowId: ctx.workflowId,
    outputs: ctx.outputs(),
    ...outcome,
    ...(undoPending ? { undoPending: true } : {}),
  };
  if (logError !== undefined) result.logError = ctx.describeError(logError);
  if (ctx.endUnrecorded) result.endUnrecorded = true;
  return result;
}

/**
 * Compensation failures of the environment, not of the undo itself: a full disk, a lock, the
 * database away, an undo that kept losing races (each TRANSIENT: judged again later).
 */
const RETRY_LATER = new Set(['IO_ERROR', 'LOCK_FAILED', 'TRANSIENT']);

/**
 * A failure nothing recovered: compensate completed steps (reverse completion order), run the
 * failure checkpoint, and end compensated, or failed if any compensation failed.
 */
export async function compensateAndEnd(
  ctx: RunContext,
  error: unknown,
  step?: StepDefinition,
  attempt?: number,
): Promise<RunResult> {
  if (ctx.state !== 'compensating') ctx.setState('compensating');
  const { compensated, failures } = await compensate(ctx);
  await runCheckpoint(ctx, 'failure');
  return endRun(
    ctx,
    failures.length > 0 ? 'failed' : 'compensated',
    { error: ctx.describeError(error, step, attempt), compensated, compensationFailures: failures },
    { undoPending: failures.some((f) => RETRY_LATER.has(f.error.code)) },
  );
}

/** Turn the outcome of a pass into the run's end: failed, partially completed, or completed. */
export async function finishPass(ctx: RunContext, pass: PassResult): Promise<RunResult> {
  if (pass.failure) {
    const step = ctx.plan.byId.get(pass.failure.stepId);
    return compensateAndEnd(ctx, pass.failure.error, step, pass.failure.attempt);
  }
  if (pass.deferred.length > 0) return endRun(ctx, 'partially-completed', { deferred: pass.deferred });
  const error = await checkpointFailure(ctx, 'completion');
  if (error) return compensateAndEnd(ctx, error);
  return endRun(ctx, 'completed');
}
