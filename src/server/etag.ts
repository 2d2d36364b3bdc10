import { TroupeError } from '../domain/errors.js';
import { HttpRefusal } from './http-errors.js';

/** A revision as an entity tag: strong, quoted. */
export const etagOf = (revision: number): string => `"r${revision}"`;

/**
 * The revision an `If-Match` names, for compare-and-swap; undefined without one. `*` (any
 * current version) is undefined too: the write goes through whatever the revision. A weak tag
 * never matches (RFC 9110 compares strongly): PRECONDITION_FAILED. One tag only.
 */
export function ifMatchRevision(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  if (/^\s*W\//.test(header))
    throw new HttpRefusal(
      'PRECONDITION_FAILED',
      'If-Match holds a weak tag (W/…): it never matches (send the ETag as given)',
    );
  const m = /^\s*"r(\d+)"\s*$/.exec(header);
  if (!m)
    throw new TroupeError('USAGE', 'If-Match is not one entity tag this server gave ("r<revision>")', {
      context: { field: 'If-Match' },
    });
  const revision = Number(m[1]);
  if (!Number.isSafeInteger(revision))
    throw new TroupeError('USAGE', `If-Match ${JSON.stringify(header)} names no revision this server gave`, {
      context: { field: 'If-Match' },
    });
  return revision;
}
