import { TroupeError } from '../domain/errors.js';

/** A revision as an entity tag: strong, quoted. */
export const etagOf = (revision: number): string => `"r${revision}"`;

/**
 * The revision an `If-Match` names, for compare-and-swap; undefined without one. `*` (any
 * current version) is undefined too: the write goes through whatever the revision.
 */
export function ifMatchRevision(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const m = /^\s*(?:W\/)?"r(\d+)"\s*$/.exec(header);
  if (!m)
    throw new TroupeError(
      'USAGE',
      `If-Match ${JSON.stringify(header)} is not an entity tag this server gave ("r<revision>")`,
      {
        context: { field: 'If-Match' },
      },
    );
  return Number(m[1]);
}
