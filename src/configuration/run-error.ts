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
    return new TroupeError(
      'WORKFLOW_FAILED',
      `workflow ${result.workflowId} (run ${result.runId}) failed and ${result.compensationFailures.length} compensation(s) failed too: ${result.compensationFailures.map((f) => `${f.stepId}: ${f.error.message}`).join('; ')}; ${
        result.undoPending
          ? `the rest of the undo is left to recovery, which runs the next time troupe opens this store (or \`troupe workflow recover\`)`
          : `see \`troupe workflow show ${result.runId}\``
      }${e ? `. What failed: ${e.message}` : ''}`,
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
