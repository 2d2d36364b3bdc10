import { type Issue, TroupeError, validationError } from '../domain/errors.js';
import type { Role } from '../domain/role.js';
import type { ServiceHandlers, StepContext } from '../orchestration/handlers.js';
import type { Composed } from '../services/agent-service.js';
import type { Normalized } from '../services/entity-service.js';
import type { BatchOp } from '../storage/store.js';
import { planBundle } from './bundle.js';
import { detectInconsistencies, planReconcile } from './consistency.js';
import { asNew, checkModel, planCreateAgent } from './create-agent.js';
import { planDeleteAgent, planDeleteReferenced } from './delete.js';
import { checkScope } from './integrity.js';
import { requireRef } from './references.js';
import type { Services } from './services.js';
import { applyUndo, commitWithUndo, type UndoableCommit, type UndoOp } from './undo.js';
import { updateWithStrategy } from './update-step.js';

type File = { file?: string };

/** An agent write with its guards: a personality or role changed meanwhile fails the commit. */
const agentWithGuards = (c: Composed): BatchOp[] => [c.ops[0]!, ...c.guards];

/** Who refers to a personality or role in a check: the agent being created, if named. */
const referrer = (i: { agentId?: string | null }) => (i.agentId ? `agent "${i.agentId}"` : 'step input');

/** A reference a check needs: missing is VALIDATION_FAILED naming the field, never "null" not found. */
function required(id: unknown, field: string, i: { agentId?: string | null } & File): string {
  if (typeof id === 'string' && id) return id;
  const where = `${i.file ? `${i.file}: ` : ''}${referrer(i)}`;
  throw validationError(`${where}: ${field} is required`, [
    { path: field, message: 'is required', ...(i.file ? { file: i.file } : {}) },
  ]);
}

/** Compensation shared by every writing step: apply the inverse of what it committed. */
const revert =
  (s: Services) =>
  ({ output }: { output: UndoableCommit }, ctx?: StepContext) =>
    undoAndResync(s, output.undo, ctx);

/**
 * The operations the built-in workflows call, by service. Each writing operation commits
 * once and returns its inverse (`undo`) so its compensation is exact; the runner knows none
 * of this — it only sees services and operations.
 */
export function buildHandlers(s: Services, nowIso: () => string): ServiceHandlers {
  const commit = (ops: BatchOp[], ctx?: StepContext) => commitWithUndo(s.store, ops, ctx?.intent);
  return {
    personality: {
      /** Validates a new personality, or checks the referenced one exists. Writes nothing. */
      check: async (i: { personality?: unknown; id?: string; agentId?: string } & File) => {
        if (i.personality) return { id: s.personalities.parse(i.personality, i).id, isNew: true };
        const p = await requireRef(s.personalities, required(i.id, 'personalityId', i), {
          entity: referrer(i),
          field: 'personalityId',
          file: i.file,
        });
        return { id: p.id, isNew: false };
      },
      /** Creates a personality on its own. */
      create: async (i: { personality: unknown } & File, ctx?: StepContext) => {
        const { op } = s.personalities.prepareCreate(i.personality, i);
        return { ...(await commit([op], ctx)), id: op.op === 'put' ? op.doc.id : '' };
      },
      update: (i, ctx) => updateWithStrategy(s, 'personalities', i, ctx),
      restore: revert(s),
      remove: async (i: { id: string; expectedRevision?: number }, ctx?: StepContext) =>
        commit([s.personalities.prepareDelete(await s.personalities.require(i.id), i.expectedRevision)], ctx),
      revert: revert(s),
    },
    role: {
      /**
       * Validates a new role (from a template if given) or checks the referenced one exists,
       * then checks the agent's model has what the role needs. Writes nothing.
       */
      check: async (
        i: {
          role?: unknown;
          template?: string;
          id?: string;
          agent?: Record<string, unknown>;
          agentId?: string;
        } & File,
      ) => {
        let role: Role;
        if (i.role) {
          const body = i.template
            ? await s.roles.fromTemplateInput(i.template, i.role as Record<string, unknown>)
            : i.role;
          role = asNew<Role>({ ...s.roles.parse(body, i), predefined: false }, nowIso());
          if (s.roles.isPredefined(role.id)) s.roles.prepareCreate(body, i);
        } else {
          role = await requireRef(s.roles, required(i.id, 'roleId', i), {
            entity: referrer(i),
            field: 'roleId',
            file: i.file,
          });
        }
        if (i.agent) {
          const agent = s.agents.parse(
            { ...i.agent, roleId: role.id, personalityId: i.agent.personalityId ?? 'unchecked' },
            i,
          );
          const issues = await checkModel(s, agent, role, i.file);
          if (issues.length)
            throw validationError(
              `${i.file ? `${i.file}: ` : ''}agent "${agent.id}": ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`,
              issues,
            );
        }
        return { id: role.id, isNew: Boolean(i.role) };
      },
      /** Creates a role on its own (optionally from a template). */
      create: async (i: { role: Record<string, unknown>; template?: string } & File, ctx?: StepContext) => {
        const body = i.template ? await s.roles.fromTemplateInput(i.template, i.role) : i.role;
        const { op } = s.roles.prepareCreate(body, i);
        return { ...(await commit([op], ctx)), id: op.op === 'put' ? op.doc.id : '' };
      },
      update: (i, ctx) => updateWithStrategy(s, 'roles', i, ctx),
      restore: revert(s),
      remove: async (i: { id: string; expectedRevision?: number }, ctx?: StepContext) =>
        commit([s.roles.prepareDelete(await s.roles.require(i.id), i.expectedRevision)], ctx),
      revert: revert(s),
    },
    agent: {
      /**
       * Plans the agent with its new personality and role (if any) and its resolved file:
       * the batch the persist step commits at once. Writes nothing.
       */
      compose: async (
        i: {
          agent: Record<string, unknown>;
          personality?: unknown;
          role?: unknown;
          template?: string;
        } & File,
      ) => {
        const role =
          i.role && i.template
            ? await s.roles.fromTemplateInput(i.template, i.role as Record<string, unknown>)
            : i.role;
        const plan = await planCreateAgent(
          s,
          {
            agent: i.agent,
            personality: i.personality ?? undefined,
            role: role ?? undefined,
            where: { file: i.file ?? undefined },
          },
          nowIso(),
        );
        return { ops: plan.ops, id: String(plan.agent.id) };
      },
      /** Re-composes an agent after a patch, against its (possibly new) personality and role. */
      update: async (
        i: { id: string; patch: unknown; expectedRevision?: number } & File,
        ctx?: StepContext,
      ) => {
        const current = await s.agents.require(i.id);
        const entity = s.agents.patched(current, i.patch, i);
        const where = { entity: `agent "${i.id}"`, file: i.file };
        const p = await requireRef(s.personalities, String(entity.personalityId), {
          ...where,
          field: 'personalityId',
        });
        const r = await requireRef(s.roles, String(entity.roleId), { ...where, field: 'roleId' });
        const issues = await checkModel(s, entity, r, i.file);
        if (issues.length)
          throw validationError(
            `agent "${i.id}": ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`,
            issues,
          );
        return {
          ...(await commit(agentWithGuards(s.agents.compose(entity, p, r, current.revision)), ctx)),
          id: i.id,
        };
      },
      /** Re-composes every agent using a personality or role (the resolved files follow in the file step). */
      sync: async (i: { personalityId?: string; roleId?: string }, ctx?: StepContext) => {
        const agents = i.personalityId
          ? await s.agents.usingPersonality(i.personalityId)
          : await s.agents.usingRole(String(i.roleId));
        const ops: BatchOp[] = [];
        const issues: Issue[] = [];
        for (const a of agents) {
          const p = await s.personalities.require(a.personalityId);
          const r = await s.roles.require(a.roleId);
          // A role change must not leave an agent on a model that cannot serve the role any more.
          if (i.roleId) issues.push(...(await checkModel(s, s.agents.editable(a) as Normalized, r)));
          ops.push(...agentWithGuards(s.agents.prepareSync(a, p, r)));
        }
        if (issues.length) {
          throw validationError(
            `role "${i.roleId}" would no longer suit its agents' models:\n${issues.map((x) => `  agent "${x.entity}": ${x.path}: ${x.message}`).join('\n')}`,
            issues,
          );
        }
        return { ...(await commit(ops, ctx)), agents: agents.map((a) => a.id) };
      },
      /** Moves the agents off a personality/role: refused, cascaded (deleted) or reassigned. */
      detach: async (
        i: {
          kind: 'personalities' | 'roles';
          id: string;
          mode: 'block' | 'cascade' | 'reassign';
          to?: string;
          expectedRevision?: number;
        },
        ctx?: StepContext,
      ) => {
        const how =
          i.mode === 'reassign' ? { mode: 'reassign' as const, to: String(i.to) } : { mode: i.mode };
        const plan = await planDeleteReferenced(s, i.kind, i.id, how, {
          expectedRevision: i.expectedRevision,
        });
        const agentOps = plan.ops.filter(
          (o) => o.kind === 'agents' || o.kind === 'resolved' || o.op === 'check',
        );
        return { ...(await commit(agentOps, ctx)), deleted: plan.deleted, reassigned: plan.reassigned };
      },
      remove: async (i: { id: string; expectedRevision?: number }, ctx?: StepContext) =>
        commit((await planDeleteAgent(s, i.id, i)).ops, ctx),
      revert: revert(s),
    },
    file: {
      /** Writes the resolved configuration of each agent; its checksum is the agent's hash. */
      materialize: async (i: { agents: string[] }, ctx?: StepContext) => {
        const ops: BatchOp[] = [];
        for (const id of i.agents) {
          const a = await s.agents.get(id);
          if (!a) continue;
          const composed = s.agents.prepareSync(
            a,
            await s.personalities.require(a.personalityId),
            await s.roles.require(a.roleId),
          );
          if (composed.resolved.checksum !== a.configurationHash) {
            throw new TroupeError(
              'CONCURRENT_MODIFICATION',
              `agent "${id}" changed while its resolved configuration was written`,
              { context: { agentId: id } },
            );
          }
          // The file is for this agent revision, this personality and role: all must hold at commit.
          ops.push(composed.ops[1]!, ...composed.guards, {
            op: 'check',
            kind: 'agents',
            id,
            expectedRevision: a.revision,
          });
        }
        return commit(ops, ctx);
      },
      /** Commits a planned batch (a bundle, a reconcile) all-or-nothing. */
      persist: async (i: { ops: BatchOp[] }, ctx?: StepContext) => commit(i.ops, ctx),
      revert: revert(s),
    },
    configuration: {
      planBundle: async (i: { bundle: unknown; prune?: boolean } & File) =>
        planBundle(s, i.bundle, { ...i, now: nowIso() }),
      planReconcile: async () => {
        const found = await detectInconsistencies(s);
        const plan = await planReconcile(s, found);
        return { ops: plan.ops, fixed: plan.fixed, remaining: plan.remaining };
      },
      /** Fails the run if the touched entities are not consistent (refs, sync, checksums). */
      verify: async (i: { touched: Array<string[] | string> }) => {
        const touched = i.touched.flat();
        const issues = await checkScope(s, { touched }, 'full');
        if (issues.length) {
          throw new TroupeError(
            'VALIDATION_FAILED',
            `consistency check failed:\n${issues.map((x) => `  ${x.file ?? x.entity}: ${x.path}: ${x.message}`).join('\n')}`,
            { issues, retryable: false },
          );
        }
        return { checked: touched.length, verified: touched };
      },
    },
  };
}

/**
 * Compensation shared by every writing step: apply the inverse of what it committed, then
 * re-compose (agent and resolved file) every agent whose personality or role the undo
 * rewrote, so a rollback leaves the directory consistent, not merely restored. Idempotent:
 * a recovery may run it again after a crash between the two commits.
 */
async function undoAndResync(s: Services, undo: UndoOp[], ctx?: StepContext) {
  const restored = await applyUndo(s.store, undo, ctx?.intent);
  const ids = (kind: string) =>
    new Set(restored.touched.filter((k) => k.startsWith(`${kind}/`)).map((k) => k.slice(kind.length + 1)));
  const personalities = ids('personalities');
  const roles = ids('roles');
  if (personalities.size === 0 && roles.size === 0) return restored;
  const ops: BatchOp[] = [];
  for (const a of await s.agents.list()) {
    if (!personalities.has(a.personalityId) && !roles.has(a.roleId)) continue;
    const [p, r] = await Promise.all([s.personalities.get(a.personalityId), s.roles.get(a.roleId)]);
    if (!p || !r || !s.agents.isStale(a, p, r)) continue;
    ops.push(...s.agents.prepareSync(a, p, r).ops);
  }
  const synced = await commitWithUndo(s.store, ops, ctx?.intent);
  return { undo: [...synced.undo, ...restored.undo], touched: [...restored.touched, ...synced.touched] };
}
