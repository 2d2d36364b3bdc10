import { z } from 'zod';
import { TroupeError } from '../domain/errors.js';
import { PersonalityInput } from '../domain/personality.js';
import { RoleInput } from '../domain/role.js';
import { suggest } from '../domain/suggest.js';

/** The schema inside optional, nullable and default wrappers. */
function unwrapped(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { unwrap?: () => z.ZodType };
  while (!(s instanceof z.ZodObject) && typeof s.unwrap === 'function') s = s.unwrap() as typeof s;
  return s;
}

/** Every dotted path of a field an update can change: what a merge rule may name. */
export function fieldPaths(schema: z.ZodType, prefix = ''): string[] {
  const s = unwrapped(schema);
  if (!(s instanceof z.ZodObject)) return prefix ? [prefix] : [];
  return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    const inner = fieldPaths(v, path);
    return unwrapped(v) instanceof z.ZodObject ? inner : [path];
  });
}

const PATHS = {
  personality: fieldPaths(PersonalityInput).filter((p) => p !== 'id' && p !== '$schema'),
  role: fieldPaths(RoleInput).filter((p) => p !== 'id' && p !== '$schema'),
};

/**
 * Refuses a merge rule whose path names no field of the entity (a typo such as
 * `bigFive.opennes` would otherwise fall back to the default rule without a word).
 */
export function checkRulePaths(kind: keyof typeof PATHS, rules: Record<string, unknown> | undefined): void {
  const known = PATHS[kind];
  for (const path of Object.keys(rules ?? {})) {
    if (known.includes(path)) continue;
    const close = suggest(path, known);
    const hint = close.length
      ? `did you mean ${close.map((c) => `"${c}"`).join(', ')}?`
      : `fields are ${known.join(', ')}`;
    throw new TroupeError('USAGE', `merge rule "${path}" names no field of a ${kind}; ${hint}`, {
      issues: [{ path: `rules.${path}`, message: `names no field of a ${kind}; ${hint}` }],
      context: { kind, path, suggestions: close },
    });
  }
}
