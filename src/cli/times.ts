/** Fields that hold a moment as epoch milliseconds in run records and results. */
const MOMENTS = new Set([
  'at',
  'createdAt',
  'updatedAt',
  'startedAt',
  'completedAt',
  'finishedAt',
  'deadline',
]);

/**
 * A copy for --json output with every moment written as ISO 8601 (`2026-12-01T19:26:46.000Z`),
 * as entity timestamps already are; durations (`durationMs`) stay numbers.
 */
export function isoTimes<T>(value: T): T {
  if (Array.isArray(value)) return value.map(isoTimes) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] =
      MOMENTS.has(k) && typeof v === 'number' && Number.isFinite(v) ? new Date(v).toISOString() : isoTimes(v);
  return out as T;
}
