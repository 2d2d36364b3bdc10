import { describe, expect, it } from 'vitest';
import type { SerializedError } from '../domain/errors.js';
import type { RunResult } from '../orchestration/events.js';
import { runError } from './run-error.js';

const ioError = (message: string): SerializedError => ({
  name: 'TroupeError',
  code: 'IO_ERROR',
  message,
  retryable: false,
});
const failed = (error: SerializedError, undo: SerializedError[]): RunResult => ({
  runId: 'r1',
  workflowId: 'update-agent',
  status: 'failed',
  outputs: {},
  error,
  compensated: [],
  compensationFailures: undo.map((e) => ({ stepId: 'agent', error: e })),
  deferred: [],
  checkpointIssues: [],
  undoPending: true,
});

describe('the error of a run whose undo failed too', () => {
  it('says a reason shared by the step and its undo once, the names of temporary files aside', () => {
    const why = (tmp: string) =>
      ioError(
        `could not write /s/resolved/ada.json: EACCES: permission denied, open '/s/resolved/.ada.json.${tmp}.tmp'`,
      );
    const e = runError(failed(why('25877-409823c5'), [why('25877-c14afda4')]));
    expect(e.code).toBe('WORKFLOW_FAILED');
    expect(e.message.match(/EACCES/g)).toHaveLength(1);
    expect(e.message).toMatch(
      /^workflow update-agent \(run r1\) failed: could not write .*\. 1 compensation\(s\) failed too, the same way; the rest of the undo is left to recovery/,
    );
    expect(e.context.compensationFailures).toHaveLength(1);
  });

  it('names each undo that failed for a reason of its own', () => {
    const e = runError(failed(ioError('disk full'), [ioError('permission denied')]));
    expect(e.message).toContain('failed: disk full. 1 compensation(s) failed too: agent: permission denied;');
  });
});
