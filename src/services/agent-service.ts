import { type Agent, AgentInput, Agent as AgentSchema } from '../domain/agent.js';
import { contentHash } from '../domain/canonical.js';
import type { Personality } from '../domain/personality.js';
import { configurationHash, type ResolvedFile, resolveConfiguration } from '../domain/resolved.js';
import type { Role } from '../domain/role.js';
import type { BatchOp, Store, StoredDoc } from '../storage/store.js';
import { EntityReader, type Normalized, type Where } from './entity-service.js';

export interface Composed {
  agent: Normalized;
  /** Guards: the personality and (custom) role must still be at the revisions composed against. */
  guards: BatchOp[];
  resolved: Pick<ResolvedFile, 'id' | 'checksum' | 'configuration'>;
  ops: BatchOp[];
}

const COMPOSITION_KEYS = [
  'personalityVersion',
  'roleVersion',
  'configurationHash',
  'syncStatus',
  'personalityHash',
  'roleHash',
  'modelHash',
] as const;
const UNCOMPOSED = {
  personalityVersion: 0,
  roleVersion: 0,
  configurationHash: '0'.repeat(64),
  syncStatus: 'stale',
} as const;

/** Up to this many entities' agents are found one entity at a time; past it, all are listed once. */
const FIND_AT_MOST = 16;

/**
 * Agents: a personality, a role and model settings. The service composes an agent against
 * the personality and role it is given (it never fetches them: the coordinator does) and
 * writes the agent together with its resolved configuration, so both change in one commit.
 * To create or change agents, use the ConfigurationService, which fetches those and commits.
 *
 * @example
 * ```ts
 * const { agents, personalities, roles, models } = createServices(store);
 * const ada = await agents.require('ada');
 * const drift = agents.drift(
 *   ada,
 *   await personalities.require(ada.personalityId),
 *   await roles.require(ada.roleId),
 *   await models.find(ada.model.modelId, ada.model.provider),
 * ); // [] while in sync, else what changed since it was composed
 * ```
 */
export class AgentService extends EntityReader<Agent> {
  constructor(store: Store) {
    super(store, { kind: 'agents', label: 'agent', input: AgentInput, stored: AgentSchema });
  }

  /** The agent and its resolved file, composed against the given personality and role. */
  compose(
    entity: Normalized,
    personality: Personality,
    role: Role,
    expectedRevision: number | undefined,
    // Required, though it may be undefined (a model the catalog does not know): the resolved
    // configuration names the catalog's canonical id, so a caller must not forget it.
    model: { modelId: string } | undefined,
  ): Composed {
    const configuration = resolveConfiguration(entity as unknown as Agent, personality, role, model);
    const hash = configurationHash(configuration);
    const { modelHash: _m, ...rest } = entity;
    const agent: Normalized = {
      ...rest,
      personalityVersion: personality.revision,
      roleVersion: role.revision,
      configurationHash: hash,
      syncStatus: 'synchronized',
      personalityHash: contentHash(personality),
      roleHash: contentHash(role),
      ...(model ? { modelHash: contentHash(model) } : {}),
    };
    const resolved = { id: entity.id, checksum: hash, configuration };
    const guards: BatchOp[] = [
      { op: 'check', kind: 'personalities', id: personality.id, expectedRevision: personality.revision },
    ];
    if (!role.predefined)
      guards.push({ op: 'check', kind: 'roles', id: role.id, expectedRevision: role.revision });
    return {
      agent,
      guards,
      resolved,
      ops: [
        { op: 'put', kind: 'agents', doc: agent, expectedRevision },
        { op: 'put', kind: 'resolved', doc: resolved },
        ...guards,
      ],
    };
  }

  /** The ops that create an agent composed against the given personality, role and model; writes nothing. */
  prepareCreate(
    input: unknown,
    personality: Personality,
    role: Role,
    where: Where,
    model: { modelId: string } | undefined,
  ): Composed {
    return this.compose(this.parse(input, where), personality, role, 0, model);
  }

  /** The ops that apply a merge patch to an agent and re-compose it; writes nothing. */
  prepareUpdate(
    current: Agent,
    patch: unknown,
    personality: Personality,
    role: Role,
    model: { modelId: string } | undefined,
    opts: { expectedRevision?: number | undefined; file?: string } = {},
  ): Composed {
    return this.compose(this.patched(current, patch, opts), personality, role, current.revision, model);
  }

  /** Re-compose an agent against the current personality and role. */
  prepareSync(
    current: Agent,
    personality: Personality,
    role: Role,
    model: { modelId: string } | undefined,
  ): Composed {
    return this.compose(this.editable(current) as Normalized, personality, role, current.revision, model);
  }

  /** The ops that delete an agent and, if it has one, its resolved file; writes nothing. */
  prepareDelete(current: Agent, hasResolved: boolean): BatchOp[] {
    const ops: BatchOp[] = [
      { op: 'delete', kind: 'agents', id: current.id, expectedRevision: current.revision },
    ];
    if (hasResolved) ops.push({ op: 'delete', kind: 'resolved', id: current.id });
    return ops;
  }

  /**
   * What changed since the agent was composed, judged by content as well as revision: its
   * personality, role or model entry (a hand edit moves no revision but changes the content
   * hash), or the agent's own settings (its file no longer composes to its configurationHash).
   * Empty when the agent is in sync.
   */
  drift(agent: Agent, personality: Personality, role: Role, model?: { modelId: string }): string[] {
    return this.driftFields(agent, personality, role, model).map((d) => d.message);
  }

  /** drift(), each item with the agent's field that records what moved on. */
  driftFields(
    agent: Agent,
    personality: Personality,
    role: Role,
    model?: { modelId: string },
  ): Array<{ path: string; message: string }> {
    const out: Array<{ path: string; message: string }> = [];
    const changed = (
      path: string,
      what: string,
      recorded: number,
      now: number,
      hashNow: string,
      hashThen?: string,
    ) => {
      if (recorded !== now)
        out.push({ path, message: `${what} changed (composed against r${recorded}, now r${now})` });
      else if (hashThen !== undefined && hashThen !== hashNow)
        out.push({ path, message: `${what} was edited by hand (r${now})` });
    };
    changed(
      'personalityVersion',
      `personality "${personality.id}"`,
      agent.personalityVersion,
      personality.revision,
      contentHash(personality),
      agent.personalityHash,
    );
    changed(
      'roleVersion',
      `role "${role.id}"`,
      agent.roleVersion,
      role.revision,
      contentHash(role),
      agent.roleHash,
    );
    if (model && agent.modelHash !== undefined && agent.modelHash !== contentHash(model))
      out.push({ path: 'modelHash', message: `model "${agent.model.modelId}" was changed` });
    if (out.length === 0) {
      const composed = configurationHash(resolveConfiguration(agent, personality, role, model));
      if (composed === agent.configurationHash) return out;
      // Composed by a version of troupe that handed on the model id as the agent names it.
      const before = model && configurationHash(resolveConfiguration(agent, personality, role));
      out.push({
        path: 'configurationHash',
        message:
          before === agent.configurationHash
            ? `its resolved configuration names model "${agent.model.modelId}", not the provider's id "${model?.modelId}" (composed by an older troupe)`
            : `its own settings were edited by hand (they no longer match its configurationHash)`,
      });
    }
    return out;
  }

  /** True when anything the agent was composed from changed since (see `drift`). */
  isStale(agent: Agent, personality: Personality, role: Role, model?: { modelId: string }): boolean {
    return this.drift(agent, personality, role, model).length > 0;
  }

  /** The agents that use the personality. */
  async usingPersonality(id: string): Promise<Agent[]> {
    return this.#using('personalityId', id);
  }

  /** The agents that play the role. */
  async usingRole(id: string): Promise<Agent[]> {
    return this.#using('roleId', id);
  }

  /**
   * The agents using each of `refs` (a personality or a role), in order: each found by its
   * field where the store can and there are few; else every agent listed once.
   */
  async usingEach(refs: ReadonlyArray<{ kind: 'personalities' | 'roles'; id: string }>): Promise<Agent[][]> {
    const field = (kind: 'personalities' | 'roles') =>
      kind === 'personalities' ? 'personalityId' : 'roleId';
    if (this.store.find && refs.length <= FIND_AT_MOST)
      return Promise.all(refs.map((r) => this.#using(field(r.kind), r.id)));
    const all = await this.list();
    return refs.map((r) => all.filter((a) => a[field(r.kind)] === r.id));
  }

  /** The agents whose `field` is `id`: found by it where the store can (an index), else listed. */
  async #using(field: 'personalityId' | 'roleId', id: string): Promise<Agent[]> {
    const docs = this.store.find
      ? await this.store.find('agents', { [field]: id })
      : await this.store.list('agents');
    return docs.map((d) => this.fromDoc(d)).filter((a) => a[field] === id);
  }

  /**
   * A hand-written agent file (revision 0, not yet adopted) has no composition yet: it reads as
   * composed against nothing, so it is stale until `reconcile` composes and adopts it.
   */
  override fromDoc(doc: StoredDoc): Agent {
    if (doc.revision !== 0 || doc.configurationHash !== undefined) return super.fromDoc(doc);
    return super.fromDoc({ ...UNCOMPOSED, ...doc });
  }

  override editable(e: Agent): Record<string, unknown> {
    const out = super.editable(e);
    for (const k of COMPOSITION_KEYS) delete out[k];
    return out;
  }
}
