import { z } from 'zod';
import { formatIssues } from '../domain/common.js';
import { type Issue, isTroupeError, TroupeError, validationError } from '../domain/errors.js';
import type { Role } from '../domain/role.js';
import type { StepContext } from '../orchestration/handlers.js';
import { defineOperations, operation } from '../orchestration/operations.js';
import type { Composed } from '../services/agent-service.js';
import type { Normalized } from '../services/entity-service.js';
import { keyOf } from '../storage/batch.js';
import type { BatchOp } from '../storage/store.js';
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
import type { Replan } from './operation-inputs.js';
import * as I from './operation-inputs.js';
import { commitPlanned } from './planned-commit.js';
import { requireRef } from './references.js';
import type { Services } from './services.js';
import {
  applyUndo,
  commitWithUndo,
  skippedError,
  starved,
  type UndoableCommit,
  type UndoOp,
  writeOptions,
} from './undo.js';
import { planCascadingUpdate } from './update-step.js';
import { allowFor, bundleSize } from './work-allowance.js';

type File = { file?: string | null | undefined };
/** Where a parse is reported: the file, if the step was given one. */
const at = (i: File) => ({ file: i.file ?? undefined });
const revisionOf = (i: { expectedRevision?: number | null | undefined }) => ({
  expectedRevision: i.expectedRevision ?? undefined,
});
/** The one check's output: which entity, and whether the change creates it. */
const Checked = z.object({ id: z.string(), isNew: z.boolean() });

/** An agent write with its guards: a personality or role changed meanwhile fails the commit. */
const agentWithGuards = (c: Composed): BatchOp[] => [c.ops[0]!, ...c.guards];

/** Who refers to a personality or role in a check: the agent being created, if named. */
const referrer = (i: { agentId?: string | null | undefined }) =>
  i.agentId ? `agent "${i.agentId}"` : 'step input';

/** A reference a check needs: missing is VALIDATION_FAILED naming the field, never "null" not found. */
function required(id: unknown, field: string, i: { agentId?: string | null | undefined } & File): string {
  if (typeof id === 'string' && id) return id;
  const where = `${i.file ? `${i.file}: ` : ''}${referrer(i)}`;
  throw validationError(`${where}: ${field} is required`, [
    { path: field, message: 'is required', ...(i.file ? { file: i.file } : {}) },
  ]);
}

/** Compensation shared by every writing step: apply the inverse of what it committed. */
const revert = (s: Services) =>
  operation({
    input: I.Undo,
    handler: ({ output }, ctx) => undoAndResync(s, output.undo, ctx, output.unconfirmed === true),
  });

/**
 * The operations the built-in workflows call, by service. Each writing operation commits
 * once and returns its inverse (`undo`) so its compensation is exact; the runner knows none
 * of this — it only sees services and operations.
 */
export function buildOperations(s: Services, nowIso: () => string) {
  const commit = (ops: BatchOp[], ctx?: StepContext) =>
    commitWithUndo(s.store, ops, ctx?.intent, writeOptions(ctx));
  /** Plans a built-in change again on fresh state (what `file.persist` does after a lost race). */
  const replan = async (r: Replan): Promise<{ ops: BatchOp[] }> => {
    switch (r.planner) {
      case 'create-agent':
        return composeAgent(s, r.input, nowIso());
      case 'bundle':
        return planBundle(s, r.input.bundle, bundleOptions(r.input, nowIso()));
      case 'reconcile':
        return planReconcile(s, await detectInconsistencies(s));
    }
  };
  return defineOperations({
    personality: {
      /** Validates a new personality, or checks the referenced one exists. Writes nothing. */
      check: operation({
        input: I.PersonalityCheck,
        output: Checked,
        handler: async (i) => {
          if (i.personality) return { id: s.personalities.parse(i.personality, at(i)).id, isNew: true };
          const p = await requireRef(s.personalities, required(i.id, 'personalityId', i), {
            entity: referrer(i),
            field: 'personalityId',
            file: i.file ?? undefined,
          });
          return { id: p.id, isNew: false };
        },
      }),
      /** Creates a personality on its own. */
      create: operation({
        input: I.PersonalityCreate,
        handler: async (i, ctx) => {
          const { op, entity } = s.personalities.prepareCreate(i.personality, at(i));
          await assertNotHandWritten(s, 'personalities', entity.id);
          return { ...(await commit([op], ctx)), id: op.op === 'put' ? op.doc.id : '' };
        },
      }),
      update: operation({
        input: I.EntityUpdate,
        handler: (i, ctx) => cascadingUpdate(s, 'personalities', i, ctx),
      }),
      restore: revert(s),
      remove: operation({
        input: I.ReferencedDelete,
        handler: (i, ctx) => referencedDelete(s, 'personalities', i, ctx),
      }),
      revert: revert(s),
    },
    role: {
      /**
       * Validates a new role (from a template if given) or checks the referenced one exists,
       * then checks the agent's model has what the role needs. Writes nothing.
       */
      check: operation({
        input: I.RoleCheck,
        output: Checked,
        handler: async (i) => {
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
      }),
      /** Creates a role on its own (optionally from a template). */
      create: operation({
        input: I.RoleCreate,
        handler: async (i, ctx) => {
          const body = i.template ? await s.roles.fromTemplateInput(i.template, i.role) : i.role;
          const { op, entity } = s.roles.prepareCreate(body, at(i));
          await assertNotHandWritten(s, 'roles', entity.id);
          return { ...(await commit([op], ctx)), id: op.op === 'put' ? op.doc.id : '' };
        },
      }),
      update: operation({ input: I.EntityUpdate, handler: (i, ctx) => cascadingUpdate(s, 'roles', i, ctx) }),
      restore: revert(s),
      remove: operation({
        input: I.ReferencedDelete,
        handler: (i, ctx) => referencedDelete(s, 'roles', i, ctx),
      }),
      revert: revert(s),
    },
    agent: {
      /**
       * Plans the agent with its new personality and role (if any) and its resolved file:
       * the batch the persist step commits at once. Writes nothing.
       */
      compose: operation({
        input: I.Compose,
        handler: async (i) => {
          const plan = await composeAgent(s, i, nowIso());
          const again: Replan = { planner: 'create-agent', input: i };
          return { ops: plan.ops, id: plan.id, replan: again };
        },
      }),
      /** Re-composes an agent after a patch and rewrites its resolved file, in one guarded commit. */
      update: operation({
        input: I.AgentUpdate,
        handler: async (i, ctx) => ({
          ...(await commitPlanned(s, () => planAgentUpdate(s, i), ctx)),
          id: i.id,
        }),
      }),
      /** Re-composes every agent using a personality or role (the resolved files follow in the file step). */
      sync: operation({
        input: I.AgentSync,
        handler: async (i, ctx) => {
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
      }),
      /** Moves the agents off a personality/role: refused, cascaded (deleted) or reassigned. */
      detach: operation({
        input: I.AgentDetach,
        handler: async (i, ctx) => {
          const how =
            i.mode === 'reassign' ? { mode: 'reassign' as const, to: String(i.to) } : { mode: i.mode };
          const plan = await planDeleteReferenced(s, i.kind, i.id, how, {
            expectedRevision: i.expectedRevision ?? undefined,
          });
          const agentOps = plan.ops.filter(
            (o) => o.kind === 'agents' || o.kind === 'resolved' || o.op === 'check',
          );
          return { ...(await commit(agentOps, ctx)), deleted: plan.deleted, reassigned: plan.reassigned };
        },
      }),
      remove: operation({
        input: I.Delete,
        handler: (i, ctx) => commitPlanned(s, () => planDeleteAgent(s, i.id, revisionOf(i)), ctx),
      }),
      revert: revert(s),
    },
    model: {
      remove: operation({
        input: I.Delete,
        handler: (i, ctx) => commitPlanned(s, () => planDeleteModel(s, i.id, revisionOf(i)), ctx),
      }),
      revert: revert(s),
    },
    file: {
      /** Writes the resolved configuration of each agent; its checksum is the agent's hash. */
      materialize: operation({
        input: I.Materialize,
        handler: async (i, ctx) => {
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
      }),
      /**
       * Commits a planned batch (a bundle, a reconcile, a new agent) all-or-nothing. With
       * `replan` (what the built-in planning steps return), a commit that lost a race is
       * planned again on fresh state instead of failing.
       */
      persist: operation({
        input: I.Persist,
        handler: (i, ctx) => {
          // A step's own batch (a workflow of the user's) writes only what would read back valid.
          checkWritable(s, i.ops);
          const r = i.replan;
          return commitPlanned(
            s,
            r ? () => replan(r) : async () => ({ ops: i.ops }),
            ctx,
            { ops: i.ops },
            {
              replansCreates: r !== undefined,
            },
          );
        },
      }),
      revert: revert(s),
    },
    configuration: {
      planBundle: operation({
        input: I.Bundle,
        handler: async (i, ctx) => {
          // Planning reads every entity the bundle names and every agent that uses them.
          allowFor(ctx, 2 * bundleSize(i.bundle));
          const again: Replan = { planner: 'bundle', input: i };
          return { ...(await planBundle(s, i.bundle, bundleOptions(i, nowIso()))), replan: again };
        },
      }),
      planReconcile: operation({
        input: I.NoInput,
        handler: async () => {
          const again: Replan = { planner: 'reconcile', input: {} };
          return { ...(await planReconcile(s, await detectInconsistencies(s))), replan: again };
        },
      }),
      /** Fails the run if the touched entities are not consistent (refs, sync, checksums). */
      verify: operation({
        input: I.Verify,
        handler: async (i, ctx) => {
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
      }),
    },
  });
}

/**
 * Compensation shared by every writing step: apply the inverse of what it committed, then
 * re-compose (agent and resolved file) every agent whose personality or role the undo
 * rewrote, so a rollback leaves the directory consistent, not merely restored. Idempotent:
 * a recovery may run it again after a crash between the two commits.
 */
async function undoAndResync(s: Services, undo: UndoOp[], ctx?: StepContext, unconfirmed = false) {
  allowFor(ctx, 2 * undo.length); // the undo and the re-sync of the agents it touched
  const restored = await applyUndo(s.store, undo, ctx?.intent, {
    unconfirmed,
    fence: ctx?.fence,
    recovering: ctx?.recovering,
  });
  // Every personality and role the undo names, written now or by an earlier try of this undo
  // that was cut off before its re-sync: their agents are re-composed if stale.
  const named = undo.map((u) => keyOf(u.kind, u.op === 'put' ? u.doc.id : u.id));
  const done = await resyncRestored(
    s,
    { ...restored, touched: [...new Set([...restored.touched, ...named])] },
    ctx,
  ).catch((e: unknown) => {
    // The undo stands; re-composing its agents lost a race: recovery runs the (idempotent) undo
    // again, and with it the re-sync, once the other writers are done.
    if (isTroupeError(e) && e.code === 'CONCURRENT_MODIFICATION' && e.context.heldEpoch === undefined)
      throw starved(e, 're-composing the agents an undo touched lost a race');
    throw e;
  });
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
  const synced = await commitWithUndo(s.store, ops, ctx?.intent, writeOptions(ctx));
  return { undo: [...synced.undo, ...restored.undo], touched: [...restored.touched, ...synced.touched] };
}

/** The built-in operations, by service: what the built-in workflows are typed against. */
export type BuiltInOperations = ReturnType<typeof buildOperations>['table'];

/** The planner's options from a bundle step's input. */
const bundleOptions = (i: I.Bundle, now: string) => ({
  prune: i.prune ?? undefined,
  expect: i.expect ?? undefined,
  created: i.created ?? undefined,
  file: i.file ?? undefined,
  now,
});

/** Plans an agent with its new personality and role (if any) and its resolved file: one batch. */
async function composeAgent(s: Services, i: I.Compose, now: string) {
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
  i: I.EntityUpdate,
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
  i: I.ReferencedDelete,
  ctx?: StepContext,
) {
  const how =
    i.mode === 'reassign'
      ? { mode: 'reassign' as const, to: typeof i.to === 'string' ? i.to : '' } // '' names none: refused
      : { mode: i.mode ?? ('block' as const) };
  const plan = () =>
    planDeleteReferenced(s, kind, i.id, how, {
      expectedRevision: i.expectedRevision ?? undefined,
    });
  return commitPlanned(s, plan, ctx);
}

/** An agent patch re-composed against its (possibly new) personality and role, with its resolved file. */
async function planAgentUpdate(s: Services, i: I.AgentUpdate) {
  // The catalog (for the model's check and content hash) read with the agent, in one round trip.
  const catalog = s.models.catalogAhead();
  const current = await s.agents.require(i.id);
  const entity = s.agents.patched(current, i.patch, i);
  const where = { entity: `agent "${i.id}"`, file: i.file };
  const p = await requireRef(s.personalities, String(entity.personalityId), {
    ...where,
    field: 'personalityId',
  });
  const r = await requireRef(s.roles, String(entity.roleId), { ...where, field: 'roleId' });
  const issues = await checkModel(s, entity, r, i.file, catalog);
  if (issues.length)
    throw validationError(`agent "${i.id}": ${formatIssues(issues, { join: '; ', where: false })}`, issues);
  return { ops: s.agents.compose(entity, p, r, current.revision, await modelEntry(s, entity, catalog)).ops };
}

/**
 * Every document a batch puts must read back as a valid entity of its kind (its schema, no key
 * pasted into it), as it would after any write through the services: `file.persist` takes its
 * batch from a step's input, which a workflow of the user's writes as it likes.
 */
function checkWritable(s: Services, ops: readonly BatchOp[]): void {
  const readers = {
    personalities: s.personalities,
    roles: s.roles,
    agents: s.agents,
    models: s.models,
    resolved: s.files,
  };
  for (const op of ops) if (op.op === 'put') readers[op.kind].checkWritable(op.doc);
}
