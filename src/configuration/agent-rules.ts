import type { Agent } from '../domain/agent.js';
import type { Personality } from '../domain/personality.js';
import type { ResolvedFile } from '../domain/resolved.js';
import type { Role } from '../domain/role.js';
import { entityFile } from '../services/entity-service.js';
import type { Store } from '../storage/store.js';
import type { Services } from './services.js';

/**
 * One broken rule of the cast, with the kind `troupe validate` reports it as. The one place the
 * rules an agent must keep are written: the run's integrity check (`integrity.ts`) and the whole
 * directory's (`consistency.ts`) both ask here and differ only in what they look at.
 */
export interface Finding {
  kind:
    | 'dangling-reference'
    | 'stale-agent'
    | 'resolved-missing'
    | 'resolved-checksum'
    | 'resolved-edited'
    | 'resolved-orphaned';
  entity: string;
  file: string;
  /** The field at fault (`(file)` for a whole file). */
  path: string;
  /** Without the file: callers say where. */
  message: string;
}

/** What one agent is judged with: its personality, role, model and resolved file as stored now. */
export interface AgentState {
  personality: Personality | undefined;
  role: Role | undefined;
  model: { modelId: string } | undefined;
  resolved: ResolvedFile | undefined;
}

/**
 * The rules an agent keeps. `references`: its personality and role exist. `full` adds: it is
 * composed against what they are now (no drift), and its resolved file is there, unedited, and
 * of this composition. `exists` says whether a missing personality or role is itself the
 * problem (a broken file of it is reported as that file, not as a dangling reference).
 */
export function agentFindings(
  s: Pick<Services, 'agents' | 'files' | 'store'>,
  a: Agent,
  now: AgentState,
  level: 'references' | 'full',
  opts: { isReported?: (file: string) => boolean } = {},
): Finding[] {
  const file = entityFile('agents', a.id, s.store);
  const out: Finding[] = [];
  const dangling = (
    path: 'personalityId' | 'roleId',
    what: string,
    id: string,
    kind: 'personalities' | 'roles',
  ) => {
    if (!opts.isReported?.(entityFile(kind, id, s.store)))
      out.push({
        kind: 'dangling-reference',
        entity: a.id,
        file,
        path,
        message: `${what} "${id}" does not exist`,
      });
  };
  const { personality: p, role: r } = now;
  if (!p) dangling('personalityId', 'personality', a.personalityId, 'personalities');
  if (!r) dangling('roleId', 'role', a.roleId, 'roles');
  if (level === 'references') return out;
  const drift = p && r ? s.agents.driftFields(a, p, r, now.model) : [];
  if (drift.length)
    out.push({
      kind: 'stale-agent',
      entity: a.id,
      file,
      // The field recording what moved on first (the personality's version, the role's…).
      path: drift[0]!.path,
      message: `stale: ${drift.map((d) => d.message).join('; ')}`,
    });
  const mismatch = s.files.check(a, now.resolved);
  if (mismatch)
    out.push({
      kind: `resolved-${mismatch.problem}`,
      entity: a.id,
      file: mismatch.file,
      path: 'checksum',
      message: mismatch.message,
    });
  return out;
}

/** A resolved file whose agent is gone. */
export const orphanFinding = (id: string, store: Store): Finding => ({
  kind: 'resolved-orphaned',
  entity: id,
  file: entityFile('resolved', id, store),
  path: '(file)',
  message: 'orphaned: its agent does not exist',
});
