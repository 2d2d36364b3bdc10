import { TroupeError } from '../domain/errors.js';
import type { Personality } from '../domain/personality.js';
import type { Role } from '../domain/role.js';
import type { BatchOp } from '../storage/store.js';
import { type ConflictEntry, type ConflictStrategy, type MergeRule, resolveConflict } from './conflict.js';
import { checkModel, modelFinder } from './create-agent.js';
import type { Services } from './services.js';

export interface UpdateStepInput {
  id: string;
  patch: unknown;
  /** The revision the caller read; a different stored revision is a conflict. */
  expectedRevision?: number | undefined;
  strategy?: ConflictStrategy | undefined;
  rules?: Record<string, MergeRule> | undefined;
  defaultRule?: MergeRule | undefined;
  /** The state the caller read, for a three-way merge; else taken from the store's backups. */
  base?: Record<string, unknown> | undefined;
  file?: string | undefined;
}

/**
 * Plans updating a personality or role together with every agent that uses it and every
 * resolved file: one batch, guarded by the revisions it read (the entity, each agent, the
 * other side of each agent). A conflict with the caller's expected revision is rejected, or
 * settled by the chosen strategy with a conflict log. Planning again on fresh state is how a
 * lost race is answered; nothing here writes.
 */
export async function planCascadingUpdate(s: Services, kind: 'personalities' | 'roles', i: UpdateStepInput) {
  const svc = kind === 'personalities' ? s.personalities : s.roles;
  const current = await svc.require(i.id);
  let patch = i.patch;
  let conflicts: ConflictEntry[] = [];
  const strategy = i.strategy ?? 'reject';
  if (i.expectedRevision != null && i.expectedRevision !== current.revision) {
    // A revision it has not reached yet was never read: there is no conflict to settle, only a
    // mistaken number, refused under every strategy.
    if (strategy === 'reject' || i.expectedRevision > current.revision) {
      throw new TroupeError(
        'CONCURRENT_MODIFICATION',
        i.expectedRevision > current.revision
          ? `${svc.label} "${i.id}" has not reached revision ${i.expectedRevision} (expected revision ${i.expectedRevision}, found ${current.revision}): no conflict to settle; read it again`
          : `${svc.label} "${i.id}" was modified concurrently: expected revision ${i.expectedRevision}, found ${current.revision}`,
        {
          retryable: false,
          context: { kind, id: i.id, expectedRevision: i.expectedRevision, actualRevision: current.revision },
        },
      );
    }
    const base =
      i.base ??
      (await s.store.readBackup?.(kind, i.id, i.expectedRevision).then((d) => d && svc.editable(d as never)));
    // Without the state the caller read, a field the other writer never touched cannot be told
    // from one it changed: under first-write-wins the caller's change would be dropped as a
    // conflict it is not. (field-merge without a base settles every field it sets by its rules,
    // as documented; last-write-wins needs no base.)
    if (base === undefined && strategy === 'first-write-wins') {
      throw new TroupeError(
        'CONCURRENT_MODIFICATION',
        `${svc.label} "${i.id}" was modified concurrently: expected revision ${i.expectedRevision}, found ${current.revision}; revision ${i.expectedRevision} is no longer kept, so the fields changed since cannot be told from yours: read it again and re-apply your change, or settle it with last-write-wins or field-merge`,
        {
          retryable: false,
          context: {
            kind,
            id: i.id,
            expectedRevision: i.expectedRevision,
            actualRevision: current.revision,
            baseMissing: true,
          },
        },
      );
    }
    const settled = resolveConflict({
      base,
      theirs: svc.editable(current as never),
      patch,
      strategy,
      rules: i.rules,
      defaultRule: i.defaultRule,
    });
    patch = settled.result;
    conflicts = settled.log;
  }
  const { op, entity } = (svc as typeof s.personalities).prepareUpdate(current as never, patch, {
    file: i.file ?? '',
  });
  const ops: BatchOp[] = [op];
  const unchanged = svc.entityHashOf(current) === svc.entityHashOf(entity as never);
  const agents =
    kind === 'personalities' ? await s.agents.usingPersonality(i.id) : await s.agents.usingRole(i.id);
  if (unchanged) {
    // Nothing to re-compose: the commit turns the identical put into a guard and writes nothing.
    return { ops, kind, id: i.id, conflicts, agents: [] as string[], unchanged: true };
  }
  // As it will be stored: the patched fields (a removed one stays removed) with the next revision.
  const updated = {
    ...entity,
    ...(kind === 'roles' ? { predefined: false } : {}),
    revision: current.revision + 1,
    createdAt: current.createdAt,
    updatedAt: current.updatedAt,
  } as unknown as Personality & Role;
  const issues = [];
  const modelOf = modelFinder(s);
  for (const a of agents) {
    const [p, r] =
      kind === 'personalities'
        ? [updated as Personality, await s.roles.require(a.roleId)]
        : [await s.personalities.require(a.personalityId), updated as Role];
    const editable = s.agents.editable(a) as never;
    // A role change must not leave an agent on a model that cannot serve the role any more.
    if (kind === 'roles') issues.push(...(await checkModel(s, editable, r)));
    const composed = s.agents.compose(editable, p, r, a.revision, await modelOf(editable));
    ops.push(...composed.ops);
  }
  if (issues.length) {
    throw new TroupeError(
      'VALIDATION_FAILED',
      `role "${i.id}" would no longer suit its agents' models:\n${issues.map((x) => `  agent "${x.entity}": ${x.path}: ${x.message}`).join('\n')}`,
      { issues, retryable: false },
    );
  }
  // No other agent may take it up meanwhile: one created (or moved onto it) after this plan read
  // its agents was composed against the old version, and would be left stale by this commit.
  // The commit then fails, and the update is planned again with that agent too.
  ops.push({
    op: 'absent',
    kind: 'agents',
    where: { [kind === 'personalities' ? 'personalityId' : 'roleId']: i.id },
    except: agents.map((a) => a.id),
  });
  return { ops, kind, id: i.id, conflicts, agents: agents.map((a) => a.id), unchanged: false };
}
