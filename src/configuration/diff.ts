import { canonicalJson } from '../domain/canonical.js';

export interface FieldChange {
  path: string;
  from?: unknown;
  to?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Field-by-field differences between two JSON values; arrays compare as wholes. */
export function diffFields(before: unknown, after: unknown, prefix = ''): FieldChange[] {
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffFields(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  const change: FieldChange = { path: prefix || '(root)' };
  if (before !== undefined) change.from = before;
  if (after !== undefined) change.to = after;
  return [change];
}
