import type { Agent } from '../domain/agent.js';
import { slugify } from '../domain/common.js';
import { TroupeError, validationError } from '../domain/errors.js';
import type { Model } from '../domain/model.js';
import type { Personality } from '../domain/personality.js';
import type { Role } from '../domain/role.js';
import type { TypedWorkflow } from '../orchestration/builder.js';
import type { Clock } from '../orchestration/clock.js';
import {
  defineWorkflow,
  type PolicyDefinition,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
} from '../orchestration/definition.js';
import type { RunResult } from '../orchestration/events.js';
import type { Checkpoint, ServiceHandlers } from '../orchestration/handlers.js';
import type { BulkheadOptions } from '../orchestration/policies/bulkhead.js';
import type { Random } from '../orchestration/random.js';
import { MemoryRunLog, type RunLog, type RunRecord, type RunSummary } from '../orchestration/run-log.js';
import { pageOfRuns, type RunPageOptions, runsWithPrefix } from '../orchestration/run-pages.js';
import { WorkflowRunner } from '../orchestration/runner.js';
import type { Normalized } from '../services/entity-service.js';
import { deadAliases } from '../services/model-service.js';
import { keyOf } from '../storage/batch.js';
import type { CommitResult, Store, StoredDoc } from '../storage/store.js';
import type { BundlePlan, EntityChange } from './bundle.js';
import type { ConflictStrategy, MergeRule } from './conflict.js';
import { detectInconsistencies, type Inconsistency } from './consistency.js';
import { defaultPolicies } from './default-policy.js';
import type { DeleteMode } from './delete.js';
import { syncStates } from './drift.js';
import { type ExportSelection, exportSelection, refuseDangling } from './export-selection.js';
import { buildOperations } from './handlers.js';
import { withProvider } from './infer-provider.js';
import { assertInputGiven } from './input-gaps.js';
import type {
  AgentInput,
  MergePatch,
  ModelInput,
  NewAgent,
  PersonalityInput,
  RoleInput,
  TroupeBundle,
} from './inputs.js';
import { checkScope, writtenBy } from './integrity.js';
import { ownModel } from './model-changes.js';
import { expectedRevisionOf } from './revision-of.js';
import { checkRulePaths } from './rule-paths.js';
import { runError } from './run-error.js';
import { createServices, type Services } from './services.js';

/** The built-in workflows, built (and validated) when a change first runs one, not at start-up. */
type Workflows = typeof import('./workflows.js');
let loaded: Promise<Workflows> | undefined;
// Imported once: a dynamic import per change costs a loader round trip every time.
const builtIns = (): Promise<Workflows> => {
  loaded ??= import('./workflows.js');
  return loaded;
};

export interface ConfigurationServiceOptions {
  /** Timestamps of stored entities; defaults to the clock's now. */
  now?: () => number;
  clock?: Clock;
  random?: Random;
  /** Where workflow runs are recorded; the CLI uses a FileRunLog under `.troupe/runs`. */
  runLog?: RunLog;
  /** Services to coordinate instead of real ones over `store` (the testing kit passes fakes). */
  services?: Services;
  /** Policies per service (personality, role, model, agent, file, configuration). */
  servicePolicies?: Record<string, PolicyDefinition>;
  sensitiveKeys?: string[];
  /** Where run ids come from (default: random UUIDs); the testing kit counts them. */
  newRunId?: () => string;
  /** Bulkhead pools that workflow policies can name (`policy.bulkhead`). */
  bulkheads?: Record<string, BulkheadOptions>;
  /** Wraps the handlers, e.g. to inject faults at the operation level. */
  wrapHandlers?: (h: ServiceHandlers) => ServiceHandlers;
  /**
   * Cancels every call of this service (the CLI's Ctrl-C); a call's own `signal` cancels that
   * call. Cancelled before its commit point, a change fails with CANCELLED and writes nothing.
   */
  signal?: AbortSignal;
}

/** What every call that may write takes: an abort before the commit point leaves everything as it was. */
export interface Cancellable {
  signal?: AbortSignal | undefined;
}

export interface CreateAgentRequest {
  agent: NewAgent;
  /** A new personality to create with the agent; else `agent.personalityId` must exist. */
  personality?: PersonalityInput;
  /** A new role to create with the agent (from `template` if given); else `agent.roleId` must exist. */
  role?: RoleInput | Partial<RoleInput>;
  template?: string;
  file?: string;
  /** Same as `file`, for callers that pass a location object. */
  where?: { file?: string | undefined };
  signal?: AbortSignal | undefined;
}

export interface UpdateOptions extends Cancellable {
  expectedRevision?: number | undefined;
  file?: string;
  /** What to do when the stored revision is not the expected one (default reject). */
  strategy?: ConflictStrategy;
  rules?: Record<string, MergeRule>;
  defaultRule?: MergeRule;
  base?: Record<string, unknown>;
}

const agentIdOf = (a: unknown) => {
  const o = (a ?? {}) as { id?: unknown; name?: unknown };
  return typeof o.id === 'string' ? o.id : slugify(String(o.name ?? ''));
};

type Touched = { touched?: string[] };
type Written = Touched & { results?: CommitResult['results']; unchanged?: boolean };
type Verified = { verified?: string[] };

/** The document a single-write step committed (its first result). */
const writtenDoc = (output: Written): StoredDoc => output.results![0]!.doc;

/** A run that completed: every step has its output. */
export type CompletedRun<Out> = RunResult<Out> & { status: 'completed'; outputs: Out };

const touchedOf = (outputs: Record<string, unknown>) =>
  Object.values(outputs).flatMap((o) => ((o as Touched | null)?.touched ?? []) as string[]);

/**
 * Coordinates PersonalityService, RoleService, AgentService, ModelService and FileService.
 * Every operation that spans them is a built-in workflow run by the WorkflowRunner: steps
 * under retry / circuit breaker / timeout policies, checkpoints, compensation in reverse
 * order on failure, and a durable run log. A run that does not complete throws a
 * TroupeError with the failing step's code, and leaves the store as it was.
 *
 * @example
 * ```ts
 * const config = new ConfigurationService(await FileStore.open('./.troupe-config'));
 * await config.createPersonality({ bigFive: { openness: 90 } }, { preset: 'calm-analyst' });
 * const { agent } = await config.createAgent({
 *   agent: { name: 'Ada', personalityId: 'calm-analyst', roleId: 'developer', model: { modelId: 'gpt-4o' } },
 * });
 * // Every agent on the personality is re-composed in the same commit; a stale revision fails.
 * await config.updatePersonality('calm-analyst', { bigFive: { openness: 60 } }, { expectedRevision: 1 });
 * ```
 */
export class ConfigurationService {
  readonly services: Services;
  readonly runner: WorkflowRunner;
  readonly runLog: RunLog;
  readonly #signal: AbortSignal | undefined;

  constructor(store: Store, opts: ConfigurationServiceOptions = {}) {
    this.#signal = opts.signal;
    this.services = opts.services ?? createServices(store);
    this.runLog = opts.runLog ?? new MemoryRunLog();
    const clockNow = opts.clock ? () => opts.clock!.now() : Date.now;
    const now = opts.now ?? clockNow;
    const ops = buildOperations(this.services, () => new Date(now()).toISOString());
    const policy = opts.servicePolicies ?? {};
    this.runner = new WorkflowRunner({
      services: opts.wrapHandlers ? { table: ops.table, handlers: opts.wrapHandlers(ops.handlers) } : ops,
      runLog: this.runLog,
      checkpoint: this.#checkpoint,
      // Built-in services get the default policy unless given one; other services as given.
      servicePolicies: {
        ...defaultPolicies(ops.table),
        ...policy,
      },
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.sensitiveKeys ? { sensitiveKeys: opts.sensitiveKeys } : {}),
      // The built-in services take configuration, which refuses a key of the Azure shape.
      configurationServices: Object.keys(ops.handlers),
      ...(opts.bulkheads ? { bulkheads: opts.bulkheads } : {}),
      ...(opts.newRunId ? { newRunId: opts.newRunId } : {}),
    });
  }

  /** Between steps references must hold; on completion everything touched must be consistent. */
  readonly #checkpoint: Checkpoint = async (c) => {
    // After a step: what that step wrote. On failure and completion: everything the run wrote,
    // less what a verify step of the run already checked in full.
    const outputs = c.phase === 'step' && c.stepId ? { [c.stepId]: c.outputs[c.stepId] } : c.outputs;
    const verified = new Set(
      c.phase === 'completion'
        ? Object.values(c.outputs).flatMap((o) => (o as Verified | null)?.verified ?? [])
        : [],
    );
    const touched = touchedOf(outputs).filter((k) => !verified.has(k));
    const written = writtenBy(Object.values(c.outputs).flatMap((o) => (o as Written | null)?.results ?? []));
    return checkScope(this.services, { touched, written }, c.phase === 'completion' ? 'full' : 'references');
  };

  /** Runs a workflow; returns its outputs if it completed, else throws the failing step's error. */
  async run<Out = Record<string, unknown>>(
    def: TypedWorkflow<Out> | WorkflowDefinition,
    input: unknown,
    opts: Cancellable = {},
  ): Promise<CompletedRun<Out>> {
    const result = await this.#runTracked(def, input, opts.signal);
    if (result.status === 'completed' && !result.endUnrecorded) return result as CompletedRun<Out>;
    if (result.status === 'completed')
      // Done, but not recorded as done (a full disk cut its last line): recovery would take it
      // for interrupted and undo it, so it must not be reported as done.
      throw new TroupeError(
        'IO_ERROR',
        `${result.workflowId}: the change was made, but the run log could not record that it finished (${result.logError?.message}): it is not acknowledged; recovery (the next command, or \`troupe workflow recover\`) undoes it unless its end is recorded after all`,
        { context: { runId: result.runId, workflowId: result.workflowId } },
      );
    throw this.errorOf(result);
  }

  /** Runs of this service whose undo was left to recovery (a full disk): finished first. */
  readonly #undoPending = new Set<string>();

  /**
   * Runs a workflow after finishing the undo of any run of this service left to recovery, as
   * every CLI command does: a stale intent must never meet a newer write that looks like it.
   */
  async #runTracked(def: WorkflowDefinition, input: unknown, own?: AbortSignal): Promise<RunResult> {
    const signal = this.#signalOf(own);
    if (this.#undoPending.size > 0) {
      const pending = [...this.#undoPending];
      const settled = await this.runner.recoverInterrupted({ force: pending }).catch(() => undefined);
      if (settled) {
        this.#undoPending.clear();
        for (const r of settled) if (r.undoPending) this.#undoPending.add(r.runId);
      }
    }
    const result = await this.runner.run(def, input, signal ? { signal } : {});
    if (result.undoPending) this.#undoPending.add(result.runId);
    return result;
  }

  /** The call's own signal and the service's, as one. */
  #signalOf(own: AbortSignal | undefined): AbortSignal | undefined {
    const both = [own, this.#signal].filter((x): x is AbortSignal => x !== undefined);
    return both.length > 1 ? AbortSignal.any(both) : both[0];
  }

  /** The public error for a run that did not complete. */
  errorOf(result: RunResult): TroupeError {
    return runError(result);
  }

  /** A personality from scratch, or from a shipped preset (`where.preset`) with overrides merged over it. */
  async createPersonality(
    input: PersonalityInput,
    where?: { file?: string } & Cancellable,
  ): Promise<Personality>;
  async createPersonality(
    input: MergePatch<PersonalityInput>,
    where: { file?: string; preset: string } & Cancellable,
  ): Promise<Personality>;
  async createPersonality(
    input: PersonalityInput | MergePatch<PersonalityInput>,
    where: { file?: string; preset?: string } & Cancellable = {},
  ): Promise<Personality> {
    const personality = where.preset
      ? this.services.personalities.fromPresetInput(where.preset, input as Record<string, unknown>)
      : input;
    const r = await this.run(
      (await builtIns()).createPersonalityWorkflow,
      { personality, file: where.file ?? null },
      where,
    );
    return this.services.personalities.fromDoc(writtenDoc(r.outputs.personality));
  }

  /** A role from scratch, or from a predefined template (`where.template`) with overrides. */
  async createRole(input: RoleInput): Promise<Role>;
  async createRole(
    input: Partial<RoleInput>,
    where: { file?: string; template?: string } & Cancellable,
  ): Promise<Role>;
  async createRole(
    input: Partial<RoleInput>,
    where: { file?: string; template?: string } & Cancellable = {},
  ): Promise<Role> {
    const r = await this.run(
      (await builtIns()).createRoleWorkflow,
      { role: input, template: where.template ?? null, file: where.file ?? null },
      where,
    );
    return this.services.roles.fromDoc(writtenDoc(r.outputs.role));
  }

  /** Creates an agent, with a new personality and/or role if given, all or nothing. */
  async createAgent(req: CreateAgentRequest): Promise<{ agent: Agent; created: string[]; runId: string }> {
    if (req === null || typeof req !== 'object' || Array.isArray(req))
      throw validationError('create agent: the request must be an object ({ agent, personality?, role? })', [
        { path: '(root)', message: 'must be an object with an agent' },
      ]);
    const a: unknown = req.agent;
    if (a === null || typeof a !== 'object' || Array.isArray(a))
      throw validationError('create agent: agent: is required (the agent to create, as an object)', [
        { path: 'agent', message: 'is required (the agent to create, as an object)' },
      ]);
    // A model named without its provider gets the one the catalog serves it from.
    const agent = await withProvider(this.services, req.agent, true);
    const r = await this.run(
      (await builtIns()).createAgentWorkflow,
      {
        agent,
        personality: req.personality ?? null,
        role: req.role ?? null,
        template: req.template ?? null,
        personalityId: req.personality
          ? null
          : ((req.agent as Record<string, unknown> | null)?.personalityId ?? null),
        roleId: req.role ? null : ((req.agent as Record<string, unknown> | null)?.roleId ?? null),
        agentId: agentIdOf(req.agent),
        file: req.file ?? req.where?.file ?? null,
      },
      req,
    );
    const persist = r.outputs.persist;
    const id = r.outputs.agent.id;
    // What this run wrote, not a later read: another writer may have changed it since.
    const doc = persist.results?.find((x) => x.kind === 'agents' && x.id === id)?.doc;
    return {
      agent: doc ? this.services.agents.fromDoc(doc) : await this.services.agents.require(id),
      created: persist.touched ?? [],
      runId: r.runId,
    };
  }

  /** Updates a personality and re-composes every agent using it, all or nothing. */
  /**
   * Updates a personality and re-composes every agent using it, in one commit. The result is
   * what this call wrote (`unchanged` when the patch changed nothing, which writes nothing).
   */
  async updatePersonality(id: string, patch: MergePatch<PersonalityInput>, opts: UpdateOptions = {}) {
    checkRulePaths('personality', opts.rules);
    const expectedRevision = expectedRevisionOf(patch, opts.expectedRevision, {
      file: opts.file,
      entity: `personality "${id}"`,
    });
    const { signal, ...rest } = opts;
    const r = await this.run(
      (await builtIns()).updatePersonalityWorkflow,
      { id, patch, ...rest, expectedRevision },
      { signal },
    );
    const u = r.outputs.update;
    return {
      personality: u.doc
        ? this.services.personalities.fromDoc(u.doc)
        : await this.services.personalities.require(id),
      synced: u.agents,
      conflicts: u.conflicts,
      unchanged: u.unchanged,
      runId: r.runId,
    };
  }

  async updateRole(id: string, patch: MergePatch<RoleInput>, opts: UpdateOptions = {}) {
    checkRulePaths('role', opts.rules);
    const expectedRevision = expectedRevisionOf(patch, opts.expectedRevision, {
      file: opts.file,
      entity: `role "${id}"`,
    });
    const { signal, ...rest } = opts;
    const r = await this.run(
      (await builtIns()).updateRoleWorkflow,
      { id, patch, ...rest, expectedRevision },
      { signal },
    );
    const u = r.outputs.update;
    return {
      role: u.doc ? this.services.roles.fromDoc(u.doc) : await this.services.roles.require(id),
      synced: u.agents,
      conflicts: u.conflicts,
      unchanged: u.unchanged,
      runId: r.runId,
    };
  }

  async updateAgent(
    id: string,
    patch: MergePatch<AgentInput>,
    opts: Pick<UpdateOptions, 'expectedRevision' | 'file' | 'signal'> = {},
  ) {
    const expectedRevision = expectedRevisionOf(patch, opts.expectedRevision, {
      file: opts.file,
      entity: `agent "${id}"`,
    });
    const inferred = await withProvider(this.services, patch, false);
    const { signal, ...rest } = opts;
    const r = await this.run(
      (await builtIns()).updateAgentWorkflow,
      { id, patch: inferred, ...rest, expectedRevision },
      { signal },
    );
    const u = r.outputs.agent;
    const doc = u.results?.find((x) => x.kind === 'agents' && x.id === id)?.doc;
    return {
      agent: doc ? this.services.agents.fromDoc(doc) : await this.services.agents.require(id),
      unchanged: u.unchanged ?? false,
      runId: r.runId,
    };
  }

  /** Deletes a personality: refused while agents use it, unless cascaded or reassigned. */
  async deletePersonality(
    id: string,
    how: DeleteMode = { mode: 'block' },
    opts: { expectedRevision?: number | undefined } & Cancellable = {},
  ) {
    return this.#deleteReferenced((await builtIns()).deletePersonalityWorkflow, id, how, opts);
  }

  async deleteRole(
    id: string,
    how: DeleteMode = { mode: 'block' },
    opts: { expectedRevision?: number | undefined } & Cancellable = {},
  ) {
    return this.#deleteReferenced((await builtIns()).deleteRoleWorkflow, id, how, opts);
  }

  async #deleteReferenced(
    def: Workflows['deletePersonalityWorkflow'] | Workflows['deleteRoleWorkflow'],
    id: string,
    how: DeleteMode,
    opts: { expectedRevision?: number | undefined } & Cancellable,
  ) {
    const r = await this.run(
      def,
      {
        id,
        mode: how.mode,
        to: how.mode === 'reassign' ? how.to : null,
        expectedRevision: opts.expectedRevision ?? null,
      },
      opts,
    );
    const d = r.outputs.delete;
    return { deleted: id, agentsDeleted: d.deleted, agentsReassigned: d.reassigned, runId: r.runId };
  }

  async deleteAgent(id: string, opts: { expectedRevision?: number | undefined } & Cancellable = {}) {
    const r = await this.run(
      (await builtIns()).deleteAgentWorkflow,
      { id, expectedRevision: opts.expectedRevision ?? null },
      opts,
    );
    return { deleted: id, runId: r.runId };
  }

  /** Plans a bundle without writing: the field-by-field diff of what would change. */
  async planBundle(bundle: unknown, opts: { file?: string; prune?: boolean } = {}): Promise<BundlePlan> {
    const { planBundle } = await import('./bundle.js');
    return planBundle(this.services, bundle, { ...opts, now: new Date().toISOString() });
  }

  /** Applies a bundle (any number of entities of all kinds) all-or-nothing. */
  async applyBundle(
    bundle: TroupeBundle,
    opts: {
      file?: string;
      prune?: boolean;
      dryRun?: boolean;
      /** When each `kind/id` created was first created elsewhere (a migration keeps it). */
      created?: Record<string, string>;
    } & Cancellable = {},
  ): Promise<{ changes: EntityChange[]; applied: boolean; runId?: string }> {
    const { signal, ...plan } = opts;
    if (plan.dryRun) return { changes: (await this.planBundle(bundle, plan)).changes, applied: false };
    const r = await this.run(
      (await builtIns()).applyBundleWorkflow,
      {
        bundle,
        prune: plan.prune ?? false,
        file: plan.file ?? null,
        ...(plan.created ? { created: plan.created } : {}),
      },
      { signal },
    );
    // What the commit did: planned again if it lost a race, the persist step's plan says so.
    const persisted = (r.outputs as { persist?: { changes?: EntityChange[] } }).persist;
    return { changes: persisted?.changes ?? r.outputs.plan.changes, applied: true, runId: r.runId };
  }

  /**
   * Adds a model to the directory's catalog (models/), create-only: ALREADY_EXISTS if the
   * directory has one with that id. A shipped model of the same id is overridden by it.
   */
  async createModel(input: ModelInput, where: { file?: string } & Cancellable = {}): Promise<Model> {
    const { signal, ...at } = where;
    const entry = this.services.models.parse(input, at);
    await this.#applyModel(entry, 0, at.file, signal);
    return this.services.models.require(entry.id);
  }

  /**
   * Changes a model of the directory with a JSON merge patch; every agent on it is re-composed
   * in the same commit. `expectedRevision`: fail if it moved on since (compare-and-swap).
   */
  async updateModel(
    id: string,
    patch: MergePatch<ModelInput>,
    opts: { expectedRevision?: number | undefined; file?: string } & Cancellable = {},
  ) {
    const current = await ownModel(this.services, id, 'update');
    const { signal, ...at } = opts;
    const entry = this.services.models.patched(current as never, patch, at);
    // The apply holds the revision asked for, else the one the patch was merged onto.
    const expected =
      expectedRevisionOf(patch, opts.expectedRevision, { file: opts.file, entity: `model "${id}"` }) ??
      current.revision ??
      0;
    const changes = await this.#applyModel(entry, expected, opts.file, signal);
    const agents = changes.filter((c) => c.kind === 'agents' && c.action !== 'unchanged').map((c) => c.id);
    return { model: await this.services.models.require(id), synced: agents };
  }

  /** Removes a model of the directory; refused while agents use it. */
  async deleteModel(id: string, opts: { expectedRevision?: number | undefined } & Cancellable = {}) {
    const { signal, ...rest } = opts;
    const r = await this.run((await builtIns()).deleteModelWorkflow, { id, ...rest }, { signal });
    return { deleted: id, runId: r.runId };
  }

  async #applyModel(entry: Normalized, expected: number, file: string | undefined, signal?: AbortSignal) {
    // Said of the model itself (`aliases.1`), not as the one entry of a bundle (`models[0]…`).
    const dead = deadAliases(entry as never, await this.services.models.catalog());
    if (dead.length > 0)
      throw validationError(
        `${file ?? `model "${entry.id}"`}: ${dead.map((d) => `aliases.${d.index}: ${d.issue}`).join('; ')}`,
        dead.map((d) => ({
          ...(file ? { file } : {}),
          entity: entry.id,
          path: `aliases.${d.index}`,
          message: d.issue,
        })),
      );
    const r = await this.run(
      (await builtIns()).applyBundleWorkflow,
      {
        bundle: { models: [entry] },
        prune: false,
        file: file ?? null,
        expect: { [keyOf('models', entry.id)]: expected },
      },
      { signal },
    );
    return r.outputs.plan.changes;
  }

  /** Everything stored, as a bundle (custom roles only; predefined roles ship with Troupe). */
  /** Everything stored as a bundle, or one entity (with `withDeps`, what it needs) — see ExportSelection. */
  async exportBundle(selection?: ExportSelection) {
    const s = this.services;
    if (selection) return exportSelection(s, selection);
    const roles = await s.roles.list();
    const bundle = {
      personalities: (await s.personalities.list()).map((e) => s.personalities.editable(e)),
      roles: roles.filter((r) => !r.predefined).map((e) => s.roles.editable(e)),
      models: (await s.models.list()).map((e) => s.models.editable(e)),
      agents: (await s.agents.list()).map((e) => s.agents.editable(e)),
    };
    refuseDangling(bundle, new Set(roles.filter((r) => r.predefined).map((r) => r.id)), s.store);
    return bundle;
  }

  /** Each agent's sync state judged by content now (all agents, or those given), with what drifted. */
  async syncStates(agents?: Agent[]) {
    return syncStates(this.services, agents ?? (await this.services.agents.list()));
  }

  async detectInconsistencies(): Promise<Inconsistency[]> {
    return detectInconsistencies(this.services);
  }

  /** Fixes what can be fixed (stale agents, resolved files, orphans) in one commit; reports the rest. */
  async reconcile(opts: { dryRun?: boolean } & Cancellable = {}) {
    if (opts.dryRun) {
      const { planReconcile } = await import('./consistency.js');
      const plan = await planReconcile(this.services, await this.detectInconsistencies());
      return { fixed: plan.fixed, remaining: plan.remaining, warnings: plan.warnings, applied: false };
    }
    const r = await this.run((await builtIns()).reconcileWorkflow, {}, opts);
    const plan = r.outputs.plan;
    return {
      fixed: plan.fixed,
      remaining: plan.remaining,
      warnings: plan.warnings,
      applied: true,
      runId: r.runId,
    };
  }

  /** Runs a user-defined workflow (JSON) over the same services and operations. */
  async runWorkflow(
    definition: WorkflowDefinitionInput,
    input: unknown = {},
    opts: Cancellable = {},
  ): Promise<RunResult> {
    const def = defineWorkflow(definition);
    assertInputGiven(def, input);
    return this.#runTracked(def, input, opts.signal);
  }

  /** Gives up a partially-completed run: its completed steps are compensated. */
  async cancel(runId: string): Promise<RunResult> {
    return this.runner.cancel(runId);
  }

  /** Finishes a partially-completed run (its deferred steps). */
  async resume(runId: string, opts: Cancellable = {}): Promise<RunResult> {
    const signal = this.#signalOf(opts.signal);
    return this.runner.resume(runId, signal ? { signal } : {});
  }

  /** Finds runs a crash interrupted and compensates them; call when opening a directory. */
  async recover(opts: { force?: readonly string[] } = {}): Promise<RunResult[]> {
    return this.runner.recoverInterrupted(opts);
  }

  async listRuns(): Promise<RunSummary[]> {
    return this.runLog.list();
  }

  /** A page of runs, newest first, after `after` (see pageOfRuns): by the run log's own means where it has them. */
  async pageRuns(opts: RunPageOptions): Promise<RunSummary[]> {
    const log = this.runLog;
    return log.listPage ? log.listPage(opts) : pageOfRuns(await log.list(), opts);
  }

  /** The runs whose id starts with `prefix`, in the order `listRuns` has them. */
  async runsPrefixed(prefix: string): Promise<RunSummary[]> {
    const log = this.runLog;
    return log.listPrefixed ? log.listPrefixed(prefix) : runsWithPrefix(await log.list(), prefix);
  }

  async showRun(runId: string): Promise<RunRecord | undefined> {
    return this.runLog.read(runId);
  }
}
