/** Whether a value is a plain object (what a JSON merge patch recurses into). */
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: changed fields, `null` for
 * removed ones, objects recursed into, arrays replaced whole. Empty when nothing changed.
 */
export function mergePatchBetween(
  from: Record<string, unknown>,
  to: Record<string, unknown>,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    const was = from[k];
    if (isObject(was) && isObject(v)) {
      const inner = mergePatchBetween(was, v);
      if (Object.keys(inner).length) patch[k] = inner;
    } else if (JSON.stringify(was) !== JSON.stringify(v)) patch[k] = v;
  }
  return patch;
}
