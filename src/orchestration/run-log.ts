import { type SerializedError, TroupeError } from '../domain/errors.js';
import type { Holder } from '../platform/holder.js';
import type { WorkflowDefinition } from './definition.js';
import type {
  CheckpointPhase,
  CheckpointRecord,
  CompensationFailure,
  DeferredStep,
  RunResult,
  RunState,
  RunStatus,
  StepEvent,
} from './events.js';
import type { CarriedEvents } from './handlers.js';
import { type ClaimOptions, LeaseKeeper, type LeaseRecord, leaseHeld, type RunLease } from './lease.js';
import type { CircuitState } from './policies/circuit-breaker.js';
import { pageOfRuns, type RunPageOptions, runsWithPrefix } from './run-pages.js';

/** Run ids become file names: letters, digits, "_" and "-" only, so no path can be smuggled in. */
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** The summary a final state event carries, so a finished run reads complete from its log alone. */
export type RunOutcome = Omit<RunResult, 'outputs' | 'runId' | 'workflowId'>;

/**
 * One line of a run's log. The first is always `created`; all values are already redacted.
 * `epoch` is the lease its writer held (see RunLease): once a `claimed` event of a later epoch
 * is in the log, lines of earlier epochs after it are a zombie's, and not part of the run.
 */
export type RunEvent = (
  | {
      type: 'created';
      at: number;
      runId: string;
      workflowId: string;
      definition: WorkflowDefinition;
      input: unknown;
      /** The process that started it (for people reading the log; leases decide who runs it). */
      owner?: Holder;
    }
  | { type: 'claimed'; at: number; holder: Holder }
  | { type: 'state'; at: number; from: RunState | null; to: RunState; outcome?: RunOutcome }
  | ({ type: 'step' } & StepEvent)
  | {
      type: 'checkpoint';
      at: number;
      phase: CheckpointPhase;
      stepId?: string;
      issues: CheckpointRecord['issues'];
    }
) & { epoch?: number };

export type StepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'deferred'
  | 'skipped'
  | 'compensating'
  | 'compensated'
  | 'compensation-failed';

export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  durationMs?: number;
  error?: SerializedError;
}

/** One step's timeline. */
export interface StepRecord {
  stepId: string;
  service: string;
  operation: string;
  status: StepStatus;
  attempts: AttemptRecord[];
  startedAt?: number;
  completedAt?: number;
  durationMs?: number;
  input?: unknown;
  output?: unknown;
  viaFallback?: boolean;
  /** Recorded by the handler before its side effect: how to undo it if the process dies mid-step. */
  intent?: unknown;
  /** The last intent was written by its commit's own transaction: that commit happened. */
  intentCarried?: true;
  error?: SerializedError;
  retryAt?: number;
  circuit: Array<{ at: number; state: CircuitState }>;
  compensation?: { startedAt: number; finishedAt?: number; error?: SerializedError };
}

/** A run as its log tells it: states with times, each step's attempts, compensations, checkpoints. */
export interface RunRecord {
  runId: string;
  workflowId: string;
  definition: WorkflowDefinition;
  input: unknown;
  owner?: Holder;
  /** The epoch of the run's latest lease (0 for a log written before leases). */
  epoch: number;
  state: RunState;
  createdAt: number;
  updatedAt: number;
  states: Array<{ state: RunState; at: number }>;
  /** In definition order. */
  steps: StepRecord[];
  /** Steps that succeeded, in the order they did (the order compensation reverses). */
  completionOrder: string[];
  compensated: string[];
  compensationFailures: CompensationFailure[];
  deferred: DeferredStep[];
  checkpoints: Array<CheckpointRecord & { at: number }>;
  /** Present once the run reached a final state. */
  outcome?: RunOutcome;
  events: RunEvent[];
}

export interface RunSummary {
  runId: string;
  workflowId: string;
  state: RunState;
  createdAt: number;
  updatedAt: number;
}

/**
 * Durable history of runs, and who may execute each: what `resume` and `recoverInterrupted`
 * work from. A runner executes a run only while it holds the run's lease: `claim` grants it
 * (to one claimant at a time; not while a live holder has it, unless forced), the log renews it
 * until `release`, and every event the holder appends carries its epoch.
 */
export interface RunLog {
  append(runId: string, event: RunEvent): Promise<void>;
  read(runId: string): Promise<RunRecord | undefined>;
  list(): Promise<RunSummary[]>;
  /** Only runs that may still change (what recovery needs); cheaper than `list` where offered. */
  listUnfinished?(): Promise<RunSummary[]>;
  /**
   * A page of `list`, newest first: exactly `pageOfRuns(await list(), opts)` (see run-pages.ts),
   * found without reading every run where the log can.
   */
  listPage?(opts: RunPageOptions): Promise<RunSummary[]>;
  /** The runs of `list` whose id starts with `prefix`, in its order; found by the prefix where the log can. */
  listPrefixed?(prefix: string): Promise<RunSummary[]>;
  /** The run's lease, or undefined when another live holder has it (or, `fresh`, the run exists). */
  claim(runId: string, opts?: ClaimOptions): Promise<RunLease | undefined>;
  /** Extends a held lease; false once the run was claimed by another (the holder must stop). */
  renew(lease: RunLease): Promise<boolean>;
  /**
   * True when the run was claimed by another since `lease` before its holder's end (`ended`)
   * reached the log: the end is not the run's, and its holder does not report it. A log whose
   * every write is fenced by the lease (PostgreSQL) need not have it.
   */
  superseded?(lease: RunLease, ended: RunStatus): Promise<boolean>;
  /** Gives the lease back, so another runner may claim the run at once. */
  release(lease: RunLease): Promise<void>;
  /** Whether a live runner holds the run's lease now (`workflow show` says "still running"). */
  isHeld(runId: string): Promise<boolean>;
  /**
   * Appends a durable event (a step's intent) that a commit to the same database may carry
   * instead (see CarriedEvents); undefined when it was appended durably as `append` does.
   */
  appendCarried?(runId: string, event: RunEvent): Promise<CarriedEvents | undefined>;
}

function applyStep(record: RunRecord, e: StepEvent & { type: 'step' }): void {
  const step = record.steps.find((s) => s.stepId === e.stepId);
  if (!step) return;
  switch (e.kind) {
    case 'start':
      step.status = 'running';
      step.startedAt = e.at;
      step.attempts = [];
      delete step.error;
      if ('input' in e) step.input = e.input;
      break;
    case 'attempt':
      step.attempts.push({ attempt: e.attempt, startedAt: e.at });
      break;
    case 'attempt-failed': {
      const a = step.attempts.findLast((x) => x.attempt === e.attempt);
      if (a) {
        if (e.durationMs !== undefined) a.durationMs = e.durationMs;
        if (e.error) a.error = e.error;
      }
      break;
    }
    case 'intent':
      step.intent = e.output;
      if (e.carried) step.intentCarried = true;
      else delete step.intentCarried;
      break;
    case 'success': {
      const a = step.attempts.findLast((x) => x.attempt === e.attempt);
      if (a && e.durationMs !== undefined && a.durationMs === undefined) a.durationMs = e.at - a.startedAt;
      step.status = 'succeeded';
      step.completedAt = e.at;
      if (e.durationMs !== undefined) step.durationMs = e.durationMs;
      if ('output' in e) step.output = e.output;
      if (e.viaFallback) step.viaFallback = true;
      record.completionOrder = record.completionOrder.filter((id) => id !== e.stepId);
      record.completionOrder.push(e.stepId);
      record.deferred = record.deferred.filter((d) => d.stepId !== e.stepId);
      break;
    }
    case 'failure':
      // A checkpoint can fail a step that already succeeded; it stays in the completion order.
      step.status = 'failed';
      step.completedAt = e.at;
      if (e.durationMs !== undefined) step.durationMs = e.durationMs;
      if (e.error) step.error = e.error;
      break;
    case 'deferred':
      step.status = 'deferred';
      if (e.error) step.error = e.error;
      if (e.retryAt !== undefined) step.retryAt = e.retryAt;
      record.deferred = record.deferred.filter((d) => d.stepId !== e.stepId);
      if (e.error) record.deferred.push({ stepId: e.stepId, retryAt: e.retryAt ?? e.at, error: e.error });
      break;
    case 'skipped':
      step.status = 'skipped';
      break;
    case 'circuit':
      if (e.circuit) step.circuit.push({ at: e.at, state: e.circuit });
      break;
    case 'compensate-start':
      step.status = 'compensating';
      step.compensation = { startedAt: e.at };
      break;
    case 'compensated':
      step.status = 'compensated';
      step.compensation = { ...(step.compensation ?? { startedAt: e.at }), finishedAt: e.at };
      record.compensated.push(e.stepId);
      break;
    case 'compensation-failed': {
      step.status = 'compensation-failed';
      const error = e.error ?? { name: 'Error', code: 'PERMANENT', message: 'unknown', retryable: false };
      step.compensation = { ...(step.compensation ?? { startedAt: e.at }), finishedAt: e.at, error };
      record.compensationFailures.push({ stepId: e.stepId, error });
      break;
    }
    default:
      break;
  }
}

/** Replay a run's events into its record; undefined if the log does not start with `created`. */
export function foldRunEvents(events: readonly RunEvent[]): RunRecord | undefined {
  for (const [i, e] of events.entries()) {
    const why = damage(e, i);
    if (why)
      throw new TroupeError('IO_ERROR', `run log of ${runOf(events)}: event ${i + 1} is damaged: ${why}`, {
        retryable: false,
        context: { damaged: true, event: i + 1 },
      });
  }
  const first = events[0];
  if (first?.type !== 'created') return undefined;
  const kept: RunEvent[] = [];
  const record: RunRecord = {
    runId: first.runId,
    workflowId: first.workflowId,
    definition: first.definition,
    input: first.input,
    ...(first.owner ? { owner: first.owner } : {}),
    epoch: first.epoch ?? 0,
    state: 'pending',
    createdAt: first.at,
    updatedAt: first.at,
    states: [],
    steps: first.definition.steps.map((s) => ({
      stepId: s.id,
      service: s.service,
      operation: s.operation,
      status: 'pending',
      attempts: [],
      circuit: [],
    })),
    completionOrder: [],
    compensated: [],
    compensationFailures: [],
    deferred: [],
    checkpoints: [],
    events: kept,
  };
  for (const e of events) {
    // A line of an earlier lease than the run's latest claim: a zombie's, not the run's.
    if (e.epoch !== undefined && e.epoch < record.epoch) continue;
    if (e.epoch !== undefined) record.epoch = e.epoch;
    kept.push(e);
    record.updatedAt = Math.max(record.updatedAt, e.at);
    if (e.type === 'state') {
      record.state = e.to;
      record.states.push({ state: e.to, at: e.at });
      if (e.outcome) record.outcome = e.outcome;
      // A new pass (resume) starts with a fresh compensation account.
      if (e.to === 'running') {
        record.compensated = [];
        record.compensationFailures = [];
      }
    } else if (e.type === 'step') {
      applyStep(record, e);
    } else if (e.type === 'checkpoint') {
      const c: CheckpointRecord & { at: number } = { at: e.at, phase: e.phase, issues: e.issues };
      if (e.stepId !== undefined) c.stepId = e.stepId;
      record.checkpoints.push(c);
    }
  }
  return record;
}

/** What makes a logged event unusable (an edit by hand, a foreign write), if anything. */
function damage(e: unknown, i: number): string | undefined {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return 'not a JSON object';
  const { type, at, epoch } = e as Record<string, unknown>;
  if (typeof type !== 'string') return 'it has no type';
  if (typeof at !== 'number') return '"at" is not a time';
  if (epoch !== undefined && !Number.isSafeInteger(epoch)) return '"epoch" is not a whole number';
  if (type === 'created') {
    const { runId, workflowId, definition } = e as Record<string, unknown>;
    if (i !== 0) return 'a second "created"';
    if (typeof runId !== 'string' || typeof workflowId !== 'string') return 'it names no run or workflow';
    if (!Array.isArray((definition as { steps?: unknown } | null)?.steps))
      return 'its definition has no steps';
    for (const st of (definition as { steps: unknown[] }).steps)
      if (st === null || typeof st !== 'object' || typeof (st as { id?: unknown }).id !== 'string')
        return 'a step of its definition has no id';
  }
  if (type === 'step' && typeof (e as { stepId?: unknown }).stepId !== 'string') return 'it names no step';
  return undefined;
}

/** The run a log's events are of, for a message. */
const runOf = (events: readonly unknown[]): string => {
  const id = (events[0] as { runId?: unknown } | null)?.runId;
  return typeof id === 'string' ? `run "${id}"` : 'a run';
};

export const summarize = (r: RunRecord): RunSummary => ({
  runId: r.runId,
  workflowId: r.workflowId,
  state: r.state,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/**
 * A run log in memory: for tests and for runs that need no durability. Leases are in-instance.
 *
 * @example
 * ```ts
 * const runLog = new MemoryRunLog();
 * const { runId } = await new WorkflowRunner({ services, runLog }).run(def, {});
 * const record = await runLog.read(runId); // states, steps and attempts, replayed from the events
 * runLog.events(runId); // the raw events, in order
 * ```
 */
export class MemoryRunLog implements RunLog {
  readonly #runs = new Map<string, RunEvent[]>();
  readonly #leases = new Map<string, LeaseRecord>();
  readonly #keeper: LeaseKeeper;

  /** `leaseMs`: how long a lease lasts unrenewed (default 30 s). */
  constructor(opts: { leaseMs?: number } = {}) {
    this.#keeper = new LeaseKeeper(opts.leaseMs, (l) => this.renew(l));
  }

  async claim(runId: string, opts: ClaimOptions = {}): Promise<RunLease | undefined> {
    const current = this.#leases.get(runId);
    if (opts.fresh && (current || this.#runs.has(runId))) return undefined;
    if (!opts.force && leaseHeld(current)) return undefined;
    const lease = this.#keeper.grant(runId, (current?.epoch ?? 0) + 1);
    this.#leases.set(runId, lease);
    return lease;
  }

  async renew(lease: RunLease): Promise<boolean> {
    const current = this.#leases.get(lease.runId);
    if (current?.token !== lease.token || current.released) return false;
    current.expiresAt = this.#keeper.expiry();
    return true;
  }

  async release(lease: RunLease): Promise<void> {
    this.#keeper.stop(lease);
    const current = this.#leases.get(lease.runId);
    if (current?.token === lease.token) current.released = true;
  }

  async isHeld(runId: string): Promise<boolean> {
    return leaseHeld(this.#leases.get(runId));
  }

  /** Forgets that a run is held, as if its holder had died (for tests of recovery). */
  abandon(runId: string): void {
    const current = this.#leases.get(runId);
    if (!current) return;
    this.#keeper.stop(current);
    current.expiresAt = 0;
  }

  async append(runId: string, event: RunEvent): Promise<void> {
    let events = this.#runs.get(runId);
    if (!events) {
      events = [];
      this.#runs.set(runId, events);
    }
    events.push(event);
  }

  async read(runId: string): Promise<RunRecord | undefined> {
    const events = this.#runs.get(runId);
    return events ? foldRunEvents(events) : undefined;
  }

  async list(): Promise<RunSummary[]> {
    const out: RunSummary[] = [];
    for (const events of this.#runs.values()) {
      const r = foldRunEvents(events);
      if (r) out.push(summarize(r));
    }
    return out;
  }

  async listPage(opts: RunPageOptions): Promise<RunSummary[]> {
    return pageOfRuns(await this.list(), opts);
  }

  async listPrefixed(prefix: string): Promise<RunSummary[]> {
    return runsWithPrefix(await this.list(), prefix);
  }

  /** The raw events of a run, in order. */
  events(runId: string): readonly RunEvent[] {
    return this.#runs.get(runId) ?? [];
  }
}
