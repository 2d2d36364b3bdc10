import type { Agent } from '../domain/agent.js';
import type { Issue } from '../domain/errors.js';
import { modelEntry } from './create-agent.js';
import type { Services } from './services.js';

export interface Scope {
  /** Entity keys as `kind/id`, e.g. `agents/a1`. */
  touched: string[];
}

export type IntegrityLevel = 'references' | 'full';

/**
 * Checks the entities a run touched. `references`: no agent points at a missing personality
 * or role, no resolved file without its agent, no deleted personality/role still used —
 * true between saga steps. `full` adds: the agents of touched personalities and roles, and
 * every touched agent, are synchronized and their resolved files match.
 * Lists agents only when a personality or role is involved; otherwise reads by id.
 */
export async function checkScope(s: Services, scope: Scope, level: IntegrityLevel): Promise<Issue[]> {
  const issues: Issue[] = [];
  const agentIds = new Set<string>();
  const referenced: Array<{ kind: 'personalities' | 'roles'; id: string; gone: boolean }> = [];
  for (const key of new Set(scope.touched)) {
    const [kind, id] = key.split('/') as [string, string];
    if (kind === 'agents' || kind === 'resolved') agentIds.add(id);
    if (kind === 'personalities' || kind === 'roles') {
      const doc = await s.store.get(kind, id);
      const gone = !doc && (kind === 'personalities' || !s.roles.isPredefined(id));
      // Revision 1 means created by this run: its only users are agents the run touched too.
      if (gone || (level === 'full' && doc && doc.revision > 1)) referenced.push({ kind, id, gone });
    }
  }
  if (referenced.length) {
    const all: Agent[] = await s.agents.list();
    for (const { kind, id, gone } of referenced) {
      const using = all.filter((a) => (kind === 'personalities' ? a.personalityId : a.roleId) === id);
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
  const checked = await Promise.all(
    [...agentIds].map(async (id) => {
      const [a, resolved] = await Promise.all([s.agents.get(id), s.files.get(id)]);
      const [p, r, model] = a
        ? await Promise.all([s.personalities.get(a.personalityId), s.roles.get(a.roleId), modelEntry(s, a)])
        : [];
      return { id, a, resolved, p, r, model };
    }),
  );
  for (const { id, a, resolved, p, r, model } of checked) {
    const file = `agents/${id}.json`;
    if (!a) {
      if (resolved)
        issues.push({
          file: `resolved/${id}.json`,
          entity: id,
          path: '(file)',
          message: 'orphaned: its agent does not exist',
        });
      continue;
    }
    if (!p)
      issues.push({
        file,
        entity: id,
        path: 'personalityId',
        message: `personality "${a.personalityId}" does not exist`,
      });
    if (!r) issues.push({ file, entity: id, path: 'roleId', message: `role "${a.roleId}" does not exist` });
    if (level === 'references' || !p || !r) continue;
    const drift = s.agents.drift(a, p, r, model);
    if (drift.length) {
      issues.push({ file, entity: id, path: 'personalityVersion', message: `stale: ${drift.join('; ')}` });
    }
    const mismatch = s.files.check(a, resolved);
    if (mismatch)
      issues.push({ file: mismatch.file, entity: id, path: 'checksum', message: mismatch.message });
  }
  return issues;
}
