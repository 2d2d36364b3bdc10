import type { Agent } from '../domain/agent.js';
import { TroupeError } from '../domain/errors.js';
import type { Model } from '../domain/model.js';
import type { Personality } from '../domain/personality.js';
import type { Role } from '../domain/role.js';
import { isModelFileRefusal, modelFinder } from './create-agent.js';
import type { Services } from './services.js';

function memo<V>(cache: Map<string, V>, key: string, load: () => V): V {
  let v = cache.get(key);
  if (v === undefined) {
    v = load();
    cache.set(key, v);
  }
  return v;
}

/** What an agent is composed from, as stored now; undefined parts are missing (a dangling reference). */
export interface AgentSources {
  personality: Personality | undefined;
  role: Role | undefined;
  model: Model | undefined;
}

/**
 * Looks up what agents are composed from, reading each personality, role and the model
 * catalog once however many agents are judged: the drift of a whole cast costs one pass.
 */
export class DriftJudge {
  readonly #s: Services;
  readonly #modelOf: ReturnType<typeof modelFinder>;
  readonly #personalities = new Map<string, Promise<Personality | undefined>>();
  readonly #roles = new Map<string, Promise<Role | undefined>>();

  constructor(s: Services) {
    this.#s = s;
    this.#modelOf = modelFinder(s);
  }

  async sources(a: Pick<Agent, 'personalityId' | 'roleId' | 'model'>): Promise<AgentSources> {
    const s = this.#s;
    const p = memo(this.#personalities, a.personalityId, () => s.personalities.get(a.personalityId));
    const r = memo(this.#roles, a.roleId, () => s.roles.get(a.roleId));
    const [personality, role, model] = await Promise.all([p, r, this.#modelOf(a)]);
    return { personality, role, model };
  }

  /**
   * What changed since the agent was composed (by content as well as revision), or why it is
   * broken: its personality or role missing, or the file of one of them, or of its model,
   * refused (edited by hand past its schema; validate names it). Empty when it is in sync.
   */
  async drift(a: Agent): Promise<string[] | { broken: string }> {
    let sources: AgentSources;
    try {
      sources = await this.sources(a);
    } catch (e) {
      if (isSourceRefusal(e)) {
        const i = e.issues[0];
        return { broken: i ? `${i.file ? `${i.file}: ` : ''}${i.path}: ${i.message}` : e.message };
      }
      throw e;
    }
    const { personality, role, model } = sources;
    if (!personality) return { broken: `personality "${a.personalityId}" is missing` };
    if (!role) return { broken: `role "${a.roleId}" is missing` };
    return this.#s.agents.drift(a, personality, role, model);
  }
}

/** A refusal of the file of what agents are composed from (a personality, role or model). */
const isSourceRefusal = (e: unknown): e is TroupeError =>
  isModelFileRefusal(e) ||
  (e instanceof TroupeError &&
    e.code === 'VALIDATION_FAILED' &&
    ['personalities', 'roles'].includes(String((e.context as { kind?: unknown } | undefined)?.kind)));

/** An agent's sync state judged by content now: `broken` when what it uses cannot be read. */
export type SyncState = 'synchronized' | 'stale' | 'broken';

/**
 * What is wrong with an agent's materialized file (`resolved/<id>.json`): missing, unreadable,
 * edited by hand or composed for another revision of it. Undefined when it is what was composed.
 */
async function resolvedFileDrift(s: Services, a: Agent): Promise<string | undefined> {
  let file: Awaited<ReturnType<Services['files']['get']>>;
  try {
    file = await s.files.get(a.id);
  } catch (e) {
    if (e instanceof TroupeError) return e.message;
    throw e;
  }
  return s.files.check(a, file)?.message;
}

/**
 * The sync state of each agent judged by content now, with what drifted: a hand edit anywhere
 * shows, its own materialized file included (edited, missing or unreadable makes it stale:
 * `troupe reconcile` writes it again).
 */
export async function syncStates(
  s: ConstructorParameters<typeof DriftJudge>[0],
  agents: ReadonlyArray<Agent>,
): Promise<Map<string, { state: SyncState; drift: string[] }>> {
  const judge = new DriftJudge(s);
  const out = new Map<string, { state: SyncState; drift: string[] }>();
  for (const a of agents) {
    const d = await judge.drift(a);
    if (!Array.isArray(d)) {
      out.set(a.id, { state: 'broken', drift: [d.broken] });
      continue;
    }
    const file = await resolvedFileDrift(s, a);
    if (file) d.push(file);
    out.set(a.id, { state: d.length ? 'stale' : a.syncStatus, drift: d });
  }
  return out;
}

/**
 * An agent as it stands now: its stored document with its sync state judged by content (see
 * syncStates) and, when it is not synchronized, what drifted. What listings and reads show; the
 * stored document itself keeps the state its last commit left.
 */
export const judgedAgent = (a: Agent, judged: { state: SyncState; drift: string[] } | undefined) => ({
  ...a,
  syncStatus: judged?.state ?? a.syncStatus,
  ...(judged?.drift.length ? { drift: judged.drift } : {}),
});
