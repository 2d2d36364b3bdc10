import { TroupeError } from '../domain/errors.js';

/**
 * The revision an update is compare-and-swapped against: the one asked for, or the `revision`
 * a patch carries (what `show -o json` printed, edited and given back), like kubectl's
 * resourceVersion. Both given and different is a usage error.
 */
export function expectedRevisionOf(
  patch: unknown,
  asked: number | undefined,
  /** Where the input came from, for the message: its file and the entity it changes. */
  at: { file?: string | undefined; entity?: string } = {},
): number | undefined {
  const carried =
    patch !== null && typeof patch === 'object' ? (patch as { revision?: unknown }).revision : undefined;
  if (carried === undefined || carried === null) return asked;
  // A revision given as anything but a whole number would be no revision at all: the change
  // would go in unchecked, over whatever was written since.
  if (typeof carried !== 'number' || !Number.isSafeInteger(carried) || carried < 0)
    throw new TroupeError(
      'VALIDATION_FAILED',
      `${at.file ? `${at.file}: ` : ''}${at.entity ? `${at.entity}: ` : ''}revision: must be the whole number the input was read at, got ${typeof carried === 'number' ? carried : `a ${Array.isArray(carried) ? 'list' : typeof carried}`}`,
      {
        issues: [
          {
            path: 'revision',
            message: 'must be a whole number (the revision the input was read at)',
            ...(at.file ? { file: at.file } : {}),
            ...(at.entity ? { entity: at.entity } : {}),
          },
        ],
      },
    );
  if (asked !== undefined && asked !== carried)
    throw new TroupeError(
      'USAGE',
      `the input carries revision ${carried} but the expected revision given is ${asked}: give one of them`,
      { context: { carried, asked } },
    );
  return carried;
}
