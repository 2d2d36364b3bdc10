import type { Agent } from '../domain/agent.js';
import { formatIssues } from '../domain/common.js';
import { concurrentModification, TroupeError, validationError } from '../domain/errors.js';
import type { BatchOp } from '../storage/store.js';
import { checkModel, modelEntry } from './create-agent.js';
import { requireRef } from './references.js';
import type { Services } from './services.js';

/** What to do with agents that use the entity being deleted. */
export type DeleteMode = { mode: 'block' } | { mode: 'cascade' } | { mode: 'reassign'; to: string };

export interface DeleteOptions {
  expectedRevision?: number | undefined;
}

async function deleteAgentOps(s: Services, agents: Agent[]): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  for (const a of agents) ops.push(...s.agents.prepareDelete(a, (await s.files.get(a.id)) !== undefined));
  return ops;
}

/**
 * Plans deleting a personality or role. Agents using it block the delete (REFERENCE_IN_USE
 * listing them) unless the caller cascades (the agents go too) or reassigns them to another
 * entity of the same kind (they are re-composed against it). One batch either way.
 */
export async function planDeleteReferenced(
  s: Services,
  kind: 'personalities' | 'roles',
  id: string,
  how: DeleteMode,
  opts: DeleteOptions = {},
) {
  const isPersonality = kind === 'personalities';
  const label = isPersonality ? 'personality' : 'role';
  const field = isPersonality ? 'personalityId' : 'roleId';
  // One edited by hand past its schema can be deleted too (its revision is still known): the
  // agents using it are refused, cascaded or reassigned as ever.
  const found = isPersonality ? await s.personalities.replaceable(id) : await s.roles.replaceable(id);
  const current =
    found?.current ?? (isPersonality ? await s.personalities.require(id) : await s.roles.require(id));
  if (opts.expectedRevision != null && opts.expectedRevision !== current.revision)
    throw concurrentModification(label, id, opts.expectedRevision, current.revision, { retryable: false });
  const ops: BatchOp[] = [
    isPersonality
      ? s.personalities.prepareDelete(current as never, opts.expectedRevision)
      : s.roles.prepareDelete(current as never, opts.expectedRevision),
  ];
  const users = isPersonality ? await s.agents.usingPersonality(id) : await s.agents.usingRole(id);
  const affected = users.map((a) => a.id);
  // Once deleted, no agent may use it: one created meanwhile fails the commit, and the delete is
  // planned again (refused, or cascaded to that agent too).
  ops.push({ op: 'absent', kind: 'agents', where: { [field]: id } });
  if (users.length === 0) return { ops, affected, deleted: [] as string[], reassigned: [] as string[] };
  if (how.mode === 'block') {
    throw new TroupeError(
      'REFERENCE_IN_USE',
      `${label} "${id}" is used by ${users.length} agent${users.length > 1 ? 's' : ''}: ${affected.join(', ')}; ` +
        `delete with cascade to delete them too, or reassign them to another ${label} (troupe: --cascade, --reassign <${label}-id>; HTTP: ?mode=cascade, ?mode=reassign&to=<${label}-id>)`,
      { context: { kind, id, agents: affected } },
    );
  }
  if (how.mode === 'cascade') {
    return {
      ops: [...ops, ...(await deleteAgentOps(s, users))],
      affected,
      deleted: affected,
      reassigned: [] as string[],
    };
  }
  if (typeof how.to !== 'string' || how.to === '')
    throw validationError(`${label} "${id}": reassign: names no ${label} to move its agents to`, [
      { path: 'reassign', entity: `${label} "${id}"`, message: `give the ${label} to move the agents to` },
    ]);
  if (how.to === id)
    throw validationError(`cannot reassign agents of ${label} "${id}" to itself`, [
      { path: 'reassign', message: 'must differ from the deleted id' },
    ]);
  const from = { entity: `${label} "${id}"`, field: 'reassign' };
  // The catalog, read once for every agent's check and content hash.
  const catalog = users.length ? s.models.catalogAhead() : undefined;
  for (const a of users) {
    const patch = { [field]: how.to };
    const entity = s.agents.patched(a, patch);
    const p = isPersonality
      ? await requireRef(s.personalities, how.to, from)
      : await s.personalities.require(a.personalityId);
    const r = isPersonality ? await s.roles.require(a.roleId) : await requireRef(s.roles, how.to, from);
    const issues = isPersonality ? [] : await checkModel(s, entity, r, undefined, catalog);
    if (issues.length) {
      throw validationError(
        `cannot reassign agent "${a.id}" to role "${how.to}": ${formatIssues(issues, { join: '; ', where: false })}`,
        issues,
      );
    }
    ops.push(...s.agents.compose(entity, p, r, a.revision, await modelEntry(s, entity, catalog)).ops);
  }
  return { ops, affected, deleted: [] as string[], reassigned: affected };
}

/** Plans deleting an agent and its resolved file. */
export async function planDeleteAgent(
  s: Services,
  id: string,
  opts: { expectedRevision?: number | null | undefined } = {},
) {
  const a = await s.agents.require(id);
  if (opts.expectedRevision != null && opts.expectedRevision !== a.revision)
    throw concurrentModification('agent', id, opts.expectedRevision, a.revision, { retryable: false });
  return { ops: await deleteAgentOps(s, [a]) };
}
