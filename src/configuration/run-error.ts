import { type SerializedError, TroupeError } from '../domain/errors.js';
import type { RunResult } from '../orchestration/events.js';

/** A recorded error back as a TroupeError, cause chain included. */
const fromSerialized = (e: SerializedError): TroupeError =>
  new TroupeError(e.code as TroupeError['code'], e.message, {
    ...(e.context ? { context: e.context } : {}),
    ...(e.issues ? { issues: e.issues } : {}),
    retryable: e.retryable,
    ...(e.cause ? { cause: fromSerialized(e.cause) } : {}),
  });

/** A temporary file's name (`.ada.json.123-1a2b3c4d.tmp`), which differs between two tries. */
const TEMP_NAME = /\.[^\s/]*\.\d+-[0-9a-f]{8}\.tmp/g;
const sameReason = (a: string, b: string) => a.replace(TEMP_NAME, '') === b.replace(TEMP_NAME, '');

/**
 * The public error for a run that did not complete: the failing step's code, message and
 * issues, with the run's id, status and compensations in its context and the cause chain kept.
 */
export function runError(result: RunResult): TroupeError {
  const e = result.error;
  const context = {
    ...(e?.context ?? {}),
    runId: result.runId,
    workflowId: result.workflowId,
    status: result.status,
    compensated: result.compensated,
  };
  if (result.status === 'failed' && result.compensationFailures.length > 0) {
    const failures = result.compensationFailures;
    // An undo that failed for the same reason as the step (a folder not writable, a full disk)
    // is said once: the names of temporary files aside, the messages are the same.
    const same = e !== undefined && failures.every((f) => sameReason(f.error.message, e.message));
    const undo = `${failures.length} compensation(s) failed too${same ? ', the same way' : `: ${failures.map((f) => `${f.stepId}: ${f.error.message}`).join('; ')}`}`;
    const rest = result.undoPending
      ? 'the rest of the undo is left to recovery, which runs the next time troupe opens this store (or `troupe workflow recover`)'
      : `see \`troupe workflow show ${result.runId}\``;
    return new TroupeError(
      'WORKFLOW_FAILED',
      `workflow ${result.workflowId} (run ${result.runId}) failed${e ? `: ${e.message}` : ''}. ${undo}; ${rest}`,
      {
        context: {
          ...context,
          compensationFailures: result.compensationFailures,
          ...(result.undoPending ? { undoPending: true } : {}),
        },
        ...(e ? { cause: fromSerialized(e) } : {}),
        retryable: false,
      },
    );
  }
  if (result.status === 'partially-completed') {
    return new TroupeError(
      'WORKFLOW_FAILED',
      `workflow ${result.workflowId} partially completed; deferred: ${result.deferred.map((d) => d.stepId).join(', ')}; finish with \`troupe workflow resume ${result.runId}\``,
      { context: { ...context, deferred: result.deferred } },
    );
  }
  return new TroupeError(
    (e?.code as TroupeError['code']) ?? 'WORKFLOW_FAILED',
    e?.message ?? `workflow ${result.workflowId} failed`,
    {
      context,
      issues: e?.issues ?? [],
      retryable: e?.retryable ?? false,
      ...(e?.cause ? { cause: fromSerialized(e.cause) } : {}),
    },
  );
}
