import { type Agent, AgentInput, Agent as AgentSchema } from '../domain/agent.js';
import type { Personality } from '../domain/personality.js';
import { configurationHash, type ResolvedFile, resolveConfiguration } from '../domain/resolved.js';
import type { Role } from '../domain/role.js';
import type { BatchOp, Store } from '../storage/store.js';
import { EntityReader, type Normalized, type Where } from './entity-service.js';

export interface Composed {
  agent: Normalized;
  /** Guards: the personality and (custom) role must still be at the revisions composed against. */
  guards: BatchOp[];
  resolved: Pick<ResolvedFile, 'id' | 'checksum' | 'configuration'>;
  ops: BatchOp[];
}

const COMPOSITION_KEYS = ['personalityVersion', 'roleVersion', 'configurationHash', 'syncStatus'] as const;

/**
 * Agents: a personality, a role and model settings. The service composes an agent against
 * the personality and role it is given (it never fetches them: the coordinator does) and
 * writes the agent together with its resolved configuration, so both change in one commit.
 */
export class AgentService extends EntityReader<Agent> {
  constructor(store: Store) {
    super(store, { kind: 'agents', label: 'agent', input: AgentInput, stored: AgentSchema });
  }

  /** The agent and its resolved file, composed against the given personality and role. */
  compose(entity: Normalized, personality: Personality, role: Role, expectedRevision?: number): Composed {
    const configuration = resolveConfiguration(entity as unknown as Agent, personality, role);
    const hash = configurationHash(configuration);
    const agent: Normalized = {
      ...entity,
      personalityVersion: personality.revision,
      roleVersion: role.revision,
      configurationHash: hash,
      syncStatus: 'synchronized',
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

  prepareCreate(input: unknown, personality: Personality, role: Role, where: Where = {}): Composed {
    return this.compose(this.parse(input, where), personality, role, 0);
  }

  prepareUpdate(
    current: Agent,
    patch: unknown,
    personality: Personality,
    role: Role,
    opts: { expectedRevision?: number | undefined; file?: string } = {},
  ): Composed {
    return this.compose(this.patched(current, patch, opts), personality, role, current.revision);
  }

  /** Re-compose an agent against the current personality and role. */
  prepareSync(current: Agent, personality: Personality, role: Role): Composed {
    return this.compose(this.editable(current) as Normalized, personality, role, current.revision);
  }

  prepareDelete(current: Agent, hasResolved: boolean): BatchOp[] {
    const ops: BatchOp[] = [
      { op: 'delete', kind: 'agents', id: current.id, expectedRevision: current.revision },
    ];
    if (hasResolved) ops.push({ op: 'delete', kind: 'resolved', id: current.id });
    return ops;
  }

  /** True when the personality or role changed since the agent was composed. */
  isStale(agent: Agent, personality: Pick<Personality, 'revision'>, role: Pick<Role, 'revision'>): boolean {
    return agent.personalityVersion !== personality.revision || agent.roleVersion !== role.revision;
  }

  async usingPersonality(id: string): Promise<Agent[]> {
    return (await this.list()).filter((a) => a.personalityId === id);
  }

  async usingRole(id: string): Promise<Agent[]> {
    return (await this.list()).filter((a) => a.roleId === id);
  }

  override editable(e: Agent): Record<string, unknown> {
    const out = super.editable(e);
    for (const k of COMPOSITION_KEYS) delete out[k];
    return out;
  }
}
