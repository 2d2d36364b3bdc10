import type { Agent } from '../domain/agent.js';
import type { Personality } from '../domain/personality.js';
import type { Role } from '../domain/role.js';
import type { BatchOp, Store } from '../storage/store.js';
import { type BundlePlan, planBundle } from './bundle.js';
import { planUpdateAgent, planUpdatePersonality, planUpdateRole, type UpdateOptions } from './cascade.js';
import { detectInconsistencies, type Inconsistency, planReconcile } from './consistency.js';
import { type CreateAgentRequest, planCreateAgent } from './create-agent.js';
import { type DeleteMode, type DeleteOptions, planDeleteAgent, planDeleteReferenced } from './delete.js';
import { createServices, type Services } from './services.js';

export interface ConfigurationServiceOptions {
  now?: () => number;
}

/**
 * Coordinates PersonalityService, RoleService, AgentService, ModelService and FileService:
 * every change that spans them is planned as one batch and committed all-or-nothing.
 */
export class ConfigurationService {
  readonly services: Services;
  readonly #now: () => number;

  constructor(store: Store, opts: ConfigurationServiceOptions = {}) {
    this.services = createServices(store);
    this.#now = opts.now ?? Date.now;
  }

  protected nowIso(): string {
    return new Date(this.#now()).toISOString();
  }

  protected async commit(ops: BatchOp[]) {
    return ops.length ? this.services.store.commit(ops) : { results: [] };
  }

  async createPersonality(input: unknown, where: { file?: string } = {}): Promise<Personality> {
    return this.services.personalities.create(input, where);
  }

  async createRole(input: unknown, where: { file?: string; template?: string } = {}): Promise<Role> {
    const body = where.template
      ? await this.services.roles.fromTemplateInput(where.template, input as Record<string, unknown>)
      : input;
    return this.services.roles.create(body, where);
  }

  /** Creates an agent, with a new personality and/or role if given, in one commit. */
  async createAgent(req: CreateAgentRequest): Promise<{ agent: Agent; created: string[] }> {
    const plan = await planCreateAgent(this.services, req, this.nowIso());
    const { results } = await this.commit(plan.ops);
    const agent = results.find((r) => r.kind === 'agents')!.doc;
    return { agent: this.services.agents.fromDoc(agent), created: results.map((r) => `${r.kind}/${r.id}`) };
  }

  /** Updates a personality and re-composes every agent using it, in one commit. */
  async updatePersonality(id: string, patch: unknown, opts: UpdateOptions = {}) {
    const plan = await planUpdatePersonality(this.services, id, patch, opts, this.nowIso());
    const { results } = await this.commit(plan.ops);
    return { personality: this.services.personalities.fromDoc(results[0]!.doc), synced: plan.dependents };
  }

  async updateRole(id: string, patch: unknown, opts: UpdateOptions = {}) {
    const plan = await planUpdateRole(this.services, id, patch, opts, this.nowIso());
    const { results } = await this.commit(plan.ops);
    return { role: this.services.roles.fromDoc(results[0]!.doc), synced: plan.dependents };
  }

  async updateAgent(id: string, patch: unknown, opts: UpdateOptions = {}) {
    const plan = await planUpdateAgent(this.services, id, patch, opts);
    const { results } = await this.commit(plan.ops);
    return { agent: this.services.agents.fromDoc(results[0]!.doc) };
  }

  /** Deletes a personality: refused while agents use it, unless cascaded or reassigned. */
  async deletePersonality(id: string, how: DeleteMode = { mode: 'block' }, opts: DeleteOptions = {}) {
    const plan = await planDeleteReferenced(this.services, 'personalities', id, how, opts);
    await this.commit(plan.ops);
    return { deleted: id, agentsDeleted: plan.deleted, agentsReassigned: plan.reassigned };
  }

  async deleteRole(id: string, how: DeleteMode = { mode: 'block' }, opts: DeleteOptions = {}) {
    const plan = await planDeleteReferenced(this.services, 'roles', id, how, opts);
    await this.commit(plan.ops);
    return { deleted: id, agentsDeleted: plan.deleted, agentsReassigned: plan.reassigned };
  }

  async deleteAgent(id: string, opts: DeleteOptions = {}) {
    await this.commit((await planDeleteAgent(this.services, id, opts)).ops);
    return { deleted: id };
  }

  /** Plans a bundle without writing: the field-by-field diff of what would change. */
  async planBundle(bundle: unknown, opts: { file?: string; prune?: boolean } = {}): Promise<BundlePlan> {
    return planBundle(this.services, bundle, { ...opts, now: this.nowIso() });
  }

  /** Applies a bundle all-or-nothing. */
  async applyBundle(bundle: unknown, opts: { file?: string; prune?: boolean; dryRun?: boolean } = {}) {
    const plan = await this.planBundle(bundle, opts);
    if (!opts.dryRun) await this.commit(plan.ops);
    return { changes: plan.changes, applied: !opts.dryRun };
  }

  /** Everything stored, as a bundle (custom roles only; predefined roles ship with Troupe). */
  async exportBundle() {
    const s = this.services;
    return {
      personalities: (await s.personalities.list()).map((e) => s.personalities.editable(e)),
      roles: (await s.roles.list()).filter((r) => !r.predefined).map((e) => s.roles.editable(e)),
      models: (await s.models.list()).map((e) => s.models.editable(e)),
      agents: (await s.agents.list()).map((e) => s.agents.editable(e)),
    };
  }

  async detectInconsistencies(): Promise<Inconsistency[]> {
    return detectInconsistencies(this.services);
  }

  /** Fixes what can be fixed (stale agents, resolved files) in one commit; reports the rest. */
  async reconcile(opts: { dryRun?: boolean } = {}) {
    const found = await this.detectInconsistencies();
    const plan = await planReconcile(this.services, found);
    if (!opts.dryRun) await this.commit(plan.ops);
    return { fixed: plan.fixed, remaining: plan.remaining, applied: !opts.dryRun };
  }
}
