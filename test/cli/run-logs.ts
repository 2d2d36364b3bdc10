import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Run logs written by hand, as a troupe process would have left them in `.troupe/runs/`. */

/** 2026-01-02 10:00:00Z: every hand-written run starts here, so times print the same each time. */
export const T0 = Date.UTC(2026, 0, 2, 10, 0, 0);

type Event = Record<string, unknown>;

export const runsDir = (dir: string) => join(dir, '.troupe', 'runs');

export async function writeRun(dir: string, runId: string, events: Event[]): Promise<void> {
  await mkdir(runsDir(dir), { recursive: true });
  await writeFile(join(runsDir(dir), `${runId}.jsonl`), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

export const runFiles = async (dir: string): Promise<string[]> => {
  try {
    return (await readdir(runsDir(dir))).sort();
  } catch {
    return [];
  }
};

/** The pid of a process that has exited: a run it owned is interrupted, not running. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error('could not spawn node');
  return child.pid;
}

/** A process that stays alive until stopped: a run it owns is still running. */
export function liveProcess(): { pid: number; stop: () => void } {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('could not spawn node');
  return { pid: child.pid, stop: () => child.kill('SIGKILL') };
}

type StepRef = { id: string; service: string; operation: string };

const step =
  (runId: string, workflowId: string, s: StepRef) =>
  (kind: string, at: number, fields: Event = {}): Event => ({
    type: 'step',
    runId,
    workflowId,
    stepId: s.id,
    service: s.service,
    operation: s.operation,
    kind,
    attempt: 1,
    at: T0 + at,
    ...fields,
  });

const state = (from: string | null, to: string, at: number, outcome?: Event): Event =>
  outcome ? { type: 'state', at: T0 + at, from, to, outcome } : { type: 'state', at: T0 + at, from, to };

const stepError =
  (runId: string, workflowId: string, s: StepRef) =>
  (code: string, message: string, attempt: number, extra: Event = {}): Event => ({
    name: 'TroupeError',
    code,
    message,
    retryable: code === 'TIMEOUT' || code === 'IO_ERROR',
    context: { workflowId, runId, stepId: s.id, service: s.service, operation: s.operation, attempt },
    ...extra,
  });

/** The owner of a run whose process has exited. */
const crashed = (): Event => ({ pid: deadPid(), host: hostname() });

/**
 * A run of two steps, `first` then `second`: the events of each step, and the start of the
 * log (the `created` event with the steps' definitions, then pending and running).
 */
function twoStepRun(runId: string, workflowId: string, first: StepRef, second: StepRef) {
  return {
    first: step(runId, workflowId, first),
    second: step(runId, workflowId, second),
    created: (steps: [Event, Event], input: Event, owner: Event): Event[] => [
      {
        type: 'created',
        at: T0,
        runId,
        workflowId,
        definition: {
          id: workflowId,
          maxParallel: 4,
          steps: [
            { ...first, ...steps[0] },
            { ...second, ...steps[1] },
          ],
        },
        input,
        owner,
      },
      state(null, 'pending', 0),
      state('pending', 'running', 1),
    ],
  };
}

/**
 * A run of `create-personality` (create, then verify) that a crashed process left running:
 * the create step committed personality `id` at revision 1 and recorded its undo; verify was
 * mid-call. Recovery deletes the personality again.
 */
export function interruptedCreate(runId: string, id: string, owner: { pid: number; host?: string }): Event[] {
  const create = { id: 'personality', service: 'personality', operation: 'create' };
  const verify = { id: 'verify', service: 'configuration', operation: 'verify' };
  const workflowId = 'create-personality';
  const personality = {
    id,
    name: 'Bold',
    bigFive: { openness: 90, conscientiousness: 40, extraversion: 80, agreeableness: 40, neuroticism: 30 },
  };
  const undo = [{ op: 'delete', kind: 'personalities', id, expectedRevision: 1, beforeRevision: 0 }];
  const { first: c, second: v, created } = twoStepRun(runId, workflowId, create, verify);
  return [
    ...created(
      [
        { input: { personality: { $ref: 'input.personality' } }, compensate: { operation: 'revert' } },
        { input: { touched: [{ $ref: 'steps.personality.output.touched' }] }, dependsOn: ['personality'] },
      ],
      { personality },
      { host: hostname(), ...owner },
    ),
    c('start', 1, { input: { personality } }),
    c('attempt', 2),
    c('intent', 3, { output: { undo, touched: [`personalities/${id}`] } }),
    c('success', 12, {
      durationMs: 11,
      output: { results: [], undo, touched: [`personalities/${id}`], id },
    }),
    v('start', 13, { input: { touched: [`personalities/${id}`] } }),
    v('attempt', 14),
  ];
}

/**
 * A run of `nightly` (check, then verify with recovery `defer`) that ended partially
 * completed: verify timed out twice (a retry between), its circuit opened, and it was
 * deferred until T0 + 30.134 s. Resuming runs verify again.
 */
export function deferredRun(runId: string): Event[] {
  const workflowId = 'nightly';
  const check = { id: 'check', service: 'personality', operation: 'check' };
  const verify = { id: 'verify', service: 'configuration', operation: 'verify' };
  const { first: c, second: v, created } = twoStepRun(runId, workflowId, check, verify);
  const timeout = (attempt: number) =>
    stepError(runId, workflowId, verify)('TIMEOUT', 'configuration.verify timed out after 10 ms', attempt);
  const retryAt = T0 + 30_134;
  return [
    ...created(
      [
        { input: { id: 'calm' } },
        {
          input: { touched: [] },
          dependsOn: ['check'],
          recovery: 'defer',
          policy: {
            retry: { maxAttempts: 2, baseDelayMs: 100, multiplier: 2 },
            circuitBreaker: { failureThreshold: 2, recoveryMs: 30_000 },
          },
        },
      ],
      {},
      crashed(),
    ),
    c('start', 1, { input: { id: 'calm' } }),
    c('attempt', 2),
    c('success', 12, { durationMs: 11, output: { id: 'calm', isNew: false } }),
    v('start', 13, { input: { touched: [] } }),
    v('attempt', 14),
    v('attempt-failed', 24, { durationMs: 10, error: timeout(1) }),
    v('retry-scheduled', 24, { attempt: 2, delayMs: 100, error: timeout(1) }),
    v('attempt', 124, { attempt: 2 }),
    v('attempt-failed', 134, { attempt: 2, durationMs: 10, error: timeout(2) }),
    v('circuit', 134, { attempt: 2, circuit: 'open' }),
    v('deferred', 134, { attempt: 2, error: timeout(2), retryAt }),
    state('running', 'partially-completed', 135, {
      status: 'partially-completed',
      compensated: [],
      compensationFailures: [],
      deferred: [{ stepId: 'verify', retryAt, error: timeout(2) }],
      checkpointIssues: [],
    }),
  ];
}

/**
 * A run of `broken` that failed and whose compensation failed too: verify failed with a
 * cause chain, then undoing create hit a concurrent change.
 */
export function failedRun(runId: string): Event[] {
  const workflowId = 'broken';
  const create = { id: 'create', service: 'personality', operation: 'create' };
  const verify = { id: 'verify', service: 'configuration', operation: 'verify' };
  const { first: c, second: v, created } = twoStepRun(runId, workflowId, create, verify);
  const failure = stepError(runId, workflowId, verify)('VALIDATION_FAILED', 'consistency check failed', 1, {
    retryable: false,
    cause: {
      name: 'TroupeError',
      code: 'IO_ERROR',
      message: 'cannot read personalities/bold.json',
      retryable: true,
      cause: { name: 'Error', code: 'PERMANENT', message: 'EIO: i/o error, read', retryable: false },
    },
  });
  const undoFailure = {
    ...stepError(runId, workflowId, create)(
      'CONCURRENT_MODIFICATION',
      'cannot undo personalities/bold: it changed since (expected revision 1, found 2)',
      1,
    ),
  };
  return [
    ...created(
      [
        { input: { personality: { id: 'bold' } }, compensate: { operation: 'revert' } },
        { input: { touched: [] }, dependsOn: ['create'] },
      ],
      {},
      crashed(),
    ),
    c('start', 1),
    c('attempt', 2),
    c('success', 12, { durationMs: 11, output: { undo: [], touched: [] } }),
    v('start', 13),
    v('attempt', 14),
    v('attempt-failed', 20, { durationMs: 6, error: failure }),
    v('failure', 20, { error: failure }),
    state('running', 'compensating', 21),
    c('compensate-start', 22),
    c('compensation-failed', 30, { durationMs: 8, error: undoFailure }),
    state('compensating', 'failed', 31, {
      status: 'failed',
      compensated: [],
      compensationFailures: [{ stepId: 'create', error: undoFailure }],
      deferred: [],
      checkpointIssues: [],
      error: failure,
    }),
  ];
}
