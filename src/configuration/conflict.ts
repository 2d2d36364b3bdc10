import { canonicalJson } from '../domain/canonical.js';
import { mergePatch } from '../services/merge-patch.js';

export const STRATEGIES = ['reject', 'last-write-wins', 'first-write-wins', 'field-merge'] as const;
export type ConflictStrategy = (typeof STRATEGIES)[number];
export const MERGE_RULES = ['max', 'average', 'first-non-null', 'last'] as const;
export type MergeRule = (typeof MERGE_RULES)[number];

/** One field both writers changed, and how it was settled. */
export interface ConflictEntry {
  path: string;
  base?: unknown;
  theirs: unknown;
  mine: unknown;
  resolved: unknown;
  rule: ConflictStrategy | MergeRule;
}

export interface ConflictInput {
  /** The state the caller read (its expected revision), when known. */
  base?: Record<string, unknown> | undefined;
  /** The state now stored, written by the other writer. */
  theirs: Record<string, unknown>;
  /** The caller's merge patch. */
  patch: unknown;
  strategy: Exclude<ConflictStrategy, 'reject'>;
  /** field-merge: rule per dotted path; others use `defaultRule` (default "last"). */
  rules?: Record<string, MergeRule> | undefined;
  defaultRule?: MergeRule | undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function leaves(v: unknown, prefix = ''): string[] {
  if (!isObj(v)) return [prefix];
  return Object.entries(v).flatMap(([k, x]) => leaves(x, prefix ? `${prefix}.${k}` : k));
}

const at = (v: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), v);

function setAt(target: Record<string, unknown>, path: string, value: unknown) {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(o[k])) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (value === undefined || value === null) delete o[last];
  else o[last] = value;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

function mergeValue(rule: MergeRule, theirs: unknown, mine: unknown): unknown {
  switch (rule) {
    case 'max':
      return typeof theirs === 'number' && typeof mine === 'number' ? Math.max(theirs, mine) : mine;
    case 'average': {
      if (typeof theirs !== 'number' || typeof mine !== 'number') return mine;
      const avg = (theirs + mine) / 2;
      return Number.isInteger(theirs) && Number.isInteger(mine) ? Math.round(avg) : avg;
    }
    case 'first-non-null':
      return theirs ?? mine;
    case 'last':
      return mine ?? theirs;
  }
}

/**
 * Settles a write that lost a race. A field conflicts when the caller's patch changes it and
 * the other writer changed it too (since `base`, or — without a base — to a different value).
 */
export function resolveConflict(input: ConflictInput): {
  result: Record<string, unknown>;
  log: ConflictEntry[];
} {
  const { base, theirs, patch, strategy } = input;
  const mineFull = mergePatch(theirs, patch) as Record<string, unknown>;
  const result = structuredClone(mineFull);
  const log: ConflictEntry[] = [];
  for (const path of leaves(patch)) {
    const t = at(theirs, path);
    const m = at(mineFull, path);
    const theyChanged = base ? !same(at(base, path), t) : true;
    if (!theyChanged || same(t, m)) continue;
    if (base && same(at(base, path), m)) {
      // The patch repeats the value it read: only the other writer changed this field.
      setAt(result, path, t);
      continue;
    }
    let resolved: unknown;
    let rule: ConflictEntry['rule'] = strategy;
    if (strategy === 'last-write-wins') resolved = m;
    else if (strategy === 'first-write-wins') resolved = t;
    else {
      rule = input.rules?.[path] ?? input.defaultRule ?? 'last';
      resolved = mergeValue(rule, t, m);
    }
    setAt(result, path, resolved);
    const entry: ConflictEntry = { path, theirs: t, mine: m, resolved, rule };
    if (base) entry.base = at(base, path);
    log.push(entry);
  }
  return { result, log };
}
