import type { StepContext } from '../orchestration/handlers.js';

/**
 * Time a step is allowed per document it plans, commits or checks, on top of its timeout: a
 * step's timeout bounds a call of ordinary size, and a bundle of 160,000 entities is not one.
 * About four times what the file store takes per document at its slowest measured.
 */
export const MS_PER_DOCUMENT = 2;

/** Pushes the step's deadline out to cover work on `documents` documents (a no-op when small). */
export function allowFor(ctx: StepContext | undefined, documents: number): void {
  if (documents > 0) ctx?.extendDeadline?.(documents * MS_PER_DOCUMENT);
}

/** How many entities a bundle names, whatever its shape (it is validated later). */
export function bundleSize(bundle: unknown): number {
  if (typeof bundle !== 'object' || bundle === null) return 0;
  let n = 0;
  for (const v of Object.values(bundle)) if (Array.isArray(v)) n += v.length;
  return n;
}
