import { z } from 'zod';
import type { Agent } from '../domain/agent.js';
import { formatIssues } from '../domain/common.js';
import {
  concurrentModification,
  type Issue,
  isTroupeError,
  TroupeError,
  validationError,
} from '../domain/errors.js';
import type { Model } from '../domain/model.js';
import type { Personality } from '../domain/personality.js';
import type { Role } from '../domain/role.js';
import { scrubStored } from '../domain/secrets.js';
import type { Normalized } from '../services/entity-service.js';
import { deadAliases, matchIn } from '../services/model-service.js';
import { keyOf } from '../storage/batch.js';
import { type BatchOp, type Kind, singular } from '../storage/store.js';
import { asNew } from './create-agent.js';
import { diffFields, type FieldChange } from './diff.js';
import type { Services } from './services.js';

/** A bundle: many entities of all kinds, applied all-or-nothing. */
export const Bundle = z.strictObject({
  $schema: z.string().optional(),
  personalities: z.array(z.unknown()).default([]),
  roles: z.array(z.unknown()).default([]),
  models: z.array(z.unknown()).default([]),
  agents: z.array(z.unknown()).default([]),
});
export type Bundle = z.input<typeof Bundle>;

export interface EntityChange {
  kind: Kind;
  id: string;
  action: 'create' | 'update' | 'delete' | 'unchanged' | 'sync';
  changes: FieldChange[];
}

export interface BundlePlan {
  ops: BatchOp[];
  changes: EntityChange[];
}

/** Where a parsed entry sat in the bundle (a symbol, so it never reaches the store). */
const AT = Symbol('bundle index');

type Staged = { next: Normalized & { revision: number }; current?: { revision: number } };

/**
 * Plans applying a bundle: creates what is new, updates what differs, re-composes every
 * agent affected, optionally prunes what the bundle leaves out. Every problem in the
 * bundle is collected (with its path, e.g. `agents[2].model.temperature`) before failing.
 */
export async function planBundle(
  s: Services,
  raw: unknown,
  opts: {
    file?: string | undefined;
    prune?: boolean | undefined;
    now: string;
    /**
     * The revision each `kind/id` must be at (0: must not exist), as the caller read it: a
     * create-only add, or an update merged onto what was read. Checked again on every re-plan.
     */
    expect?: Record<string, number> | undefined;
    /**
     * When each `kind/id` the plan creates was first created (a migration keeps it): its
     * `createdAt`, instead of now. An entity that exists keeps its own.
     */
    created?: Record<string, string> | undefined;
  },
): Promise<BundlePlan> {
  const file = opts.file;
  const top = Bundle.safeParse(raw);
  if (!top.success) {
    throw validationError(
      `${file ?? 'bundle'}: not a bundle: ${top.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      [
        {
          ...(file ? { file } : {}),
          path: '(root)',
          message: 'expected { personalities, roles, models, agents }',
        },
      ],
    );
  }
  const bundle = top.data;
  const issues: Issue[] = [];
  const ops: BatchOp[] = [];
  const changes: EntityChange[] = [];
  const staged = {
    personalities: new Map<string, Staged>(),
    roles: new Map<string, Staged>(),
    models: new Map<string, Staged>(),
  };

  // Revisions to hold: the caller's, and those entries carry (a `show -o json` pasted in).
  const expect: Record<string, number> = {};
  const checkExpected = (kind: Kind, id: string, current: { revision: number } | undefined) => {
    const expected = opts.expect?.[`${kind}/${id}`] ?? expect[`${kind}/${id}`];
    if (expected === undefined || expected === (current?.revision ?? 0)) return;
    if (expected === 0)
      throw new TroupeError(
        'ALREADY_EXISTS',
        `${singular[kind]} "${id}" already exists (revision ${current!.revision})`,
        {
          context: { kind, id, actualRevision: current!.revision },
        },
      );
    throw concurrentModification(singular[kind], id, expected, current?.revision ?? 0, { retryable: false });
  };

  const parseAll = (
    kind: 'personalities' | 'roles' | 'models' | 'agents',
    svc: { parse(i: unknown, w: object): Normalized },
  ) => {
    /** Each parsed entry keeps its index in the bundle, so later problems name the right one. */
    const out: Array<Normalized & { [AT]?: number }> = [];
    const seen = new Set<string>();
    bundle[kind].forEach((entry, i) => {
      try {
        const e = svc.parse(entry, { file });
        if (seen.has(e.id))
          issues.push({
            ...(file ? { file } : {}),
            path: `${kind}[${i}].id`,
            message: `duplicate id "${e.id}" in the bundle`,
          });
        seen.add(e.id);
        // A revision carried in an entry is the one it was read at: a whole number, 0 or more.
        const carried = (entry as { revision?: unknown } | null)?.revision;
        if (Number.isSafeInteger(carried) && (carried as number) >= 0)
          expect[`${kind}/${e.id}`] = carried as number;
        else if (carried !== undefined)
          issues.push({
            ...(file ? { file } : {}),
            path: `${kind}[${i}].revision`,
            entity: e.id,
            message: `must be a whole number of at least 0 (the revision it was read at), got ${JSON.stringify(carried)} (${singular[kind]} "${e.id}")`,
          });
        out.push(Object.defineProperty(e, AT, { value: i, enumerable: false }));
      } catch (err) {
        if (!isTroupeError(err) || err.code !== 'VALIDATION_FAILED') throw err;
        // Named by index (where it is in the file) and by id (which entity), when it has one.
        const id = (entry as { id?: unknown } | null)?.id;
        const which = typeof id === 'string' && id ? ` (${singular[kind]} "${id}")` : '';
        for (const is of err.issues)
          issues.push({
            ...is,
            path: `${kind}[${i}].${is.path}`,
            message: `${is.message}${which}`,
            ...(which ? { entity: id as string } : {}),
          });
      }
    });
    return out;
  };

  const stage = async (
    kind: 'personalities' | 'roles' | 'models',
    entries: Normalized[],
    read: (id: string) => Promise<{ current: { revision: number }; refusal?: unknown } | undefined>,
    editable: (e: never) => Record<string, unknown>,
  ) => {
    for (const e of entries) {
      // One edited by hand past its schema is replaced whole by the bundle's (a repair).
      const found = await read(e.id);
      const current = found?.current;
      checkExpected(kind, e.id, current);
      if (kind === 'roles' && s.roles.isPredefined(e.id)) {
        issues.push({
          ...(file ? { file } : {}),
          path: `roles[${bundle.roles.findIndex((r) => (r as Normalized)?.id === e.id)}].id`,
          message: `"${e.id}" is a predefined role and cannot be changed`,
        });
        continue;
      }
      // Shown as it was, but for a key a hand pasted into it.
      const before = current ? editable(scrubStored(current) as never) : undefined;
      const fieldChanges = diffFields(before ?? {}, e);
      if (current && !found.refusal && fieldChanges.length === 0) {
        staged[kind].set(e.id, {
          next: { ...(current as unknown as Normalized), revision: current.revision },
          current,
        });
        changes.push({ kind, id: e.id, action: 'unchanged', changes: [] });
        continue;
      }
      ops.push(
        current
          ? { op: 'put', kind, doc: e, expectedRevision: current.revision }
          : { op: 'put', kind, doc: e, create: true },
      );
      const next = {
        ...asNew<Normalized & { revision: number }>(e, opts.now),
        revision: (current?.revision ?? 0) + 1,
      };
      staged[kind].set(e.id, current ? { next, current } : { next });
      changes.push({ kind, id: e.id, action: current ? 'update' : 'create', changes: fieldChanges });
    }
  };

  const personalities = parseAll('personalities', s.personalities);
  const roles = parseAll('roles', s.roles);
  const models = parseAll('models', s.models);
  const agents = parseAll('agents', s.agents);
  await stage(
    'personalities',
    personalities,
    (id) => s.personalities.replaceable(id),
    (e) => s.personalities.editable(e),
  );
  await stage(
    'roles',
    roles,
    (id) => s.roles.replaceable(id),
    (e) => s.roles.editable(e),
  );
  await stage(
    'models',
    models,
    (id) => s.models.replaceable(id),
    (e) => s.models.editable(e),
  );

  const personalityOf = async (id: string) =>
    (staged.personalities.get(id)?.next as Personality | undefined) ?? (await s.personalities.get(id));
  const roleOf = async (id: string) => {
    const st = staged.roles.get(id)?.next;
    return st ? ({ predefined: false, ...st } as unknown as Role) : await s.roles.get(id);
  };
  // The bundle's own models first, then the user's, then the shipped ones: the same order
  // ModelService.find uses, so a name resolves to the same model on import as on create.
  const stored = await s.models.catalog();
  const catalog = [
    ...[...staged.models.values()].map((m) => m.next as unknown as Model),
    ...stored.filter((m) => !staged.models.has(m.id)),
  ];

  const modelFor = (settings: { provider: string; modelId: string }) =>
    matchIn(catalog, settings.modelId, settings.provider);

  // An alias that is another model's id would never name its own model (an id is matched first).
  for (const m of models)
    for (const d of deadAliases(m as never, catalog))
      issues.push({
        ...(file ? { file } : {}),
        entity: m.id,
        path: `models[${m[AT]}].aliases.${d.index}`,
        message: d.issue,
      });

  const composedAgents = new Set<string>();
  for (const a of agents) {
    const i = a[AT];
    const p = await personalityOf(String(a.personalityId));
    const r = await roleOf(String(a.roleId));
    const at = (f: string, message: string) =>
      issues.push({ ...(file ? { file } : {}), entity: a.id, path: `agents[${i}].${f}`, message });
    if (!p) at('personalityId', `personality "${a.personalityId}" is neither in the bundle nor stored`);
    if (!r) at('roleId', `role "${a.roleId}" is neither in the bundle nor stored`);
    const settings = a.model as { provider: string; modelId: string };
    const model = modelFor(settings);
    if (!model)
      at(
        'model.modelId',
        // A model file the store refuses to read would answer it: its problem is the one to fix.
        s.models.refusalFor(stored, settings.modelId)?.message ??
          `unknown ${settings.provider} model "${settings.modelId}"`,
      );
    if (!p || !r || !model) continue;
    for (const is of s.models.compatibility(settings as never, model, r)) at(is.path, is.message);
    const found = await s.agents.replaceable(a.id);
    const current = found?.current as Agent | undefined;
    checkExpected('agents', a.id, current);
    const composed = s.agents.compose(a, p, r, current?.revision ?? 0, model);
    const fieldChanges = diffFields(current ? s.agents.editable(scrubStored(current)) : {}, a);
    const unchanged =
      current &&
      !found?.refusal &&
      fieldChanges.length === 0 &&
      current.configurationHash === composed.agent.configurationHash &&
      current.syncStatus === 'synchronized' &&
      !s.agents.isStale(current, p, r, model);
    composedAgents.add(a.id);
    if (unchanged) {
      changes.push({ kind: 'agents', id: a.id, action: 'unchanged', changes: [] });
      continue;
    }
    ops.push(...composed.ops);
    changes.push({
      kind: 'agents',
      id: a.id,
      action: current ? (fieldChanges.length ? 'update' : 'sync') : 'create',
      changes: fieldChanges,
    });
  }

  const existingAgents = await s.agents.list();
  const keepIds = {
    personalities: new Set(personalities.map((e) => e.id)),
    roles: new Set(roles.map((e) => e.id)),
    agents: new Set(agents.map((e) => e.id)),
  };
  const pruneAgents = opts.prune ? existingAgents.filter((a) => !keepIds.agents.has(a.id)) : [];
  for (const a of pruneAgents) {
    ops.push(...s.agents.prepareDelete(a, (await s.files.get(a.id)) !== undefined));
    changes.push({ kind: 'agents', id: a.id, action: 'delete', changes: [] });
  }
  const pruned = new Set(pruneAgents.map((a) => a.id));
  for (const a of existingAgents) {
    if (composedAgents.has(a.id) || pruned.has(a.id)) continue;
    // Re-composed when what it is composed from changes: its personality or role, or its model
    // (changed, or a model of the directory now standing in for a shipped one).
    const moved = (st: Staged | undefined) =>
      st?.current !== undefined && st.next.revision !== st.current.revision;
    const model = modelFor(a.model);
    const mStaged = model ? staged.models.get(model.id) : undefined;
    const modelMoved = mStaged !== undefined && mStaged.next.revision !== mStaged.current?.revision;
    if (
      !moved(staged.personalities.get(a.personalityId)) &&
      !moved(staged.roles.get(a.roleId)) &&
      !modelMoved
    )
      continue;
    const p = await personalityOf(a.personalityId);
    const r = await roleOf(a.roleId);
    if (!p || !r) continue;
    ops.push(...s.agents.prepareSync(a as Agent, p, r, modelFor(a.model)).ops);
    changes.push({ kind: 'agents', id: a.id, action: 'sync', changes: [] });
  }
  if (opts.prune) {
    const prunable = [
      {
        kind: 'personalities' as const,
        label: 'personality',
        field: 'personalityId' as const,
        svc: s.personalities,
        list: await s.personalities.list(),
      },
      {
        kind: 'roles' as const,
        label: 'role',
        field: 'roleId' as const,
        svc: s.roles,
        list: (await s.roles.list()).filter((r) => !r.predefined),
      },
    ];
    for (const { kind, label, field, svc, list } of prunable) {
      for (const e of list) {
        if (keepIds[kind].has(e.id)) continue;
        // The agents there will be: the bundle's, as it gives them, and the stored ones it keeps.
        const inBundle = agents.filter((a) => a[field] === e.id);
        const kept = existingAgents.filter(
          (a) => a[field] === e.id && !pruned.has(a.id) && !keepIds.agents.has(a.id),
        );
        const users = [...inBundle.map((a) => a.id), ...kept.map((a) => a.id)];
        if (users.length) {
          const first = inBundle[0];
          issues.push({
            ...(file ? { file } : {}),
            path: first ? `agents[${first[AT]}].${field}` : kind,
            entity: e.id,
            message: `cannot prune ${label} "${e.id}": used by ${users.join(', ')} (add it to the bundle, or leave out --prune)`,
          });
          continue;
        }
        ops.push(svc.prepareDelete(e as never));
        changes.push({ kind, id: e.id, action: 'delete', changes: [] });
      }
    }
  }
  if (issues.length) {
    throw new TroupeError(
      'VALIDATION_FAILED',
      `${file ?? 'bundle'}: ${issues.length} problem${issues.length > 1 ? 's' : ''}, nothing applied:\n${formatIssues(issues, { indent: '  ', where: false })}`,
      { issues, context: { file } },
    );
  }
  // A create keeps when it was first created elsewhere, if given (the store stamps only creates).
  const created = opts.created;
  if (!created) return { ops, changes };
  return {
    ops: ops.map((op) => {
      const at = op.op === 'put' ? created[keyOf(op.kind, op.doc.id)] : undefined;
      return at ? { ...op, createdAt: at } : op;
    }),
    changes,
  };
}
