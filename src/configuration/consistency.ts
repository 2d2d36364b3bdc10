import type { Agent } from '../domain/agent.js';
import { contentHash } from '../domain/canonical.js';
import { type Issue, isTroupeError } from '../domain/errors.js';
import type { ResolvedFile } from '../domain/resolved.js';
import { entityFile, type Normalized } from '../services/entity-service.js';
import { matchIn } from '../services/model-service.js';
import type { BatchOp, Kind, StoredDoc } from '../storage/store.js';
import { agentFindings, type Finding, orphanFinding } from './agent-rules.js';
import { checkModel, modelFinder } from './create-agent.js';
import type { Services } from './services.js';

export type InconsistencyKind =
  | 'invalid-file'
  | 'dangling-reference'
  | 'stale-agent'
  | 'resolved-missing'
  | 'resolved-checksum'
  | 'resolved-edited'
  | 'resolved-orphaned'
  | 'model-incompatible'
  | 'stray-file'
  | 'not-adopted';

export interface Inconsistency {
  kind: InconsistencyKind;
  entity: string;
  file: string;
  message: string;
  fixable: boolean;
  issues?: Issue[];
}

/** A finding as `troupe validate` lists it: `file: message` (a resolved file's message names itself). */
const inconsistency = (f: Finding): Omit<Inconsistency, 'fixable'> => ({
  kind: f.kind,
  entity: f.entity,
  file: f.file,
  message: f.message.startsWith(f.file) ? f.message : `${f.file}: ${f.message}`,
});

async function readAll<E>(
  s: Services,
  kind: Kind,
  load: () => Promise<E[]>,
  parse: (d: StoredDoc) => E,
  found: Inconsistency[],
  /** Why a file of this id is never an entity of the kind (a role file named like a predefined role). */
  shadowed?: (id: string) => string | undefined,
): Promise<E[]> {
  if (s.store.scan) {
    const out: E[] = [];
    for (const entry of await s.store.scan(kind)) {
      const why = shadowed?.(entry.id);
      if (why) {
        found.push({
          kind: 'invalid-file',
          entity: entry.id,
          file: entry.file,
          message: `${entry.file}: id: ${why}`,
          fixable: false,
        });
        continue;
      }
      if (entry.error || !entry.doc) {
        found.push({
          kind: 'invalid-file',
          entity: entry.id,
          file: entry.file,
          message: `${entry.file}: ${entry.error?.path ?? ''}: ${entry.error?.message ?? 'unreadable'}`,
          fixable: false,
          ...(entry.error ? { issues: [entry.error] } : {}),
        });
        continue;
      }
      try {
        const e = parse(entry.doc);
        out.push(e);
        if (entry.doc.revision === 0)
          found.push({
            kind: 'not-adopted',
            entity: entry.id,
            file: entry.file,
            message: `${entry.file}: not yet adopted: written by hand without the store's metadata (revision, createdAt, updatedAt)`,
            fixable: true,
          });
      } catch (e) {
        if (!isTroupeError(e)) throw e;
        found.push({
          kind: 'invalid-file',
          entity: entry.id,
          file: entry.file,
          message: e.message,
          fixable: false,
          issues: e.issues,
        });
      }
    }
    return out;
  }
  return load();
}

/** Everything out of step: invalid files, dangling references, stale agents, resolved files that disagree. */
export async function detectInconsistencies(s: Services): Promise<Inconsistency[]> {
  const found: Inconsistency[] = [];
  const personalities = await readAll(
    s,
    'personalities',
    () => s.personalities.list(),
    (d) => s.personalities.fromDoc(d),
    found,
  );
  const roles = [
    ...s.roles.predefined(),
    ...(await readAll(
      s,
      'roles',
      async () => (await s.roles.list()).filter((r) => !r.predefined),
      (d) => s.roles.fromDoc(d),
      found,
      (id) =>
        s.roles.isPredefined(id)
          ? `is the id of the predefined role "${id}", which a file never replaces (agents using "${id}" get the predefined one): give this role another id, and point the agents that should use it there`
          : undefined,
    )),
  ];
  const ownModels = await readAll(
    s,
    'models',
    () => s.models.list(),
    (d) => s.models.fromDoc(d),
    found,
  );
  const own = new Set(ownModels.map((m) => m.id));
  const catalog = [...ownModels, ...s.models.shipped().filter((m) => !own.has(m.id))];
  const modelOf = ({ provider, modelId }: { provider: string; modelId: string }) =>
    matchIn(catalog, modelId, provider);
  const agents = await readAll(
    s,
    'agents',
    () => s.agents.list(),
    (d) => s.agents.fromDoc(d),
    found,
  );
  const resolved = await readAll(
    s,
    'resolved',
    () => s.files.list(),
    (d) => s.files.fromDoc(d),
    found,
  );
  // An agent whose personality or role file is broken is not dangling: that file is the problem.
  // By `kind/id`: a directory names its files `agents/a.json`, a database its rows `agents/a`.
  const entityOf = (file: string | undefined) => file?.replace(/\.json$/, '');
  const broken = new Set(found.filter((f) => f.kind === 'invalid-file').map((f) => entityOf(f.file)));
  const pById = new Map(personalities.map((p) => [p.id, p]));
  const rById = new Map(roles.map((r) => [r.id, r]));
  const fById = new Map(resolved.map((f) => [f.id, f]));
  for (const a of agents) {
    const file = entityFile('agents', a.id, s.store);
    const p = pById.get(a.personalityId);
    const r = rById.get(a.roleId);
    const state = { personality: p, role: r, model: modelOf(a.model), resolved: fById.get(a.id) };
    // Its resolved file unreadable (broken, a key pasted in) is reported as that file, not as
    // missing; like any file broken by hand it is a person's to fix (or remove) before reconcile
    // composes the agent again, so nothing of this agent is offered to fix until then.
    const unreadable = broken.has(entityOf(entityFile('resolved', a.id, s.store)));
    for (const f of agentFindings(s, a, state, 'full', { isReported: (f) => broken.has(entityOf(f)) })) {
      if (unreadable && f.kind.startsWith('resolved-')) continue;
      // A stale agent or a resolved file is fixed by re-composing, which needs both sources.
      found.push({
        ...inconsistency(f),
        fixable: f.kind !== 'dangling-reference' && Boolean(p && r) && !unreadable,
      });
    }
    if (r) {
      // The model must exist and suit the role: a role edited by hand, or a removed custom model.
      for (const issue of await checkModel(s, s.agents.editable(a) as Normalized, r, file)) {
        found.push({
          kind: 'model-incompatible',
          entity: a.id,
          file,
          message: `${file}: ${issue.path}: ${issue.message}`,
          fixable: false,
        });
      }
    }
  }
  if (s.store.strays) {
    for (const { file, why } of await s.store.strays()) {
      found.push({
        kind: 'stray-file',
        entity: file,
        file,
        message: `${file}: ignored: ${why}`,
        fixable: false,
      });
    }
  }
  const agentIds = new Set(agents.map((a) => a.id));
  for (const f of resolved) {
    // An agent file that exists but is broken is reported itself; its resolved file is not an orphan.
    if (!agentIds.has(f.id) && !broken.has(`agents/${f.id}`))
      found.push({ ...inconsistency(orphanFinding(f.id, s.store)), fixable: true });
  }
  return found;
}

/**
 * Plans the fixes for what can be fixed, as one batch: adopt hand-written files (the store
 * adds its metadata) and files edited by hand in place (their revision moves forward, the edit
 * is kept), then re-compose stale agents against what is adopted and rewrite their resolved
 * files, and drop orphans.
 */
export async function planReconcile(s: Services, found: Inconsistency[]) {
  const adoptions: BatchOp[] = [];
  const ops: BatchOp[] = [];
  const fixed: Inconsistency[] = [];
  const synced = new Set<string>();
  const modelOf = modelFinder(s);
  /** The revision an entity has once this batch adopted it (itself when it needs no adoption). */
  const adopted = new Map<string, number>();
  /** Personalities and roles this batch moves to their next revision. */
  const moved = new Set<string>();
  const adopt = async <E extends { id: string; revision: number }>(
    kind: Kind,
    e: E,
    editedInPlace: boolean,
  ) => {
    const key = `${kind}/${e.id}`;
    let next = adopted.get(key);
    if (next === undefined) {
      next = e.revision === 0 || editedInPlace ? e.revision + 1 : e.revision;
      adopted.set(key, next);
      if (next !== e.revision) {
        if (kind === 'personalities' || kind === 'roles') moved.add(key);
        const doc = (await s.store.get(kind, e.id))!;
        adoptions.push({ op: 'put', kind, doc, expectedRevision: e.revision, touch: true });
      }
    }
    return next === e.revision ? e : { ...e, revision: next };
  };
  /** Re-composes an agent against what this batch adopts (an edit of its sources in place among it). */
  const compose = async (a: Agent) => {
    const model = await modelOf(a);
    const p0 = await s.personalities.require(a.personalityId);
    const r0 = await s.roles.require(a.roleId);
    const inPlace = (recorded: number, hash: string | undefined, e: { revision: number }) =>
      recorded === e.revision && hash !== undefined && hash !== contentHash(e);
    const p = await adopt('personalities', p0, inPlace(a.personalityVersion, a.personalityHash, p0));
    const r = r0.predefined ? r0 : await adopt('roles', r0, inPlace(a.roleVersion, a.roleHash, r0));
    if (model && (model as { revision?: number }).revision === 0)
      await adopt('models', model as { id: string; revision: number }, false);
    ops.push(...s.agents.prepareSync(a, p, r, model).ops);
    synced.add(a.id);
  };
  const unfixable: Inconsistency[] = [];
  for (const f of found) {
    if (!f.fixable) continue;
    if (f.kind === 'not-adopted') {
      const kind = f.file.slice(0, f.file.indexOf('/')) as Kind;
      if (kind !== 'agents') {
        await adopt(kind, (await s.store.get(kind, f.entity))!, false);
        fixed.push(f);
        continue;
      }
      // An agent is adopted by being composed, below: not while what it uses is missing.
      const a = (await s.agents.get(f.entity)) as Agent | undefined;
      const missing = a ? await missingSources(s, a) : ['the agent'];
      if (missing.length) {
        unfixable.push({
          ...f,
          fixable: false,
          message: `${f.message}: it cannot be composed while ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing`,
        });
        continue;
      }
      fixed.push(f);
      continue;
    }
    if (f.kind === 'resolved-orphaned') {
      // Orphaned as the plan read it: an agent created since (its resolved file is its own)
      // fails the commit, and reconcile plans again on what is stored then.
      ops.push(
        { op: 'delete', kind: 'resolved', id: f.entity },
        { op: 'absent', kind: 'agents', where: { id: f.entity } },
      );
      fixed.push(f);
      continue;
    }
    if (synced.has(f.entity)) {
      fixed.push(f);
      continue;
    }
    await compose((await s.agents.get(f.entity)) as Agent);
    fixed.push(f);
  }
  // An edit adopted in place moves its entity to the next revision: every agent on it is
  // composed against that revision in the same batch, not only the stale ones (one an update
  // composed against the edited content already would be left a revision behind, and the
  // commit's check would refuse the whole reconcile).
  if (moved.size)
    for (const a of await readAll(
      s,
      'agents',
      () => s.agents.list(),
      (d) => s.agents.fromDoc(d),
      [],
    )) {
      if (synced.has(a.id)) continue;
      if (moved.has(`personalities/${a.personalityId}`) || moved.has(`roles/${a.roleId}`)) await compose(a);
    }
  return {
    ops: [...adoptions, ...ops],
    fixed,
    // Files the store never reads (editor backups, links) are warnings, as in validate: no
    // person needs to fix them for the directory to be consistent.
    remaining: [...found.filter((f) => !f.fixable && f.kind !== 'stray-file'), ...unfixable],
    warnings: found.filter((f) => f.kind === 'stray-file'),
  };
}

/** What an agent uses that cannot be read (its personality, its role), named. */
async function missingSources(s: Services, a: Agent): Promise<string[]> {
  const missing: string[] = [];
  const gone = (read: Promise<unknown>) =>
    read.then(
      () => false,
      () => true,
    );
  if (await gone(s.personalities.require(a.personalityId))) missing.push(`personality "${a.personalityId}"`);
  if (await gone(s.roles.require(a.roleId))) missing.push(`role "${a.roleId}"`);
  return missing;
}

export type { ResolvedFile };
