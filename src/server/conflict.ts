import { diffFields, type FieldChange } from '../configuration/diff.js';
import { META_KEYS } from '../domain/common.js';
import { isTroupeError, TroupeError } from '../domain/errors.js';
import type { Kind, Store } from '../storage/store.js';
import { type EntityTag, etagOf, matchesTag } from './etag.js';

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
 * A tag that names the content too is checked against the entity as read now (`current`) first:
 * a file edited by hand since keeps its revision but not its content, and is not written over.
 */
export async function compareAndSwap<T>(
  store: Store,
  kind: Kind,
  id: string,
  tag: EntityTag | undefined,
  current: () => Promise<{ revision?: number | undefined } | undefined>,
  write: () => Promise<T>,
): Promise<T> {
  if (tag?.content !== undefined) {
    const now = await current();
    if (now !== undefined && now.revision === tag.revision && !matchesTag(tag, now))
      throw new PreconditionFailed(
        new TroupeError(
          'CONCURRENT_MODIFICATION',
          `${kind}/${id} was changed since ${etagOf(tag.revision)} was read, though not its revision (an edit by hand): read it again`,
          { context: { kind, id, expectedRevision: tag.revision, actualRevision: now.revision } },
        ),
        { expected: tagText(tag), current: etagOf(now.revision ?? 0, now), changed: [] },
      );
  }
  const expected = tag?.revision;
  try {
    return await write();
  } catch (e) {
    if (expected === undefined || !isTroupeError(e) || e.code !== 'CONCURRENT_MODIFICATION') throw e;
    const [now, stored] = [await current(), await store.get(kind, id)];
    const then = expected > 0 ? await store.readBackup?.(kind, id, expected) : undefined;
    throw new PreconditionFailed(e, {
      expected: tagText(tag!),
      current: now ? etagOf(now.revision ?? 0, now) : null,
      changed: then || expected === 0 ? diffFields(body(then as never), body(stored as never)) : [],
    });
  }
}

/** A tag as it was sent. */
const tagText = (tag: EntityTag) => `"r${tag.revision}${tag.content ? `-${tag.content}` : ''}"`;
