import { contentHash } from '../domain/canonical.js';
import { TroupeError } from '../domain/errors.js';
import { HttpRefusal } from './http-errors.js';

/** What an entity tag names: a revision, and (in the tags this server gives) the content at it. */
export interface EntityTag {
  revision: number;
  /** The first 16 hex digits of the content's hash: a hand edit changes it, not the revision. */
  content?: string;
}

/** The part of a tag that names an entity's content (its hash without the store's metadata). */
export const contentTag = (entity: object): string => contentHash(entity).slice(0, 16);

/**
 * A version as an entity tag: strong, quoted, `"r<revision>-<content>"`. The content is in it
 * because a file edited by hand keeps its revision: a tag read before the edit no longer matches.
 */
export const etagOf = (revision: number, entity?: unknown): string =>
  entity !== null && typeof entity === 'object' && (entity as { revision?: unknown }).revision === revision
    ? `"r${revision}-${contentTag(entity)}"`
    : `"r${revision}"`;

/**
 * The version an `If-Match` names, for compare-and-swap; undefined without one. `*` (any
 * current version) is undefined too: the write goes through whatever the revision. A weak tag
 * never matches (RFC 9110 compares strongly): PRECONDITION_FAILED. One tag only; `"r<revision>"`
 * alone (no content) matches that revision whatever its content.
 */
export function ifMatchTag(header: string | undefined): EntityTag | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  if (/^\s*W\//.test(header))
    throw new HttpRefusal(
      'PRECONDITION_FAILED',
      'If-Match holds a weak tag (W/…): it never matches (send the ETag as given)',
    );
  const m = /^\s*"r(\d+)(?:-([0-9a-f]{16}))?"\s*$/.exec(header);
  if (!m)
    throw new TroupeError(
      'USAGE',
      'If-Match is not one entity tag this server gave ("r<revision>-<content>")',
      {
        context: { field: 'If-Match' },
      },
    );
  const revision = Number(m[1]);
  if (!Number.isSafeInteger(revision))
    throw new TroupeError('USAGE', `If-Match ${JSON.stringify(header)} names no revision this server gave`, {
      context: { field: 'If-Match' },
    });
  return m[2] ? { revision, content: m[2] } : { revision };
}

/** Whether an entity (as read now) is the version a tag names. */
export const matchesTag = (tag: EntityTag, entity: { revision?: number | undefined } | undefined): boolean =>
  (entity?.revision ?? 0) === tag.revision &&
  (tag.content === undefined || (entity !== undefined && contentTag(entity) === tag.content));

/** Whether an `If-None-Match` list names this ETag (or is `*`): compared weakly, as RFC 9110 says. */
export function noneMatchHolds(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => opaque(t) === opaque(etag));
}
