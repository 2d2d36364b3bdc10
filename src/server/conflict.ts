import { diffFields, type FieldChange } from '../configuration/diff.js';
import { META_KEYS } from '../domain/common.js';
import { isTroupeError } from '../domain/errors.js';
import type { Kind, Store } from '../storage/store.js';
import { etagOf } from './etag.js';

/** A refused compare-and-swap with what the 412 answer says of it. */
export class PreconditionFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly conflict: { expected: string; current: string | null; changed: FieldChange[] },
  ) {
    super('precondition failed');
  }
}

const body = (doc: Record<string, unknown> | undefined) => {
  if (!doc) return {};
  const out = { ...doc };
  for (const k of META_KEYS) delete out[k];
  return out;
};

/**
 * Runs a write that took `If-Match`; a CONCURRENT_MODIFICATION becomes PreconditionFailed with
 * the field-by-field change between the version asked for (its history row, if kept) and now.
 */
export async function compareAndSwap<T>(
  store: Store,
  kind: Kind,
  id: string,
  expected: number | undefined,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (expected === undefined || !isTroupeError(e) || e.code !== 'CONCURRENT_MODIFICATION') throw e;
    const current = await store.get(kind, id);
    const then = expected > 0 ? await store.readBackup?.(kind, id, expected) : undefined;
    throw new PreconditionFailed(e, {
      expected: etagOf(expected),
      current: current ? etagOf(current.revision) : null,
      changed: then || expected === 0 ? diffFields(body(then as never), body(current as never)) : [],
    });
  }
}
