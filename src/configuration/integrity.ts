import type { Agent } from '../domain/agent.js';
import type { Issue } from '../domain/errors.js';
import { keyOf } from '../storage/batch.js';
import type { Kind, StoredDoc } from '../storage/store.js';
import { agentFindings, type Finding, orphanFinding } from './agent-rules.js';
import { modelFinder } from './create-agent.js';
import type { Services } from './services.js';

export interface Scope {
  /** Entity keys as `kind/id`, e.g. `agents/a1`. */
  touched: string[];
  /**
   * The revision this run's commits left each key at (0: deleted). With it, a document another
   * writer changed since (or is changing right now) is theirs to check, not this run's: only
   * what this run wrote is judged, so a concurrent writer can never fail this run's check.
   */
  written?: ReadonlyMap<string, number> | undefined;
}

/** Whose a stored document is now: this run's write, another writer's since, or untouched by the run. */
type Owner = 'ours' | 'theirs' | 'untouched';

/** The revisions a run's commit results left (the `results` of its writing steps). */
export function writtenBy(
  results: ReadonlyArray<{ op: string; kind: string; id: string; doc: { revision: number } }>,
) {
  const out = new Map<string, number>();
  for (const r of results) out.set(`${r.kind}/${r.id}`, r.op === 'delete' ? 0 : r.doc.revision);
  return out;
}

export type IntegrityLevel = 'references' | 'full';

const asIssue = (f: Finding): Issue => ({ file: f.file, entity: f.entity, path: f.path, message: f.message });

/**
 * Checks the entities a run touched. `references`: no agent points at a missing personality
 * or role, no resolved file without its agent, no deleted personality/role still used —
 * true between saga steps. `full` adds: the agents of touched personalities and roles, and
 * every touched agent, are synchronized and their resolved files match.
 * Lists agents only when a personality or role is involved; otherwise reads by id.
 */
export async function checkScope(s: Services, scope: Scope, level: IntegrityLevel): Promise<Issue[]> {
  const issues: Issue[] = [];
  const owner = (key: string, doc: { revision: number } | undefined): Owner => {
    const w = scope.written?.get(key);
    if (w === undefined) return scope.written ? 'untouched' : 'ours';
    return w === (doc?.revision ?? 0) ? 'ours' : 'theirs';
  };
  const agentIds = new Set<string>();
  const referenced: Array<{ kind: 'personalities' | 'roles'; id: string; gone: boolean }> = [];
  const keys = [...new Set(scope.touched)];
  const read = reader(s);
  // Agents are checked against the model catalog: its read goes with the first ones.
  const touchesAgents = keys.some((k) => /^(agents|resolved|personalities|roles)\//.test(k));
  const catalog = touchesAgents ? s.models.catalogAhead() : undefined;
  // Everything touched read at once (one round trip on a database, parallel on disk): the
  // sources, and the agents with the sources they are composed from, usually touched too.
  const sources = await Promise.all(keys.map((key) => read.doc(...(key.split('/') as [Kind, string]))));
  for (const [i, key] of keys.entries()) {
    const [kind, id] = key.split('/') as [string, string];
    if (kind === 'agents' || kind === 'resolved') agentIds.add(id);
    if (kind === 'personalities' || kind === 'roles') {
      const doc = sources[i];
      if (owner(key, doc) === 'theirs') continue;
      const gone = !doc && (kind === 'personalities' || !s.roles.isPredefined(id));
      // Revision 1 means created by this run: its only users are agents the run touched too.
      if (gone || (level === 'full' && doc && doc.revision > 1)) referenced.push({ kind, id, gone });
    }
  }
  if (referenced.length) {
    const users = await s.agents.usingEach(referenced);
    for (const [i, { id, kind, gone }] of referenced.entries()) {
      const using = users[i] as Agent[];
      if (gone && using.length) {
        issues.push({
          path: kind,
          entity: id,
          message: `deleted ${kind === 'roles' ? 'role' : 'personality'} "${id}" is still used by ${using.map((a) => a.id).join(', ')}`,
        });
      }
      for (const a of using) agentIds.add(a.id);
    }
  }
  // Reads in parallel: on the file store each is a round trip to the disk.
  const modelOf = modelFinder(s, catalog);
  const checked = await Promise.all(
    [...agentIds].map(async (id) => {
      const [a, resolved] = await Promise.all([read.agent(id), read.resolved(id)]);
      const [p, r, model] = a
        ? await Promise.all([read.personality(a.personalityId), read.role(a.roleId), modelOf(a)])
        : [];
      return { id, a, resolved, p, r, model };
    }),
  );
  for (const { id, a, resolved, p, r, model } of checked) {
    if (owner(keyOf('agents', id), a) === 'theirs') continue;
    if (!a) {
      if (resolved && owner(keyOf('resolved', id), resolved) !== 'theirs')
        issues.push(asIssue(orphanFinding(id, s.store)));
      continue;
    }
    const pKey = keyOf('personalities', a.personalityId);
    const rKey = keyOf('roles', a.roleId);
    // A source changed by another writer after this run's guarded commit is not this run's doing.
    const movedOn = (key: string, doc: { revision: number } | undefined, composedAt: number) =>
      owner(key, doc) === 'theirs' ||
      (owner(key, doc) === 'untouched' && scope.written && doc?.revision !== composedAt);
    if (movedOn(pKey, p, a.personalityVersion) || movedOn(rKey, r, a.roleVersion)) continue;
    // A resolved file another writer changed since is theirs to check.
    const theirs = owner(keyOf('resolved', id), resolved) === 'theirs';
    const found = agentFindings(
      s,
      a,
      { personality: p, role: r, model, resolved },
      p && r ? level : 'references',
    );
    for (const f of found) if (!(theirs && f.kind.startsWith('resolved-'))) issues.push(asIssue(f));
  }
  return issues;
}

/**
 * Reads of one check, each document read once: what the first pass read (everything touched)
 * serves the agents' sources after it, with no second round trip.
 */
function reader(s: Services) {
  const docs = new Map<string, Promise<StoredDoc | undefined>>();
  const doc = (kind: Kind, id: string) => {
    const key = keyOf(kind, id);
    let read = docs.get(key);
    if (!read) {
      read = s.store.get(kind, id);
      docs.set(key, read);
    }
    return read;
  };
  const typed =
    <E>(kind: Kind, service: { fromDoc(d: StoredDoc): E }) =>
    async (id: string): Promise<E | undefined> => {
      const d = await doc(kind, id);
      return d && service.fromDoc(d);
    };
  const storedRole = typed('roles', s.roles);
  return {
    doc,
    agent: typed('agents', s.agents),
    resolved: typed('resolved', s.files),
    personality: typed('personalities', s.personalities),
    // A predefined role is shipped data, not a stored document.
    role: (id: string) => (s.roles.isPredefined(id) ? s.roles.get(id) : storedRole(id)),
  };
}
