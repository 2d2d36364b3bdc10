import type { SerializedError } from '../domain/errors.js';
import type {
  CheckpointRecord,
  RunnerEvents,
  RunState,
  StateChangeEvent,
  StepEvent,
} from '../orchestration/events.js';
import type { RunLog } from '../orchestration/run-log.js';

/** What the recorder needs of a runner: its events, and its log for checkpoints. */
export interface RecordableRunner {
  on<K extends keyof RunnerEvents>(event: K, listener: (e: RunnerEvents[K]) => void): () => void;
  readonly runLog?: RunLog;
}

/** One attempt of a step, with virtual timestamps. */
export interface RecordedAttempt {
  runId: string;
  attempt: number;
  /** When the attempt started. */
  at: number;
  /** When it ended (success or failure), if it has. */
  endedAt?: number;
  outcome: 'pending' | 'succeeded' | 'failed';
  error?: SerializedError;
}

/**
 * Records what runners do (state changes and step events) so a test can ask for a run's
 * transitions, its step events, its compensation order and each step's attempts. Where a
 * `runId` is optional, the latest run to start is meant.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const runner = new WorkflowRunner({ clock, services: { api: { call: async () => ({}) } } });
 * const recorder = new WorkflowRecorder();
 * const detach = recorder.attach(runner);
 * await clock.drive(runner.run(workflow('w').step('call', 'api', 'call').build()));
 * recorder.transitions(); // ['pending', 'running', 'completed']
 * detach();
 * ```
 */
export class WorkflowRecorder {
  readonly #states: StateChangeEvent[] = [];
  readonly #steps: StepEvent[] = [];
  readonly #runs: string[] = [];
  readonly #logs = new Map<string, RunLog>();

  /** Subscribe to a runner's `stateChange` and `step` events; returns a function that detaches. */
  attach(runner: RecordableRunner): () => void {
    const log = runner.runLog;
    const offState = runner.on('stateChange', (e) => {
      if (!this.#runs.includes(e.runId)) this.#runs.push(e.runId);
      if (log) this.#logs.set(e.runId, log);
      this.#states.push({ ...e });
    });
    const offStep = runner.on('step', (e) => {
      this.#steps.push({ ...e });
    });
    return () => {
      offState();
      offStep();
    };
  }

  /** Run ids in the order their runs started. */
  runIds(): string[] {
    return [...this.#runs];
  }

  /** The latest run's id; undefined before any run. */
  get lastRunId(): string | undefined {
    return this.#runs.at(-1);
  }

  /** Forget everything recorded (stays attached). */
  clear(): void {
    this.#states.length = 0;
    this.#steps.length = 0;
    this.#runs.length = 0;
    this.#logs.clear();
  }

  #run(runId: string | undefined): string | undefined {
    return runId ?? this.lastRunId;
  }

  /** State change events of a run, in order. */
  stateChanges(runId?: string): StateChangeEvent[] {
    const id = this.#run(runId);
    return this.#states.filter((e) => e.runId === id);
  }

  /** The states a run went through: `['pending', 'running', 'compensating', 'compensated']`. */
  transitions(runId?: string): RunState[] {
    return this.stateChanges(runId).map((e) => e.to);
  }

  /** The run's state at virtual time `at` (the last transition at or before it). */
  stateAt(at: number, runId?: string): RunState | undefined {
    let state: RunState | undefined;
    for (const e of this.stateChanges(runId)) if (e.at <= at) state = e.to;
    return state;
  }

  /** Step events of a run, in order; optionally of one step. */
  steps(runId?: string, stepId?: string): StepEvent[] {
    const id = this.#run(runId);
    return this.#steps.filter((e) => e.runId === id && (stepId === undefined || e.stepId === stepId));
  }

  /** Step ids in the order they finished successfully (what compensation reverses). */
  completionOrder(runId?: string): string[] {
    return this.steps(runId)
      .filter((e) => e.kind === 'success')
      .map((e) => e.stepId);
  }

  /** Step ids in the order they were compensated (failed compensations excluded). */
  compensationOrder(runId?: string): string[] {
    return this.steps(runId)
      .filter((e) => e.kind === 'compensated')
      .map((e) => e.stepId);
  }

  /** Step ids whose compensation failed, in order. */
  compensationFailures(runId?: string): string[] {
    return this.steps(runId)
      .filter((e) => e.kind === 'compensation-failed')
      .map((e) => e.stepId);
  }

  /** Every attempt of a step (in the given run, or the latest run that has the step), with times. */
  attempts(stepId: string, runId?: string): RecordedAttempt[] {
    const id =
      runId ??
      [...this.#runs].reverse().find((r) => this.#steps.some((e) => e.runId === r && e.stepId === stepId));
    const out: RecordedAttempt[] = [];
    for (const e of this.#steps) {
      if (e.runId !== id || e.stepId !== stepId) continue;
      if (e.kind === 'attempt')
        out.push({ runId: e.runId, attempt: e.attempt, at: e.at, outcome: 'pending' });
      else if (e.kind === 'attempt-failed' || e.kind === 'success' || e.kind === 'failure') {
        const a = out.findLast((x) => x.attempt === e.attempt && x.outcome === 'pending');
        if (!a) continue;
        a.endedAt = e.at;
        a.outcome = e.kind === 'success' ? 'succeeded' : 'failed';
        if (e.error) a.error = e.error;
      }
    }
    return out;
  }

  /** The virtual times at which a step's attempts started: `[0, 100, 300]` for 100 ms × 2 backoff. */
  attemptTimes(stepId: string, runId?: string): number[] {
    return this.attempts(stepId, runId).map((a) => a.at);
  }

  /** The checkpoints a run recorded (read from its runner's log; empty without one). */
  async checkpoints(runId?: string): Promise<Array<CheckpointRecord & { at: number }>> {
    const id = this.#run(runId);
    if (id === undefined) return [];
    const record = await this.#logs.get(id)?.read(id);
    return record?.checkpoints ?? [];
  }
}
