import type { Issue, SerializedError } from '../domain/errors.js';
import type { CircuitState } from './policies/circuit-breaker.js';

/** The states a run moves through; the last four are final (partially-completed until resumed). */
export const RUN_STATES = [
  'pending',
  'running',
  'compensating',
  'completed',
  'failed',
  'compensated',
  'partially-completed',
] as const;
export type RunState = (typeof RUN_STATES)[number];

/**
 * What each run state means, in one table: `ended`, the run stopped (it may still be resumed
 * when partially-completed); `done`, it can never change again (its log is set aside);
 * `interrupted`, a run found in it with no live holder was stopped mid-way (recovery's work).
 */
const STATE_CLASSES: Record<RunState, { ended: boolean; done: boolean; interrupted: boolean }> = {
  pending: { ended: false, done: false, interrupted: true },
  running: { ended: false, done: false, interrupted: true },
  compensating: { ended: false, done: false, interrupted: true },
  completed: { ended: true, done: true, interrupted: false },
  failed: { ended: true, done: true, interrupted: false },
  compensated: { ended: true, done: true, interrupted: false },
  'partially-completed': { ended: true, done: false, interrupted: false },
};
const statesWhere = (k: 'ended' | 'done' | 'interrupted'): ReadonlySet<string> =>
  new Set(RUN_STATES.filter((s) => STATE_CLASSES[s][k]));
export const ENDED_STATES = statesWhere('ended');
export const DONE_STATES = statesWhere('done');
export const INTERRUPTED_STATES = statesWhere('interrupted');

/** How a run ended. */
export type RunStatus = 'completed' | 'compensated' | 'failed' | 'partially-completed';

export interface DeferredStep {
  stepId: string;
  /** When the service is expected back: the circuit's recovery time or the next retry delay. */
  retryAt: number;
  error: SerializedError;
}

export interface CompensationFailure {
  stepId: string;
  error: SerializedError;
}

export interface CheckpointRecord {
  phase: CheckpointPhase;
  stepId?: string;
  issues: Issue[];
}

export type CheckpointPhase = 'step' | 'failure' | 'completion';

/** What `run`, `resume` and `recoverInterrupted` return: an outcome, never a throw for a step failure. */
export interface RunResult<Out = Record<string, unknown>> {
  runId: string;
  workflowId: string;
  status: RunStatus;
  /**
   * Output of every step that completed (this pass and, after a resume, earlier ones); typed
   * by step when the definition came from a typed builder (`workflow(id, operations)`).
   */
  outputs: Partial<Out>;
  /** The failure that ended the run (redacted), with workflow/step/service/operation/attempt context. */
  error?: SerializedError;
  /** Step ids in the order they were compensated. */
  compensated: string[];
  compensationFailures: CompensationFailure[];
  deferred: DeferredStep[];
  /** Checkpoints that reported issues. */
  checkpointIssues: CheckpointRecord[];
  /**
   * Set when a compensation failed for want of disk space or the lock: the run is left
   * unfinished ("compensating") and recovery undoes the rest when the store is next opened.
   */
  undoPending?: true;
  /** Set if the run log could not be written: the outcome above happened but is not durable. */
  logError?: SerializedError;
  /**
   * Set if the write that failed is the run's end itself: the log still shows the run
   * unfinished, and recovery takes it for interrupted.
   */
  endUnrecorded?: true;
}

export type StepEventKind =
  | 'start'
  | 'attempt'
  | 'attempt-failed'
  | 'retry-scheduled'
  | 'success'
  | 'failure'
  | 'fallback'
  | 'conflict-retry'
  | 'requeued'
  | 'deferred'
  | 'skipped'
  | 'circuit'
  | 'compensate-start'
  | 'compensated'
  | 'compensation-failed'
  /** What the step is about to do, recorded durably so a crash mid-step can still be undone. */
  | 'intent';

/** Something that happened to one step; everything in it is already redacted. */
export interface StepEvent {
  runId: string;
  workflowId: string;
  stepId: string;
  service: string;
  operation: string;
  kind: StepEventKind;
  attempt: number;
  at: number;
  durationMs?: number;
  delayMs?: number;
  circuit?: CircuitState;
  error?: SerializedError;
  retryAt?: number;
  /** The resolved input (on `start`, and on `compensate-start` the compensation's input). */
  input?: unknown;
  /** The step's output (on `success`). */
  output?: unknown;
  /** On `success`: the value came from the fallback, so the step has nothing to compensate. */
  viaFallback?: boolean;
  /**
   * On `intent`, as a log stores it: written by the very transaction of the commit it announces
   * (see CarriedEvents), so the commit happened if the intent is in the log at all.
   */
  carried?: true;
}

export interface StateChangeEvent {
  runId: string;
  workflowId: string;
  from: RunState | null;
  to: RunState;
  at: number;
}

export interface RunnerEvents {
  stateChange: StateChangeEvent;
  step: StepEvent;
}

/** A tiny typed event emitter; a listener that throws cannot break a run. */
export class Emitter<E extends object> {
  readonly #listeners = new Map<keyof E, Set<(event: never) => void>>();

  on<K extends keyof E>(name: K, listener: (event: E[K]) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  has(name: keyof E): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  emit<K extends keyof E>(name: K, event: E[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const l of set) {
      try {
        (l as (event: E[K]) => void)(event);
      } catch {
        // Observers must not change the outcome of a run.
      }
    }
  }
}
