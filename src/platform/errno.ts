/** The `code` of a Node.js system error (`ENOENT`, `ENOSPC`, …), if it has one. */
export const errnoOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;

const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** A system error's message, with what to do when the disk (or the user's quota) is full. */
export function ioDetail(e: unknown): string {
  const detail = e instanceof Error ? e.message : String(e);
  return FULL.has(errnoOf(e) ?? '') ? `${detail} (the disk is full: free some space and try again)` : detail;
}
