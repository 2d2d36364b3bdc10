import { TroupeError } from '../domain/errors.js';

/**
 * The revision an update is compare-and-swapped against: the one asked for, or the `revision`
 * a patch carries (what `show -o json` printed, edited and given back), like kubectl's
 * resourceVersion. Both given and different is a usage error.
 */
export function expectedRevisionOf(patch: unknown, asked: number | undefined): number | undefined {
  const carried =
    patch !== null && typeof patch === 'object' ? (patch as { revision?: unknown }).revision : undefined;
  if (typeof carried !== 'number') return asked;
  if (asked !== undefined && asked !== carried)
    throw new TroupeError(
      'USAGE',
      `the input carries revision ${carried} but the expected revision given is ${asked}: give one of them`,
      { context: { carried, asked } },
    );
  return carried;
}
