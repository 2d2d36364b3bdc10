import { formatIssues } from '../domain/common.js';
import { type Issue, TroupeError, validationError } from '../domain/errors.js';
import type { Model } from '../domain/model.js';
import type { Personality } from '../domain/personality.js';
import type { Role } from '../domain/role.js';
import type { Normalized, Where } from '../services/entity-service.js';
import { matchIn } from '../services/model-service.js';
import { checkRevision, handWritten } from '../storage/batch.js';
import type { BatchOp, Kind, StoredDoc } from '../storage/store.js';
import { requireRef } from './references.js';
import type { Services } from './services.js';

/** Stamps a not-yet-stored entity as it will be after its first commit, for composition. */
export const asNew = <T>(entity: Normalized, now: string): T =>
  ({ ...entity, revision: 1, createdAt: now, updatedAt: now }) as T;

/**
 * What the create-agent plan reads from its workflow input: the public CreateAgentRequest as
 * it arrives from outside, not yet validated (every field is checked here).
 */
export interface CreateAgentPlanInput {
  agent: unknown;
  /** A new personality to create with the agent; else `agent.personalityId` must exist. */
  personality?: unknown;
  /** A new role to create with the agent; else `agent.roleId` must exist. */
  role?: unknown;
  where?: Where;
}

/**
 * Checks the agent's model exists and suits its role; issues name the field. `catalog`: the
 * catalog's read, if already started (see modelFinder).
 */
export async function checkModel(
  s: Services,
  agent: Normalized,
  role: Role,
  file?: string,
  catalog?: Promise<Model[]>,
): Promise<Issue[]> {
  const model = agent.model as { provider: string; modelId: string; maxTokens?: number };
  try {
    const m = await s.models.resolve(model.modelId, model.provider, catalog);
    return s.models
      .compatibility(model as never, m, role)
      .map((i) => ({ ...i, entity: agent.id, ...(file ? { file } : {}) }));
  } catch (e) {
    // Not in the catalog, or in a model file the store refuses to read (named in the message).
    if (e instanceof TroupeError && (e.code === 'NOT_FOUND' || isModelFileRefusal(e))) {
      return [{ path: 'model.modelId', entity: agent.id, message: e.message, ...(file ? { file } : {}) }];
    }
    throw e;
  }
}

/** Plans "create an agent with a new or existing personality and role" as one batch. */
export async function planCreateAgent(s: Services, req: CreateAgentPlanInput, now: string) {
  const ops: BatchOp[] = [];
  const file = req.where?.file;
  let personality: Personality;
  let role: Role;
  const agentDraft = s.agents.parse(
    {
      ...(req.agent as object),
      ...(req.personality ? { personalityId: s.personalities.parse(req.personality, req.where).id } : {}),
      ...(req.role ? { roleId: s.roles.parse(req.role, req.where).id } : {}),
    },
    req.where,
  );
  // The three creates' targets read at once (one round trip on a database), checked in order.
  const ahead = (kind: Kind, id: string) => {
    const read = s.store.get(kind, id);
    read.catch(() => undefined); // heard by its check, unless an earlier check threw first
    return read;
  };
  const agentRead = ahead('agents', agentDraft.id);
  // Its resolved file too: absent, as it should be, its write is a create (nothing to read
  // again before the commit to undo it).
  const resolvedRead = ahead('resolved', agentDraft.id);
  // The catalog, for the model's check and its content hash, in the same round trip.
  const catalog = s.models.catalogAhead();
  const personalityRead = req.personality
    ? ahead('personalities', String(agentDraft.personalityId))
    : undefined;
  const roleRead = req.role ? ahead('roles', String(agentDraft.roleId)) : undefined;
  await assertAbsent(s, 'agents', agentDraft.id, agentRead);
  // Its resolved file too: one written by hand is the user's, never written over unasked.
  await assertNotHandWritten(s, 'resolved', agentDraft.id, resolvedRead);
  if (req.personality) {
    const p = s.personalities.prepareCreate(req.personality, req.where);
    await assertAbsent(s, 'personalities', p.entity.id, personalityRead);
    ops.push(p.op);
    personality = asNew<Personality>(p.entity, now);
  } else {
    personality = await requireRef(s.personalities, String(agentDraft.personalityId), {
      entity: `agent "${agentDraft.id}"`,
      field: 'personalityId',
      file,
    });
  }
  if (req.role) {
    const r = s.roles.prepareCreate(req.role, req.where);
    await assertAbsent(s, 'roles', r.entity.id, roleRead);
    ops.push(r.op);
    role = asNew<Role>({ ...r.entity, predefined: false }, now);
  } else {
    role = await requireRef(s.roles, String(agentDraft.roleId), {
      entity: `agent "${agentDraft.id}"`,
      field: 'roleId',
      file,
    });
  }
  const issues = await checkModel(s, agentDraft, role, file, catalog);
  if (issues.length) {
    throw validationError(
      `${file ? `${file}: ` : ''}agent "${agentDraft.id}": ${formatIssues(issues, { join: '; ', where: false })}`,
      issues,
    );
  }
  const composed = s.agents.compose(
    agentDraft,
    personality,
    role,
    0,
    await modelEntry(s, agentDraft, catalog),
  );
  const absent = (await resolvedRead) === undefined;
  // The agent is a create (checked absent above), and so is its resolved file where none was
  // found: the store refuses either over a file written by hand meanwhile, and neither is read
  // again before the commit to undo it.
  const creates = (op: BatchOp) =>
    op.op === 'put' && (op.kind === 'agents' || (absent && op.kind === 'resolved'));
  ops.push(...composed.ops.map((op) => (creates(op) ? { ...op, create: true as const } : op)));
  return { ops, agent: composed.agent, personality, role };
}

/** The catalog entry an agent's model settings name, if it exists (for its content hash). */
export async function modelEntry(
  s: Services,
  agent: Normalized | { model: unknown },
  catalog?: Promise<Model[]>,
): Promise<Model | undefined> {
  return modelFinder(s, catalog)(agent);
}

/** Like modelEntry, for many agents: the catalog is read once. */
export function modelFinder(
  s: Services,
  /** The catalog's read, if already started (alongside other reads, in one round trip). */
  catalog?: Promise<Model[]>,
): (agent: Normalized | { model: unknown }) => Promise<Model | undefined> {
  return async (agent) => {
    const m = agent.model as { provider?: string; modelId?: string } | undefined;
    if (!m?.modelId) return undefined;
    catalog ??= s.models.catalog();
    const { modelId, provider } = m;
    const all = await catalog;
    // Composed without it, the agent would read as edited by hand: its file's problem is said.
    return s.models.foundOrRefused(all, matchIn(all, modelId, provider), modelId);
  };
}

/** A model file the store refuses to read, as the catalog reports it (see ModelService.catalog). */
export const isModelFileRefusal = (e: unknown): e is TroupeError =>
  e instanceof TroupeError &&
  e.code === 'VALIDATION_FAILED' &&
  (e.context as { kind?: unknown } | undefined)?.kind === 'models';

/**
 * A create must not write over a file written by hand (revision 0, not yet adopted): the store
 * would take it for "absent". Refused as ALREADY_EXISTS, naming the file and the way out.
 * Returns what is there (a stored version, or nothing).
 */
export async function assertNotHandWritten(
  s: Services,
  kind: Kind,
  id: string,
  /** The read of it already under way, if any (it must be of `kind`/`id`). */
  read?: Promise<StoredDoc | undefined>,
): Promise<StoredDoc | undefined> {
  const d = await (read ?? s.store.get(kind, id));
  if (d && d.revision === 0) throw handWritten(kind, id);
  return d;
}

/**
 * What a create makes must not be there at all: one written by hand is refused as
 * assertNotHandWritten says, one stored as ALREADY_EXISTS (as its commit would refuse it). In
 * the plan, so a create planned again after a lost race to the same id fails there, at once,
 * instead of planning (and recording) the same refused commit again and again.
 */
export async function assertAbsent(
  s: Services,
  kind: Kind,
  id: string,
  /** The read of it already under way, if any (it must be of `kind`/`id`). */
  read?: Promise<StoredDoc | undefined>,
): Promise<void> {
  checkRevision(kind, id, 0, await assertNotHandWritten(s, kind, id, read));
}
