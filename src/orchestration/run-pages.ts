import type { RunSummary } from './run-log.js';

/** A place in the newest-first order of runs (see newestFirst): a run's, or a cursor's. */
export interface RunPosition {
  createdAt: number;
  runId: string;
}

/** What `RunLog.listPage` is asked for: at most `limit` runs, those after `after` (all: none given). */
export interface RunPageOptions {
  limit: number;
  after?: RunPosition | undefined;
}

/**
 * Newest first: the later createdAt, then the greater id in code-unit order (byte order for
 * the ASCII of a RUN_ID, which is PostgreSQL's C collation).
 */
export const newestFirst = (a: RunPosition, b: RunPosition): number =>
  a.createdAt !== b.createdAt
    ? b.createdAt - a.createdAt
    : a.runId < b.runId
      ? 1
      : a.runId > b.runId
        ? -1
        : 0;

/** How many runs a page of `limit` holds (as `slice` reads it): a whole number, 0 at least. */
export const pageSize = (limit: number): number => (Number.isNaN(limit) ? 0 : Math.max(0, Math.trunc(limit)));

/**
 * One page of `all`, newest first: the runs after `after`, at most `limit`. What every run
 * log's `listPage` answers, however it finds them.
 */
export function pageOfRuns(all: readonly RunSummary[], opts: RunPageOptions): RunSummary[] {
  const sorted = [...all].sort(newestFirst);
  const { after } = opts;
  const rest = after ? sorted.filter((r) => newestFirst(after, r) < 0) : sorted;
  return rest.slice(0, pageSize(opts.limit));
}

/** The runs of `all` whose id starts with `prefix`, in the order `all` has them. */
export const runsWithPrefix = (all: readonly RunSummary[], prefix: string): RunSummary[] =>
  all.filter((r) => r.runId.startsWith(prefix));
