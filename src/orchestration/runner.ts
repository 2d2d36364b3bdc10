import { randomUUID } from 'node:crypto';
import { formatIssues } from '../domain/common.js';
import {
  type Issue,
  isTroupeError,
  notFound,
  serializeError,
  TroupeError,
  validationError,
} from '../domain/errors.js';
import { scrubRandomWords } from '../domain/secrets.js';
import { nestedDeeperThan } from '../domain/text.js';
import { currentHolder } from '../platform/holder.js';
import type { TypedWorkflow } from './builder.js';
import { type Clock, realClock } from './clock.js';
import {
  assertNoRecordedSecrets,
  defineWorkflow,
  type PolicyDefinition,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
} from './definition.js';
import { Emitter, INTERRUPTED_STATES, type RunnerEvents, type RunResult } from './events.js';
import { runPass } from './execution.js';
import { compensateAndEnd, endRun, finishPass } from './finish.js';
import type { Checkpoint, ServiceHandlers } from './handlers.js';
import type { RunLease } from './lease.js';
import { linkedSignal } from './linked-signal.js';
import { inputForLog, shapeScrubbed } from './logged.js';
import { handlersOf, isOperations, type Operations } from './operations.js';
import { planFor } from './plan.js';
import { Bulkhead, type BulkheadOptions } from './policies/bulkhead.js';
import { CircuitBreaker, type CircuitState } from './policies/circuit-breaker.js';
import { mathRandom, type Random } from './random.js';
import { Redactor } from './redact.js';
import { bareContext, contextFromRecord } from './restore.js';
import { type Engine, RunContext } from './run-context.js';
import { MemoryRunLog, RUN_ID, type RunLog, type RunRecord } from './run-log.js';
import { runnableIssues } from './runnable.js';

/**
 * How deep a run's input may nest. An entity may nest 32 levels (see MAX_DEPTH), which its
 * own step reports field by field; an input past this is refused before the run begins.
 */
const MAX_INPUT_DEPTH = 256;

export type { Checkpoint, CheckpointContext, Handler, ServiceHandlers, StepContext } from './handlers.js';

export interface RunnerOptions {
  /** The operations steps call: from `defineOperations` (input-checked, typed), or plain handlers. */
  services: ServiceHandlers | Operations;
  clock?: Clock;
  random?: Random;
  /** Where runs are recorded; defaults to memory. */
  runLog?: RunLog;
  /** Policies per service, used where neither the step nor the workflow sets a field. */
  servicePolicies?: Record<string, PolicyDefinition>;
  /** Bulkhead pools that policies name. */
  bulkheads?: Record<string, BulkheadOptions>;
  checkpoint?: Checkpoint;
  /** Extra key names to redact everywhere. */
  sensitiveKeys?: string[];
  /**
   * Services whose inputs are configuration text, which refuses a key of the Azure shape (32
   * hex digits) outside ids: in their inputs as the log keeps them (recovery reads them back)
   * such a key is redacted too, as it could never have been taken. Other services' inputs keep
   * them (an MD5 digest has that shape).
   */
  configurationServices?: readonly string[];
  newRunId?: () => string;
}

export interface RunOptions {
  signal?: AbortSignal;
  runId?: string;
}

/**
 * The definition as logged: constant values (inputs, fallback values) redacted, and in its
 * name and description any word that looks like a key; structure intact.
 */
function redactDefinition(
  def: WorkflowDefinition,
  redactor: Redactor,
  configurationServices: ReadonlySet<string>,
): WorkflowDefinition {
  return {
    ...def,
    ...(def.name !== undefined ? { name: scrubRandomWords(def.name) } : {}),
    ...(def.description !== undefined ? { description: scrubRandomWords(def.description) } : {}),
    steps: def.steps.map((s) => {
      const out = { ...s };
      if (s.input !== undefined)
        out.input = shapeScrubbed(
          redactor.redact(s.input),
          configurationServices.has(s.service),
        ) as typeof s.input;
      if (s.compensate?.input !== undefined)
        out.compensate = { ...s.compensate, input: redactor.redact(s.compensate.input) };
      if (s.fallback !== undefined) out.fallback = redactor.redact(s.fallback);
      return out;
    }),
  };
}

/**
 * Runs workflow definitions: steps as a DAG under their policies, compensation in reverse
 * completion order when a failure is not recovered, every transition in the run log.
 * Step failures are outcomes (`RunResult.status`); only a definition the runner cannot run
 * (invalid, or naming a missing handler or bulkhead) throws.
 *
 * @example
 * ```ts
 * const runner = new WorkflowRunner({
 *   services: { mail: { send: async (input) => ({ id: 'm1' }), unsend: async () => {} } },
 *   runLog: new FileRunLog('./runs'),
 * });
 * const def = workflow('notify')
 *   .step('send', 'mail', 'send', { compensate: { operation: 'unsend' }, policy: { timeoutMs: 5_000 } })
 *   .build();
 * const result = await runner.run(def, { to: 'ada' }, { signal: AbortSignal.timeout(30_000) });
 * if (result.status !== 'completed') console.error(result.error?.message);
 * ```
 */
export class WorkflowRunner {
  readonly #engine: Engine;
  readonly #emitter = new Emitter<RunnerEvents>();
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #bulkheads = new Map<string, Bulkhead>();
  readonly #sensitiveKeys: readonly string[];
  readonly #newRunId: () => string;
  /** Runs this runner is executing (other runners' are told apart by their leases). */
  readonly #active = new Set<string>();
  readonly #suspended = new Map<string, RunContext>();
  readonly #checked = new WeakSet<WorkflowDefinition>();

  constructor(opts: RunnerOptions) {
    const issues: Issue[] = [];
    for (const [name, b] of Object.entries(opts.bulkheads ?? {})) {
      if (!Number.isInteger(b.maxConcurrent) || b.maxConcurrent < 1)
        issues.push({
          path: `bulkheads.${name}.maxConcurrent`,
          message: `must be an integer ≥ 1, got ${b.maxConcurrent}`,
        });
      if (!Number.isInteger(b.maxQueue) || b.maxQueue < 0)
        issues.push({
          path: `bulkheads.${name}.maxQueue`,
          message: `must be an integer ≥ 0, got ${b.maxQueue}`,
        });
      this.#bulkheads.set(name, new Bulkhead(name, b));
    }
    if (issues.length > 0) throw validationError('invalid runner options', issues);
    this.#sensitiveKeys = opts.sensitiveKeys ?? [];
    this.#newRunId = opts.newRunId ?? randomUUID;
    const clock = opts.clock ?? realClock;
    this.#engine = {
      services: handlersOf(opts.services),
      operations: isOperations(opts.services) ? opts.services.table : undefined,
      clock,
      random: opts.random ?? mathRandom,
      runLog: opts.runLog ?? new MemoryRunLog(),
      emitter: this.#emitter,
      servicePolicies: opts.servicePolicies,
      checkpoint: opts.checkpoint,
      configurationServices: new Set(opts.configurationServices ?? []),
      breakerFor: (service, options) => {
        let b = this.#breakers.get(service);
        if (!b) {
          b = new CircuitBreaker(service, options, clock);
          this.#breakers.set(service, b);
        } else b.configure(options);
        return b;
      },
      bulkhead: (name) => this.#bulkheads.get(name),
    };
  }

  /** The log this runner records to. */
  get runLog(): RunLog {
    return this.#engine.runLog;
  }

  /** Listen to run state changes or step events; returns a function that unsubscribes. */
  on<K extends keyof RunnerEvents>(event: K, listener: (e: RunnerEvents[K]) => void): () => void {
    return this.#emitter.on(event, listener);
  }

  /** The circuit state of a service as a call made now would see it. */
  circuitState(service: string): CircuitState {
    return this.#breakers.get(service)?.state ?? 'closed';
  }

  /**
   * Run a workflow to its end; never throws for a step failure. A definition from a typed
   * builder gives typed outputs.
   */
  async run<Out = Record<string, unknown>>(
    definition: TypedWorkflow<Out> | WorkflowDefinitionInput,
    input?: unknown,
    opts: RunOptions = {},
  ): Promise<RunResult<Out>> {
    const def = defineWorkflow(definition);
    // Its strings are recorded as they are: refused before anything is, if one holds a key.
    assertNoRecordedSecrets(def);
    return (await this.#run(def, input, opts)) as RunResult<Out>;
  }

  async #run(def: WorkflowDefinition, input: unknown, opts: RunOptions): Promise<RunResult> {
    this.#checkRunnable(def);
    // Refused before anything is recorded: the run log could not even write it down.
    if (nestedDeeperThan(input, MAX_INPUT_DEPTH))
      throw validationError(
        `the input of workflow "${def.id}" is nested more than ${MAX_INPUT_DEPTH} levels deep: nothing was run`,
        [{ path: '(input)', message: `is nested more than ${MAX_INPUT_DEPTH} levels deep` }],
      );
    const runId = opts.runId ?? this.#newRunId();
    if (!RUN_ID.test(runId))
      throw validationError(`run id ${JSON.stringify(runId)} must be 1–128 of A-Z a-z 0-9 _ -`, [
        { path: 'runId', message: 'invalid run id' },
      ]);
    const inUse = () =>
      validationError(`run id "${runId}" is already in use`, [{ path: 'runId', message: 'already used' }]);
    if (this.#active.has(runId) || (opts.runId !== undefined && (await this.#engine.runLog.read(runId))))
      throw inUse();
    // A random id of the runner's own is new by construction: its claim needs no check.
    const unique = opts.runId === undefined && this.#newRunId === randomUUID;
    const lease = await this.#engine.runLog.claim(runId, { fresh: true, ...(unique ? { unique } : {}) });
    if (!lease) throw inUse();
    const plan = planFor(def);
    const redactor = new Redactor([...this.#sensitiveKeys, ...plan.sensitive]);
    const linked = linkedSignal(opts.signal);
    const ctx = new RunContext({
      engine: this.#engine,
      runId,
      def,
      plan,
      input,
      redactor,
      signal: linked.signal,
    });
    ctx.epoch = lease.epoch;
    this.#active.add(runId);
    try {
      ctx.record({
        type: 'created',
        at: ctx.now(),
        runId,
        workflowId: def.id,
        definition: redactDefinition(def, redactor, this.#engine.configurationServices),
        // Read back only to resume a run with steps that can be deferred, and by a
        // compensation whose input names it.
        input: inputForLog(input, redactor, plan.resumable || plan.compensationRefs),
        owner: currentHolder(),
      });
      ctx.setState('pending');
      ctx.setState('running');
      const pass = await runPass(
        ctx,
        plan.steps.map((s) => s.id),
      );
      return await this.#stillHeld(lease, this.#suspendIfPartial(ctx, await finishPass(ctx, pass)));
    } finally {
      linked.release();
      await this.#letGo(ctx, lease);
    }
  }

  /**
   * A run taken from this runner while it ran (`workflow recover --force` of a holder that
   * stalled) is not reported completed: what it did is the new holder's to keep or undo.
   */
  async #stillHeld(lease: RunLease, result: RunResult): Promise<RunResult> {
    const log = this.#engine.runLog;
    if (result.status !== 'completed' || !(await log.superseded?.(lease, result.status).catch(() => false)))
      return result;
    const error = new TroupeError(
      'CONCURRENT_MODIFICATION',
      `run ${result.runId} was taken over by another process while it ran (its lease moved past epoch ${lease.epoch}): it is not reported done here; what it did is the new holder's to keep or undo (troupe workflow show ${result.runId})`,
      { retryable: false, context: { runId: result.runId, heldEpoch: lease.epoch } },
    );
    return { ...result, status: 'failed', error: serializeError(error) };
  }

  /** The run is no longer this runner's: its log is written, its lease given back. */
  async #letGo(ctx: RunContext, lease: RunLease): Promise<void> {
    this.#active.delete(ctx.runId);
    await ctx.flush();
    await this.#engine.runLog.release(lease).catch(() => undefined);
  }

  /** Claims a run that exists (to resume, cancel or recover it), recording the claim in its log. */
  async #claim(ctx: RunContext): Promise<RunLease | undefined> {
    const lease = await this.#engine.runLog.claim(ctx.runId);
    if (lease) this.#stamp(ctx, lease);
    return lease;
  }

  /**
   * Continue a partially-completed run: run its deferred steps and their dependents, using
   * the outputs of the steps that completed (kept in memory, or read back from the run log).
   */
  async resume(runId: string, opts: { signal?: AbortSignal } = {}): Promise<RunResult> {
    const ctx = await this.#suspendedRun(runId, 'resumed');
    const lease = await this.#claimSuspended(ctx);
    const linked = linkedSignal(opts.signal);
    try {
      ctx.signal = linked.signal;
      ctx.setState('running');
      const done = ctx.completed;
      const pass = await runPass(
        ctx,
        ctx.plan.steps.filter((s) => !done.has(s.id)).map((s) => s.id),
      );
      return this.#suspendIfPartial(ctx, await finishPass(ctx, pass));
    } finally {
      linked.release();
      await this.#letGo(ctx, lease);
    }
  }

  /** The lease of a suspended run, or the error that another runner is executing it. */
  async #claimSuspended(ctx: RunContext): Promise<RunLease> {
    const lease = await this.#claim(ctx);
    if (lease) {
      this.#active.add(ctx.runId);
      return lease;
    }
    this.#suspended.set(ctx.runId, ctx);
    // Busy, not invalid: the same call succeeds once that runner lets the run go.
    throw new TroupeError(
      'LOCK_FAILED',
      `run "${ctx.runId}" is being run by another runner: try again once it is done`,
      {
        retryable: false,
        context: { runId: ctx.runId },
        issues: [{ path: 'runId', message: 'run is held by another runner' }],
      },
    );
  }

  /**
   * Give up a partially-completed run whose deferred steps cannot succeed (or are no longer
   * wanted): its completed steps are compensated, last completed first, and it ends
   * compensated (failed if a compensation fails, with the undo left to recovery as usual).
   */
  async cancel(runId: string): Promise<RunResult> {
    const ctx = await this.#suspendedRun(runId, 'cancelled');
    const lease = await this.#claimSuspended(ctx);
    try {
      const deferred = ctx.plan.steps.filter((st) => !ctx.completed.has(st.id)).map((st) => st.id);
      const error = new TroupeError(
        'WORKFLOW_FAILED',
        `run "${runId}" of workflow "${ctx.workflowId}" was cancelled${deferred.length ? ` before ${deferred.join(', ')} ran` : ''}; its completed steps are undone`,
        { retryable: false, context: { cancelled: true, notRun: deferred } },
      );
      return await compensateAndEnd(ctx, error);
    } finally {
      await this.#letGo(ctx, lease);
    }
  }

  /** A partially-completed run, from memory or its log, ready to be resumed or cancelled. */
  async #suspendedRun(runId: string, what: 'resumed' | 'cancelled'): Promise<RunContext> {
    if (this.#active.has(runId))
      throw new TroupeError('LOCK_FAILED', `run "${runId}" is still running: try again once it is done`, {
        retryable: false,
        context: { runId },
        issues: [{ path: 'runId', message: 'run is active' }],
      });
    let ctx = this.#suspended.get(runId);
    if (!ctx) {
      const record = await this.#engine.runLog.read(runId);
      if (!record) throw notFound('run', runId);
      ctx = contextFromRecord(this.#engine, record, this.#sensitiveKeys);
    }
    if (ctx.state !== 'partially-completed')
      throw validationError(`run "${runId}" is ${ctx.state}; only a partially-completed run can be ${what}`, [
        { path: 'runId', message: `run is ${ctx.state}` },
      ]);
    this.#checkRunnable(ctx.def);
    this.#suspended.delete(runId);
    return ctx;
  }

  /**
   * Finish runs a crashed process left running or compensating: compensate their completed
   * steps in reverse completion order (from the recorded inputs and outputs) and end them
   * compensated, or failed if a compensation fails. Steps that were mid-call are named in
   * the error's context (`interruptedSteps`) and undone from the intent they recorded before
   * acting, if any (without one, nothing was written yet).
   * Runs whose owner may be alive are skipped, unless named in `force` (e.g. a run of a
   * container that no longer exists, whose host cannot be checked from here).
   */
  async recoverInterrupted(opts: { force?: readonly string[] } = {}): Promise<RunResult[]> {
    const results: RunResult[] = [];
    const log = this.#engine.runLog;
    const forced = new Set(opts.force ?? []);
    for (const summary of await (log.listUnfinished ? log.listUnfinished() : log.list())) {
      if (!INTERRUPTED_STATES.has(summary.state) || this.#active.has(summary.runId)) continue;
      // A run whose log is damaged (edited by hand) is left as it is, the log saying so
      // (`unreadable`); the others are recovered all the same.
      const record = await readUnlessDamaged(log, summary.runId);
      if (!record || !INTERRUPTED_STATES.has(record.state)) continue;
      // Its lease decides: held by a live runner (here, elsewhere, or on another host until it
      // runs out), the run is left alone unless named in `force`.
      const lease = await log.claim(record.runId, { force: forced.has(record.runId) });
      if (!lease) continue;
      this.#active.add(record.runId);
      try {
        // Read again under the lease: its holder may have finished it between the read above
        // and the claim (and a finished run is never undone).
        const now = await readUnlessDamaged(log, record.runId);
        const recovered =
          now && INTERRUPTED_STATES.has(now.state) ? await this.#recover(now, lease) : undefined;
        if (recovered) results.push(recovered);
      } finally {
        this.#active.delete(record.runId);
        await log.release(lease).catch(() => undefined);
      }
    }
    return results;
  }

  async #recover(record: RunRecord, lease: RunLease): Promise<RunResult | undefined> {
    const interruptedSteps = record.steps.filter((s) => s.status === 'running').map((s) => s.stepId);
    const error = new TroupeError(
      'WORKFLOW_FAILED',
      `run "${record.runId}" of workflow "${record.workflowId}" was interrupted while ${record.state}; compensating its completed steps`,
      { retryable: false, context: { interruptedState: record.state, interruptedSteps } },
    );
    let ctx: RunContext;
    try {
      ctx = contextFromRecord(this.#engine, record, this.#sensitiveKeys);
    } catch (cause) {
      // Without a usable definition nothing can be undone; say so in the log rather than skip it.
      const failure = new TroupeError('WORKFLOW_FAILED', `run "${record.runId}" cannot be recovered`, {
        cause,
      });
      const ctx0 = bareContext(this.#engine, record, this.#sensitiveKeys);
      this.#stamp(ctx0, lease);
      return endRun(ctx0, 'failed', { error: ctx0.describeError(failure) });
    }
    // The claim is in the log, durably, before anything is undone: what the earlier holder
    // appends after it is not part of the run. Read once more behind it: a holder that went on
    // (a stalled one, taken over by --force) may have ended the run just before the claim, and
    // an ended run is never undone. A claim that cannot be logged leaves the run for later.
    this.#stamp(ctx, lease);
    if (await ctx.flush()) return undefined;
    const behind = await readUnlessDamaged(this.#engine.runLog, record.runId);
    if (!behind || !INTERRUPTED_STATES.has(behind.state)) return undefined;
    return compensateAndEnd(ctx, error);
  }

  /** Every handler, compensation, fallback and bulkhead the definition names must exist (see runnableIssues). */
  #checkRunnable(def: WorkflowDefinition): void {
    if (this.#checked.has(def)) return;
    const issues = runnableIssues(def, {
      services: this.#engine.services,
      operations: this.#engine.operations,
      servicePolicies: this.#engine.servicePolicies,
      bulkheads: [...this.#bulkheads.keys()],
    });
    if (issues.length > 0)
      throw validationError(
        `workflow "${def.id}" cannot run:\n${formatIssues(issues, { where: false })}`,
        issues,
        {
          workflowId: def.id,
        },
      );
    this.#checked.add(def);
  }

  /** Every event the recovering runner appends carries its lease's epoch, after a claim event. */
  #stamp(ctx: RunContext, lease: RunLease): void {
    ctx.epoch = lease.epoch;
    ctx.record({ type: 'claimed', at: ctx.now(), holder: currentHolder() });
  }

  /** Keep a partially-completed run in memory so `resume` has its unredacted outputs. */
  #suspendIfPartial(ctx: RunContext, result: RunResult): RunResult {
    if (result.status === 'partially-completed') this.#suspended.set(ctx.runId, ctx);
    return result;
  }
}

/** A run's record, or undefined when its log is damaged (its log keeps why, see RunLog `unreadable`). */
const readUnlessDamaged = (log: RunLog, runId: string) =>
  log.read(runId).catch((e: unknown) => {
    if (isTroupeError(e) && (e.context as { damaged?: unknown } | undefined)?.damaged === true)
      return undefined;
    throw e;
  });
