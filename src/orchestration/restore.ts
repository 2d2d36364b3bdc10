import { defineWorkflow } from './definition.js';
import { isDigest } from './logged.js';
import { planFor } from './plan.js';
import { Redactor } from './redact.js';
import { type Engine, RunContext } from './run-context.js';
import type { RunRecord } from './run-log.js';

/** A recorded step input, or nothing if only its digest was kept (no compensation reads it). */
const readBack = (input: unknown) => (isDigest(input) ? undefined : input);

/**
 * Steps undone from their intent: died mid-call, failed after it, whose undo was cut off or
 * failed. The undo is idempotent: what it already restored (and re-composed) is left as it is.
 */
const UNDO_FROM_INTENT = new Set(['running', 'failed', 'compensating', 'compensation-failed']);

/**
 * Rebuild a run's context from its log: the definition and input of its `created` event,
 * and the recorded input and output of every step that completed, in completion order.
 * Values were redacted before they were logged, so a secret comes back as "[redacted]".
 */
export function contextFromRecord(
  engine: Engine,
  record: RunRecord,
  sensitiveKeys: readonly string[],
): RunContext {
  const def = defineWorkflow(record.definition);
  const plan = planFor(def);
  const ctx = new RunContext({
    engine,
    runId: record.runId,
    def,
    plan,
    input: record.input,
    redactor: new Redactor([...sensitiveKeys, ...plan.sensitive]),
  });
  ctx.state = record.state;
  ctx.recovering = true;
  const byId = new Map(record.steps.map((s) => [s.stepId, s]));
  for (const id of record.completionOrder) {
    const s = byId.get(id);
    if (!s) continue;
    // A large output kept by digest is undone from the intent the step recorded instead: the
    // step completed, so its write is known to have happened.
    const output = isDigest(s.output) && s.intent !== undefined ? confirmed(s.intent) : s.output;
    ctx.completed.set(id, { input: readBack(s.input), output, viaFallback: s.viaFallback === true });
    if (s.status === 'compensated') ctx.compensatedSteps.add(id);
  }
  // A step that recorded what it was about to write is undone from that intent: the write may
  // have happened.
  for (const s of record.steps) {
    if (UNDO_FROM_INTENT.has(s.status) && s.intent !== undefined && !ctx.completed.has(s.stepId)) {
      ctx.completed.set(s.stepId, {
        input: readBack(s.input),
        // An intent its commit carried is in the log only if that commit happened: confirmed.
        output: s.intentCarried ? confirmed(s.intent) : s.intent,
        viaFallback: false,
      });
    }
  }
  return ctx;
}

/** A context that can only record the end of a run whose log cannot be replayed. */
export function bareContext(engine: Engine, record: RunRecord, sensitiveKeys: readonly string[]): RunContext {
  const ctx = new RunContext({
    engine,
    runId: record.runId,
    def: { id: record.workflowId, maxParallel: 1, steps: [] },
    plan: {
      steps: [],
      byId: new Map(),
      dependents: new Map(),
      sensitive: [],
      resumable: false,
      compensationRefs: false,
    },
    input: record.input,
    redactor: new Redactor(sensitiveKeys),
  });
  ctx.state = record.state;
  return ctx;
}

/** An intent whose write is known to have happened (its step completed). */
function confirmed(intent: unknown): unknown {
  if (intent === null || typeof intent !== 'object' || !('unconfirmed' in intent)) return intent;
  const { unconfirmed: _u, ...rest } = intent as Record<string, unknown>;
  return rest;
}
