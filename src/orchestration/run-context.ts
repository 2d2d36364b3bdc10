import { isTroupeError, type SerializedError, serializeError } from '../domain/errors.js';
import type { Clock } from './clock.js';
import type { PolicyDefinition, StepDefinition, WorkflowDefinition } from './definition.js';
import {
  type CheckpointRecord,
  type Emitter,
  ENDED_STATES,
  type RunnerEvents,
  type RunState,
  type StepEvent,
} from './events.js';
import type { CarriedEvents, Checkpoint, ServiceHandlers } from './handlers.js';
import type { OperationTable } from './operations.js';
import type { Plan } from './plan.js';
import type { Bulkhead } from './policies/bulkhead.js';
import type { CircuitBreaker, CircuitBreakerOptions } from './policies/circuit-breaker.js';
import { effectivePolicy } from './policies/policy.js';
import type { Random } from './random.js';
import type { Redactor } from './redact.js';
import type { RunEvent, RunLog, RunOutcome } from './run-log.js';

/** The runner's shared parts that every run uses. */
export interface Engine {
  services: ServiceHandlers;
  /** The schemas behind `services`, when they came from `defineOperations`. */
  operations: OperationTable | undefined;
  clock: Clock;
  random: Random;
  runLog: RunLog;
  emitter: Emitter<RunnerEvents>;
  servicePolicies: Record<string, PolicyDefinition> | undefined;
  checkpoint: Checkpoint | undefined;
  /** Services whose inputs are configuration text (see RunnerOptions.configurationServices). */
  configurationServices: ReadonlySet<string>;
  breakerFor(service: string, options: CircuitBreakerOptions): CircuitBreaker;
  bulkhead(name: string): Bulkhead | undefined;
}

/** A completed step as later steps, checkpoints and compensation see it. */
export interface StepResult {
  input: unknown;
  output: unknown;
  /** The value came from a fallback: nothing happened in the service, nothing to compensate. */
  viaFallback: boolean;
}

/** Everything one run knows while it executes; its event helpers redact before anything leaves. */
export class RunContext {
  readonly engine: Engine;
  readonly runId: string;
  readonly workflowId: string;
  readonly def: WorkflowDefinition;
  readonly plan: Plan;
  readonly input: unknown;
  readonly redactor: Redactor;
  /** Cancels the run's handlers; a resumed run gets the signal passed to `resume`. */
  signal: AbortSignal | undefined;
  /** The epoch of the lease this runner holds on the run: stamped on every event it appends. */
  epoch: number | undefined;
  /** Rebuilt from the log by a recovery: the process that ran the run may be alive still. */
  recovering = false;
  state: RunState | null = null;
  /** Completed steps in completion order (the order compensation reverses). */
  readonly completed = new Map<string, StepResult>();
  /** Steps already compensated (a recovered run may have done some before it stopped). */
  readonly compensatedSteps = new Set<string>();
  readonly checkpointIssues: CheckpointRecord[] = [];
  /** Undo data handlers recorded before acting, per step and attempt (see StepContext.intent). */
  readonly intents = new Map<string, unknown[]>();
  /** Handler calls still running per step: a timed-out call may yet finish its write. */
  readonly inFlight = new Map<string, Set<Promise<unknown>>>();

  /** Tracks a handler call until it settles, whatever its caller stopped waiting for. */
  track<T>(stepId: string, call: Promise<T>): Promise<T> {
    let calls = this.inFlight.get(stepId);
    if (!calls) {
      calls = new Set();
      this.inFlight.set(stepId, calls);
    }
    const set = calls;
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    set.add(settled);
    void settled.then(() => set.delete(settled));
    return call;
  }
  #chain: Promise<void> = Promise.resolve();
  #logError: unknown;
  /** The run's end could not be written: the log still shows it unfinished (recovery undoes it). */
  endUnrecorded = false;
  readonly #policies = new Map<string, PolicyDefinition>();

  constructor(init: {
    engine: Engine;
    runId: string;
    def: WorkflowDefinition;
    plan: Plan;
    input: unknown;
    redactor: Redactor;
    signal?: AbortSignal | undefined;
  }) {
    this.engine = init.engine;
    this.runId = init.runId;
    this.workflowId = init.def.id;
    this.def = init.def;
    this.plan = init.plan;
    this.input = init.input;
    this.redactor = init.redactor;
    this.signal = init.signal;
  }

  now(): number {
    return this.engine.clock.now();
  }

  /** The step's policy after merging step, workflow and runner settings (cached per step). */
  policyFor(step: StepDefinition): PolicyDefinition {
    let p = this.#policies.get(step.id);
    if (!p) {
      p = effectivePolicy(step, this.def, this.engine.servicePolicies);
      this.#policies.set(step.id, p);
    }
    return p;
  }

  /**
   * Append to the run log in order; a write failure is kept and reported by `flush`. A log
   * that is away for now (TRANSIENT: a database restarting) is waited for, up to about 15 s:
   * a run whose outcome is not recorded would be taken for interrupted, and undone.
   */
  record(event: RunEvent): void {
    const stamped = this.epoch === undefined ? event : { ...event, epoch: this.epoch };
    this.#chain = this.#chain.then(() =>
      appendPatiently(this.engine.runLog, this.runId, stamped).catch((e: unknown) => {
        this.#logError ??= e;
        if (event.type === 'state' && ENDED_STATES.has(event.to)) this.endUnrecorded = true;
      }),
    );
  }

  /** Wait for every log write so far; returns the first write error, if any. */
  async flush(): Promise<unknown> {
    await this.#chain;
    return this.#logError;
  }

  /** An error as it is recorded: serialized, with the step's context, redacted. */
  describeError(error: unknown, step?: StepDefinition, attempt?: number): SerializedError {
    const s = serializeError(error);
    const context: Record<string, unknown> = { ...s.context, workflowId: this.workflowId, runId: this.runId };
    if (step) {
      context.stepId = step.id;
      context.service = step.service;
      context.operation = step.operation;
    }
    if (attempt !== undefined) context.attempt = attempt;
    return this.redactor.redact({ ...s, context });
  }

  stepEvent(
    step: StepDefinition,
    kind: StepEvent['kind'],
    attempt: number,
    fields: Partial<StepEvent> = {},
  ): void {
    this.record(this.#emitStep(step, kind, attempt, fields));
  }

  /**
   * A durable step event (an intent) a commit to the run log's own database may carry (see
   * CarriedEvents): appended after every earlier event; undefined when the log wrote it
   * durably itself. Throws the first log write error, as `flush` reports it.
   */
  async carriedStepEvent(
    step: StepDefinition,
    kind: StepEvent['kind'],
    attempt: number,
    fields: Partial<StepEvent>,
  ): Promise<CarriedEvents | undefined> {
    const event = this.#emitStep(step, kind, attempt, fields);
    const log = this.engine.runLog;
    if (!log.appendCarried) {
      this.record(event);
      const error = await this.flush();
      if (error) throw error;
      return undefined;
    }
    const stamped = this.epoch === undefined ? event : { ...event, epoch: this.epoch };
    let carried: CarriedEvents | undefined;
    this.#chain = this.#chain.then(async () => {
      try {
        carried = await log.appendCarried!(this.runId, stamped);
      } catch (e) {
        this.#logError ??= e;
      }
    });
    const error = await this.flush();
    if (error) {
      carried?.end();
      throw error;
    }
    return carried;
  }

  #emitStep(
    step: StepDefinition,
    kind: StepEvent['kind'],
    attempt: number,
    fields: Partial<StepEvent>,
  ): RunEvent {
    const event: StepEvent = {
      runId: this.runId,
      workflowId: this.workflowId,
      stepId: step.id,
      service: step.service,
      operation: step.operation,
      kind,
      attempt,
      at: this.now(),
      ...fields,
    };
    this.engine.emitter.emit('step', event);
    return { type: 'step', ...event };
  }

  setState(to: RunState, outcome?: RunOutcome): void {
    const from = this.state;
    this.state = to;
    const at = this.now();
    this.engine.emitter.emit('stateChange', { runId: this.runId, workflowId: this.workflowId, from, to, at });
    this.record(outcome ? { type: 'state', at, from, to, outcome } : { type: 'state', at, from, to });
  }

  outputs(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [id, r] of this.completed) out[id] = r.output;
    return out;
  }
}

/** Waits between tries of a run-log write the log said to try later: real time, not the run's clock. */
const LOG_RETRY_MS = [
  50, 100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000,
  1_000, 1_000,
];

async function appendPatiently(log: RunLog, runId: string, event: RunEvent): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await log.append(runId, event);
    } catch (e) {
      const wait = LOG_RETRY_MS[i];
      if (wait === undefined || !isTroupeError(e) || e.code !== 'TRANSIENT') throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
