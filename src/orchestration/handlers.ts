import type { Issue, SerializedError } from '../domain/errors.js';
import type { Clock } from './clock.js';
import type { CheckpointPhase } from './events.js';
import type { Random } from './random.js';

/** What a handler gets besides its input. */
export interface StepContext {
  /** Aborts on timeout (reason: a TIMEOUT error) or when the run is cancelled. */
  signal: AbortSignal;
  /** 1-based, counting every call of this step in this run (retries and conflict re-runs). */
  attempt: number;
  runId: string;
  workflowId: string;
  stepId: string;
  clock: Clock;
  /**
   * The run's lease as this attempt holds it: passed to `Store.commit({ fence })`, a store that
   * keeps runs refuses the write once another instance has taken the run over.
   */
  fence?: { runId: string; epoch: number };
  /**
   * Set when a recovery compensates the step, not the process that ran it: that process may be
   * alive still (a stalled holder taken over) and its commit under way.
   */
  recovering?: true;
  /** The runner's source of randomness (seeded in tests), for a handler's own jitter. */
  random?: Random;
  /** Set when the step is re-run to resolve a conflict: the error of the previous run. */
  previousError?: SerializedError;
  /**
   * Durably records how to undo what the handler is about to do, before it does it. If the
   * process dies mid-step, recovery compensates the step with this as its output.
   *
   * `carried`, for a handler about to commit to a store: where the store and the run log share
   * a database, the intent may be carried by the commit itself (in its transaction) instead of
   * a synchronous write of its own first. What comes back (undefined: recorded durably
   * already) goes to `Store.commit({ carried })` if `store.carries(it)`, else is `flush`ed
   * before the commit; `end` it after the commit, whatever its outcome. A wrapper that calls
   * `intent(data)` without the option only loses the saving.
   */
  intent?(data: unknown, opts?: { carried?: boolean }): Promise<CarriedEvents | undefined> | Promise<void>;
  /**
   * Asks for `ms` more from now before the step's timeout fires, for work whose size is known
   * only once the step runs (a commit of many files); never brings the deadline closer.
   */
  extendDeadline?(ms: number): void;
}

/**
 * A run's durable events that a commit can carry in its own transaction (a `CarriedWrite` of
 * the store's): they land with the commit or not at all.
 */
export interface CarriedEvents {
  readonly sink: unknown;
  writeIn(tx: unknown): Promise<(committed: boolean) => void>;
  /** Writes them durably on their own: for a commit that cannot carry them, before it. */
  flush(): Promise<void>;
  /** Ends the carry (idempotent): events not written go out behind, as progress. */
  end(): void;
}

/** The code behind one operation of a service; the runner never knows what it does. */
// biome-ignore lint/suspicious/noExplicitAny: handlers choose their own input type.
export type Handler = (input: any, ctx: StepContext) => Promise<unknown>;

/** Handlers by service, then by operation. */
export type ServiceHandlers = Record<string, Record<string, Handler>>;

/** What a checkpoint sees: where the run is and every output so far. */
export interface CheckpointContext {
  runId: string;
  workflowId: string;
  phase: CheckpointPhase;
  stepId?: string;
  outputs: Record<string, unknown>;
}

/** Validates state at a checkpoint; any issue returned after a step fails that step. */
export type Checkpoint = (c: CheckpointContext) => Promise<Issue[]>;
