import type { Agent } from '../domain/agent.js';
import { type Issue, isTroupeError } from '../domain/errors.js';
import type { ResolvedFile } from '../domain/resolved.js';
import type { Normalized } from '../services/entity-service.js';
import type { BatchOp, Kind, StoredDoc } from '../storage/store.js';
import { checkModel, modelEntry } from './create-agent.js';
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
  | 'stray-file';

export interface Inconsistency {
  kind: InconsistencyKind;
  entity: string;
  file: string;
  message: string;
  fixable: boolean;
  issues?: Issue[];
}

/** An adapter that can read every file without stopping at the first bad one (the file store). */
interface Scannable {
  scan(kind?: Kind): Promise<Array<{ kind: Kind; file: string; id: string; doc?: StoredDoc; error?: Issue }>>;
  strays?(): Promise<string[]>;
}
const canScan = (x: unknown): x is Scannable => typeof (x as Scannable).scan === 'function';

async function readAll<E>(
  s: Services,
  kind: Kind,
  load: () => Promise<E[]>,
  parse: (d: StoredDoc) => E,
  found: Inconsistency[],
): Promise<E[]> {
  if (canScan(s.store)) {
    const out: E[] = [];
    for (const entry of await s.store.scan(kind)) {
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
        out.push(parse(entry.doc));
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
    )),
  ];
  await readAll(
    s,
    'models',
    () => s.models.list(),
    (d) => s.models.fromDoc(d),
    found,
  );
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
  const broken = new Set(found.filter((f) => f.kind === 'invalid-file').map((f) => f.file));
  const pById = new Map(personalities.map((p) => [p.id, p]));
  const rById = new Map(roles.map((r) => [r.id, r]));
  const fById = new Map(resolved.map((f) => [f.id, f]));
  for (const a of agents) {
    const file = `agents/${a.id}.json`;
    const p = pById.get(a.personalityId);
    const r = rById.get(a.roleId);
    if (!p && !broken.has(`personalities/${a.personalityId}.json`))
      found.push({
        kind: 'dangling-reference',
        entity: a.id,
        file,
        message: `${file}: personalityId "${a.personalityId}" does not exist`,
        fixable: false,
      });
    if (!r && !broken.has(`roles/${a.roleId}.json`))
      found.push({
        kind: 'dangling-reference',
        entity: a.id,
        file,
        message: `${file}: roleId "${a.roleId}" does not exist`,
        fixable: false,
      });
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
    if (p && r && s.agents.isStale(a, p, r)) {
      found.push({
        kind: 'stale-agent',
        entity: a.id,
        file,
        message: `${file}: composed against personality "${p.id}" r${a.personalityVersion} and role "${r.id}" r${a.roleVersion}; now r${p.revision} and r${r.revision}`,
        fixable: true,
      });
    }
    const mismatch = s.files.check(a, fById.get(a.id));
    if (mismatch)
      found.push({
        kind: `resolved-${mismatch.problem}` as InconsistencyKind,
        entity: a.id,
        file: mismatch.file,
        message: mismatch.message,
        fixable: Boolean(p && r),
      });
  }
  if (canScan(s.store) && s.store.strays) {
    for (const file of await s.store.strays()) {
      found.push({
        kind: 'stray-file',
        entity: file,
        file,
        message: `${file}: ignored: troupe reads only <id>.json files here (bring YAML in with \`troupe import\`)`,
        fixable: false,
      });
    }
  }
  const agentIds = new Set(agents.map((a) => a.id));
  for (const f of resolved) {
    // An agent file that exists but is broken is reported itself; its resolved file is not an orphan.
    if (!agentIds.has(f.id) && !broken.has(`agents/${f.id}.json`))
      found.push({
        kind: 'resolved-orphaned',
        entity: f.id,
        file: `resolved/${f.id}.json`,
        message: `resolved/${f.id}.json has no agent "${f.id}"`,
        fixable: true,
      });
  }
  return found;
}

/** Plans the fixes for what can be fixed: re-compose stale agents and rewrite resolved files, drop orphans. */
export async function planReconcile(s: Services, found: Inconsistency[]) {
  const ops: BatchOp[] = [];
  const fixed: Inconsistency[] = [];
  const synced = new Set<string>();
  for (const f of found) {
    if (!f.fixable) continue;
    if (f.kind === 'resolved-orphaned') {
      ops.push({ op: 'delete', kind: 'resolved', id: f.entity });
      fixed.push(f);
      continue;
    }
    if (synced.has(f.entity)) {
      fixed.push(f);
      continue;
    }
    const a = (await s.agents.get(f.entity)) as Agent;
    const p = await s.personalities.require(a.personalityId);
    const r = await s.roles.require(a.roleId);
    ops.push(...s.agents.prepareSync(a, p, r, await modelEntry(s, a)).ops);
    synced.add(f.entity);
    fixed.push(f);
  }
  return { ops, fixed, remaining: found.filter((f) => !f.fixable) };
}

export type { ResolvedFile };
