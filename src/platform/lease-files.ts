import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The names of a file run log's lease files, the one place they are spelled: `<runId>.lease.<epoch>`
 * for a claim (created exclusively, so one claimant wins each epoch) and `<runId>.released.<epoch>`
 * once given back. Read by the run log, and by the file store to fence a taken-over run's writes.
 */
export const leaseFileName = (runId: string, epoch: number | '') => `${runId}.lease.${epoch}`;
export const releasedFileName = (runId: string, epoch: number | '') => `${runId}.released.${epoch}`;

/**
 * The epochs of a run's lease files among a folder's `names`, highest first (`live`: not given
 * back), and the highest ever claimed, released ones included (epochs only ever go up).
 */
export function leaseEpochsIn(
  names: readonly string[],
  runId: string,
): { live: number[]; released: number[]; max: number } {
  const epochs = (prefix: string) =>
    names
      .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
      .map((n) => Number(n.slice(prefix.length)))
      .sort((a, b) => b - a);
  const live = epochs(leaseFileName(runId, ''));
  const released = epochs(releasedFileName(runId, ''));
  return { live, released, max: Math.max(0, live[0] ?? 0, released[0] ?? 0) };
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)),
  );

/**
 * Whether a run whose lease files are kept in `dir` has been claimed since `epoch` (by another
 * process, or `workflow recover --force`): the later epoch, `'ended'` when that claim has
 * finished the run too (a finished run keeps no lease files), undefined when it has not been
 * claimed, or when no file of it is here (its log is elsewhere). Every claim creates its
 * epoch's file before it removes older ones, lowest first, so while the file of `epoch` is
 * there, any later claim has left that of `epoch + 1` (live or released): a few lookups, not a
 * listing of every run's files, unless one of them says the run has moved on.
 */
export async function claimedSince(
  dir: string,
  runId: string,
  epoch: number,
  /** The run's log is kept in `dir` for certain: nothing of it there means it ended (pruned since). */
  kept = false,
): Promise<number | 'ended' | undefined> {
  const moved =
    (await exists(join(dir, leaseFileName(runId, epoch + 1)))) ||
    (await exists(join(dir, releasedFileName(runId, epoch + 1)))) ||
    !(await exists(join(dir, leaseFileName(runId, epoch))));
  if (!moved) return undefined;
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT' ? [] : Promise.reject(e),
  );
  const { max } = leaseEpochsIn(names, runId);
  if (max > epoch) return max;
  // Its own file gone and none later: the run ended under another holder, if it is logged here.
  return kept || names.some((n) => n.startsWith(`${runId}.`)) ? 'ended' : undefined;
}
