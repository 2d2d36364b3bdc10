import type { Agent } from '../domain/agent.js';
import type { Personality } from '../domain/personality.js';
import type { Role } from '../domain/role.js';
import type { BatchOp } from '../storage/store.js';
import { asNew } from './create-agent.js';
import type { Services } from './services.js';

export interface UpdateOptions {
  expectedRevision?: number | undefined;
  file?: string;
}

/** Re-composes agents against a personality/role at the revision it will have after the commit. */
async function syncDependents(
  s: Services,
  agents: Agent[],
  personality?: Personality,
  role?: Role,
): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  for (const a of agents) {
    const p = personality ?? (await s.personalities.require(a.personalityId));
    const r = role ?? (await s.roles.require(a.roleId));
    ops.push(...s.agents.prepareSync(a, p, r).ops);
  }
  return ops;
}

/** Plans a personality update and the re-composition of every agent that uses it, as one batch. */
export async function planUpdatePersonality(
  s: Services,
  id: string,
  patch: unknown,
  opts: UpdateOptions,
  now: string,
) {
  const current = await s.personalities.require(id);
  const { entity, op } = s.personalities.prepareUpdate(current, patch, opts);
  const next = {
    ...asNew<Personality>(entity, now),
    revision: current.revision + 1,
    createdAt: current.createdAt,
  };
  const dependents = await s.agents.usingPersonality(id);
  return {
    ops: [op, ...(await syncDependents(s, dependents, next))],
    entity: next,
    dependents: dependents.map((a) => a.id),
  };
}

/** Plans a role update and the re-composition of every agent that uses it, as one batch. */
export async function planUpdateRole(
  s: Services,
  id: string,
  patch: unknown,
  opts: UpdateOptions,
  now: string,
) {
  const current = await s.roles.require(id);
  const { entity, op } = s.roles.prepareUpdate(current, patch, opts);
  const next = {
    ...asNew<Role>({ ...entity, predefined: false }, now),
    revision: current.revision + 1,
    createdAt: current.createdAt,
  };
  const dependents = await s.agents.usingRole(id);
  return {
    ops: [op, ...(await syncDependents(s, dependents, undefined, next))],
    entity: next,
    dependents: dependents.map((a) => a.id),
  };
}

/** Plans an agent update (re-composed against its possibly new personality and role). */
export async function planUpdateAgent(s: Services, id: string, patch: unknown, opts: UpdateOptions) {
  const current = await s.agents.require(id);
  const entity = s.agents.patched(current, patch, opts);
  const { requireRef } = await import('./references.js');
  const where = { entity: `agent "${id}"`, file: opts.file };
  const p = await requireRef(s.personalities, String(entity.personalityId), {
    ...where,
    field: 'personalityId',
  });
  const r = await requireRef(s.roles, String(entity.roleId), { ...where, field: 'roleId' });
  const { checkModel } = await import('./create-agent.js');
  const issues = await checkModel(s, entity, r, opts.file);
  if (issues.length) {
    const { validationError } = await import('../domain/errors.js');
    throw validationError(
      `agent "${id}": ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const composed = s.agents.compose(entity, p, r, current.revision);
  return { ops: composed.ops, entity: composed.agent };
}
