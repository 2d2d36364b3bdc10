import { formatIssues } from '../domain/common.js';
import { type Issue, TroupeError, validationError } from '../domain/errors.js';
import type { Role } from '../domain/role.js';
import type { ServiceHandlers, StepContext } from '../orchestration/handlers.js';
import type { Composed } from '../services/agent-service.js';
import type { Normalized } from '../services/entity-service.js';
import { keyOf } from '../storage/batch.js';
import type { BatchOp, CommitResult } from '../storage/store.js';
import { planBundle } from './bundle.js';
import { detectInconsistencies, planReconcile } from './consistency.js';
import {
  asNew,
  assertNotHandWritten,
  checkModel,
  modelEntry,
  modelFinder,
  planCreateAgent,
} from './create-agent.js';
import { planDeleteAgent, planDeleteReferenced } from './delete.js';
import { checkScope, writtenBy } from './integrity.js';
import { planDeleteModel } from './model-changes.js';
import { commitPlanned } from './planned-commit.js';
import { requireRef } from './references.js';
import type { Services } from './services.js';
import { applyUndo, commitWithUndo, skippedError, type UndoableCommit, type UndoOp } from './undo.js';
import { planCascadingUpdate, type UpdateStepInput } from './update-step.js';
import { allowFor, bundleSize } from './work-allowance.js';

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
    undoAndResync(s, output.undo, ctx, output.unconfirmed === true);

/**
 * The operations the built-in workflows call, by service. Each writing operation commits
 * once and returns its inverse (`undo`) so its compensation is exact; the runner knows none
 * of this — it only sees services and operations.
 */
export function buildHandlers(s: Services, nowIso: () => string): ServiceHandlers {
  const commit = (ops: BatchOp[], ctx?: StepContext) =>
    commitWithUndo(s.store, ops, ctx?.intent, ctx?.signal);
  /** Plans a built-in change again on fresh state (what `file.persist` does after a lost race). */
  const replan = async (r: Replan): Promise<{ ops: BatchOp[] }> => {
    switch (r.planner) {
      case 'create-agent':
        return composeAgent(s, r.input, nowIso());
      case 'bundle':
        return planBundle(s, r.input.bundle, { ...r.input, now: nowIso() });
      case 'reconcile':
        return planReconcile(s, await detectInconsistencies(s));
    }
  };
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
        const { op, entity } = s.personalities.prepareCreate(i.personality, i);
        await assertNotHandWritten(s, 'personalities', entity.id);
        return { ...(await commit([op], ctx)), id: op.op === 'put' ? op.doc.id : '' };
      },
      update: (i: UpdateStepInput, ctx?: StepContext) => cascadingUpdate(s, 'personalities', i, ctx),
      restore: revert(s),
      remove: (i: DeleteStepInput, ctx?: StepContext) => referencedDelete(s, 'personalities', i, ctx),
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
              `${i.file ? `${i.file}: ` : ''}agent "${agent.id}": ${formatIssues(issues, { join: '; ', where: false })}`,
              issues,
            );
        }
        return { id: role.id, isNew: Boolean(i.role) };
      },
      /** Creates a role on its own (optionally from a template). */
      create: async (i: { role: Record<string, unknown>; template?: string } & File, ctx?: StepContext) => {
        const body = i.template ? await s.roles.fromTemplateInput(i.template, i.role) : i.role;
        const { op, entity } = s.roles.prepareCreate(body, i);
        await assertNotHandWritten(s, 'roles', entity.id);
        return { ...(await commit([op], ctx)), id: op.op === 'put' ? op.doc.id : '' };
      },
      update: (i: UpdateStepInput, ctx?: StepContext) => cascadingUpdate(s, 'roles', i, ctx),
      restore: revert(s),
      remove: (i: DeleteStepInput, ctx?: StepContext) => referencedDelete(s, 'roles', i, ctx),
      revert: revert(s),
    },
    agent: {
      /**
       * Plans the agent with its new personality and role (if any) and its resolved file:
       * the batch the persist step commits at once. Writes nothing.
       */
      compose: async (i: ComposeInput) => {
        const plan = await composeAgent(s, i, nowIso());
        return { ops: plan.ops, id: plan.id, replan: { planner: 'create-agent', input: i } };
      },
      /** Re-composes an agent after a patch and rewrites its resolved file, in one guarded commit. */
      update: async (
        i: { id: string; patch: unknown; expectedRevision?: number } & File,
        ctx?: StepContext,
      ) => ({ ...(await commitPlanned(s, () => planAgentUpdate(s, i), ctx)), id: i.id }),
      /** Re-composes every agent using a personality or role (the resolved files follow in the file step). */
      sync: async (i: { personalityId?: string; roleId?: string }, ctx?: StepContext) => {
        const agents = i.personalityId
          ? await s.agents.usingPersonality(i.personalityId)
          : await s.agents.usingRole(String(i.roleId));
        const ops: BatchOp[] = [];
        const issues: Issue[] = [];
        const modelOf = modelFinder(s);
        for (const a of agents) {
          const p = await s.personalities.require(a.personalityId);
          const r = await s.roles.require(a.roleId);
          // A role change must not leave an agent on a model that cannot serve the role any more.
          if (i.roleId) issues.push(...(await checkModel(s, s.agents.editable(a) as Normalized, r)));
          ops.push(...agentWithGuards(s.agents.prepareSync(a, p, r, await modelOf(a))));
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
        commitPlanned(s, () => planDeleteAgent(s, i.id, i), ctx),
      revert: revert(s),
    },
    model: {
      remove: async (i: { id: string; expectedRevision?: number }, ctx?: StepContext) =>
        commitPlanned(s, () => planDeleteModel(s, i.id, i), ctx),
      revert: revert(s),
    },
    file: {
      /** Writes the resolved configuration of each agent; its checksum is the agent's hash. */
      materialize: async (i: { agents: string[] }, ctx?: StepContext) => {
        const ops: BatchOp[] = [];
        const modelOf = modelFinder(s);
        for (const id of i.agents) {
          const a = await s.agents.get(id);
          if (!a) continue;
          const composed = s.agents.prepareSync(
            a,
            await s.personalities.require(a.personalityId),
            await s.roles.require(a.roleId),
            await modelOf(a),
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
      /**
       * Commits a planned batch (a bundle, a reconcile, a new agent) all-or-nothing. With
       * `replan` (what the built-in planning steps return), a commit that lost a race is
       * planned again on fresh state instead of failing.
       */
      persist: async (i: { ops: BatchOp[]; replan?: Replan | null }, ctx?: StepContext) => {
        const r = i.replan;
        return commitPlanned(s, r ? () => replan(r) : async () => ({ ops: i.ops }), ctx, { ops: i.ops });
      },
      revert: revert(s),
    },
    configuration: {
      planBundle: async (i: BundleInput, ctx?: StepContext) => {
        // Planning reads every entity the bundle names and every agent that uses them.
        allowFor(ctx, 2 * bundleSize(i.bundle));
        const again: Replan = { planner: 'bundle', input: i };
        return { ...(await planBundle(s, i.bundle, { ...i, now: nowIso() })), replan: again };
      },
      planReconcile: async () => {
        const again: Replan = { planner: 'reconcile', input: {} };
        return { ...(await planReconcile(s, await detectInconsistencies(s))), replan: again };
      },
      /** Fails the run if the touched entities are not consistent (refs, sync, checksums). */
      verify: async (
        i: {
          touched: Array<string[] | string>;
          written?: CommitResult['results'][] | null;
        },
        ctx?: StepContext,
      ) => {
        const touched = i.touched.flat();
        allowFor(ctx, touched.length);
        const written = i.written ? writtenBy(i.written.flat().filter(Boolean)) : undefined;
        const issues = await checkScope(s, { touched, written }, 'full');
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
async function undoAndResync(s: Services, undo: UndoOp[], ctx?: StepContext, unconfirmed = false) {
  allowFor(ctx, 2 * undo.length); // the undo and the re-sync of the agents it touched
  const restored = await applyUndo(s.store, undo, ctx?.intent, unconfirmed);
  // Every personality and role the undo names, written now or by an earlier try of this undo
  // that was cut off before its re-sync: their agents are re-composed if stale.
  const named = undo.map((u) => keyOf(u.kind, u.op === 'put' ? u.doc.id : u.id));
  const done = await resyncRestored(
    s,
    { ...restored, touched: [...new Set([...restored.touched, ...named])] },
    ctx,
  );
  // What someone else wrote since is theirs: left as it is, and said so.
  if (restored.skipped.length) throw skippedError(restored.skipped, restored.kept);
  return done;
}

async function resyncRestored(s: Services, restored: UndoableCommit, ctx?: StepContext) {
  const ids = (kind: string) =>
    new Set(restored.touched.filter((k) => k.startsWith(`${kind}/`)).map((k) => k.slice(kind.length + 1)));
  const personalities = ids('personalities');
  const roles = ids('roles');
  // An agent brought back may have been composed against a personality or role that has moved
  // on since (another run's change, or its undo): it is re-composed too.
  const agents = ids('agents');
  if (personalities.size === 0 && roles.size === 0 && agents.size === 0) return restored;
  const ops: BatchOp[] = [];
  const modelOf = modelFinder(s);
  for (const a of await s.agents.list()) {
    if (!personalities.has(a.personalityId) && !roles.has(a.roleId) && !agents.has(a.id)) continue;
    const [p, r] = await Promise.all([s.personalities.get(a.personalityId), s.roles.get(a.roleId)]);
    if (!p || !r) continue;
    const model = await modelOf(a);
    if (!s.agents.isStale(a, p, r, model)) continue;
    ops.push(...s.agents.prepareSync(a, p, r, model).ops);
  }
  const synced = await commitWithUndo(s.store, ops, ctx?.intent, ctx?.signal);
  return { undo: [...synced.undo, ...restored.undo], touched: [...restored.touched, ...synced.touched] };
}

type ComposeInput = {
  agent: Record<string, unknown>;
  personality?: unknown;
  role?: unknown;
  template?: string;
} & File;
type BundleInput = { bundle: unknown; prune?: boolean; expect?: Record<string, number> } & File;
/** How the persist step plans a change again after losing a race. */
type Replan =
  | { planner: 'create-agent'; input: ComposeInput }
  | { planner: 'bundle'; input: BundleInput }
  | { planner: 'reconcile'; input: Record<string, never> };
type DeleteStepInput = {
  id: string;
  mode?: 'block' | 'cascade' | 'reassign';
  to?: string | null;
  expectedRevision?: number | null;
};

/** Plans an agent with its new personality and role (if any) and its resolved file: one batch. */
async function composeAgent(s: Services, i: ComposeInput, now: string) {
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
    now,
  );
  return { ops: plan.ops, id: String(plan.agent.id) };
}

/** A personality or role update with every agent and resolved file it re-composes: one commit. */
async function cascadingUpdate(
  s: Services,
  kind: 'personalities' | 'roles',
  i: UpdateStepInput,
  ctx?: StepContext,
) {
  const done = await commitPlanned(s, () => planCascadingUpdate(s, kind, i), ctx);
  const written = done.results?.find((r) => r.kind === kind && r.id === i.id)?.doc;
  return { ...done, revision: written?.revision ?? null, doc: written ?? null };
}

/** Deleting a personality or role with its agents detached (block, cascade, reassign): one commit. */
async function referencedDelete(
  s: Services,
  kind: 'personalities' | 'roles',
  i: DeleteStepInput,
  ctx?: StepContext,
) {
  const how =
    i.mode === 'reassign'
      ? { mode: 'reassign' as const, to: String(i.to) }
      : { mode: i.mode ?? ('block' as const) };
  const plan = () =>
    planDeleteReferenced(s, kind, i.id, how, {
      expectedRevision: i.expectedRevision ?? undefined,
    });
  return commitPlanned(s, plan, ctx);
}

/** An agent patch re-composed against its (possibly new) personality and role, with its resolved file. */
async function planAgentUpdate(
  s: Services,
  i: { id: string; patch: unknown; expectedRevision?: number } & File,
) {
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
    throw validationError(`agent "${i.id}": ${formatIssues(issues, { join: '; ', where: false })}`, issues);
  return { ops: s.agents.compose(entity, p, r, current.revision, await modelEntry(s, entity)).ops };
}
