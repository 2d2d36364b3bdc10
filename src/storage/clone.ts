/** Documents are JSON: a plain recursive copy, several times faster than structuredClone. */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k in v) out[k] = cloneJson((v as Record<string, unknown>)[k]);
    return out as T;
  }
  return v;
}
