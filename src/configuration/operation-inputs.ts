import { z } from 'zod';
import type { BatchOp, CommitResult } from '../storage/store.js';
import { MERGE_RULES, STRATEGIES } from './conflict.js';
import type { UndoableCommit } from './undo.js';

/**
 * What each built-in operation takes, checked before its handler runs (so a hand-written
 * workflow that feeds an operation the wrong thing fails naming the step and field). The
 * entity bodies inside stay `unknown` here: the entity's own schema checks them, with the
 * messages the rest of troupe gives.
 */
/** Absent or null (a workflow input left out), read as undefined. */
const opt = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);
const file = opt(z.string());
const id = z.string().min(1);
const revision = opt(z.number().int().nonnegative());
/** A value a step passes on to the next as it got it (the planner's own structures). */
const passed = <T>(what: string, ok: (v: unknown) => boolean) =>
  z.custom<T>(ok, { message: `must be ${what}` });
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

const opsList = passed<BatchOp[]>('a list of planned writes', Array.isArray);

export const PersonalityCheck = z.looseObject({
  personality: z.unknown().optional(),
  id: opt(z.string()),
  agentId: opt(z.string()),
  file,
});
export const PersonalityCreate = z.looseObject({ personality: z.unknown(), file });

export const RoleCheck = z.looseObject({
  role: z.unknown().optional(),
  template: opt(z.string()),
  id: opt(z.string()),
  agent: opt(z.record(z.string(), z.unknown())),
  agentId: opt(z.string()),
  file,
});
export const RoleCreate = z.looseObject({
  role: z.record(z.string(), z.unknown()),
  template: opt(z.string()),
  file,
});

export const EntityUpdate = z.looseObject({
  id,
  patch: z.unknown(),
  expectedRevision: revision,
  strategy: opt(z.enum(STRATEGIES)),
  rules: opt(z.record(z.string(), z.enum(MERGE_RULES))),
  defaultRule: opt(z.enum(MERGE_RULES)),
  base: opt(z.record(z.string(), z.unknown())),
  file,
});
export type EntityUpdate = z.output<typeof EntityUpdate>;

const mode = z.enum(['block', 'cascade', 'reassign']);
export const ReferencedDelete = z.looseObject({
  id,
  mode: opt(mode),
  to: opt(z.string()),
  expectedRevision: revision,
});
export type ReferencedDelete = z.output<typeof ReferencedDelete>;
export const Delete = z.looseObject({ id, expectedRevision: revision });

/** A compensation's input when it reads only the output (`needs: 'output'`). */
export const Undo = z.looseObject({
  output: passed<UndoableCommit>(
    'a step output with its undo',
    (v) => isObject(v) && Array.isArray((v as UndoableCommit).undo),
  ),
});

export const Compose = z.looseObject({
  agent: z.record(z.string(), z.unknown()),
  personality: z.unknown().optional(),
  role: z.unknown().optional(),
  template: opt(z.string()),
  file,
});
export type Compose = z.output<typeof Compose>;

export const AgentUpdate = z.looseObject({ id, patch: z.unknown(), expectedRevision: revision, file });
export type AgentUpdate = z.output<typeof AgentUpdate>;
export const AgentSync = z
  .looseObject({ personalityId: opt(z.string()), roleId: opt(z.string()) })
  .refine((i) => Boolean(i.personalityId) !== Boolean(i.roleId), {
    message: 'give either personalityId or roleId',
  });
export const AgentDetach = z.looseObject({
  kind: z.enum(['personalities', 'roles']),
  id,
  mode,
  to: opt(z.string()),
  expectedRevision: revision,
});

export const Materialize = z.looseObject({ agents: z.array(z.string()) });

export const Bundle = z.looseObject({
  bundle: z.unknown(),
  prune: opt(z.boolean()),
  expect: opt(z.record(z.string(), z.number())),
  created: opt(z.record(z.string(), z.iso.datetime())),
  file,
});
export type Bundle = z.output<typeof Bundle>;

/** How the persist step plans a change again after losing a race. */
export type Replan =
  | { planner: 'create-agent'; input: Compose }
  | { planner: 'bundle'; input: Bundle }
  | { planner: 'reconcile'; input: Record<string, never> };
const replan = passed<Replan>(
  'a replan from a planning step',
  (v) => isObject(v) && typeof (v as Replan).planner === 'string',
);
export const Persist = z.looseObject({ ops: opsList, replan: opt(replan) });

export const Verify = z.looseObject({
  touched: z.array(z.union([z.array(z.string()), z.string()])),
  written: z
    .array(passed<CommitResult['results']>('commit results', (v) => v == null || Array.isArray(v)))
    .nullish(),
});

export const NoInput = z.unknown();
